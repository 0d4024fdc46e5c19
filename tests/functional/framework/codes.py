"""The chain's result codes by constant name, read from docs/errors.md's table (which the unit test
CodesDoc.TableMatchesTheConstants keeps equal to src/common/tx/codes.h), so tests match (codespace, code) through
the same names as dapi and never a log text or a number typed twice."""
import functools
import os
import re

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@functools.lru_cache(maxsize=1)
def _table():
    out = {}
    with open(os.path.join(_ROOT, "docs", "errors.md")) as f:
        for line in f:
            m = re.match(r"^\| (\d+) \| ?(\w*) ?\| `(k\w+)` \|", line)
            if m:
                out[m.group(3)] = (m.group(2), int(m.group(1)))
    return out


def result_code(name):
    """(codespace, code) of the constant `name`, e.g. result_code("kPocBatchWindowClosed") == ("inference", 1304)."""
    return _table()[name]
