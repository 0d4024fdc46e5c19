"""The network of `make run` (scripts/localnet.py) for functional tests: skip without the real model, free ports."""
import os
import random
import subprocess
import sys

import pytest

from .mlnode import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
import localnet  # noqa: E402  scripts/localnet.py

VENV_PYTHON = os.path.join(REPO_ROOT, ".venv", "bin", "python")


def require_real_model():
    """The SmolLM2 GGUF file's path; skips the test, naming what is missing, unless .venv has llama.cpp's server and
    that file (scripts/setup installs both)."""
    if not os.path.exists(VENV_PYTHON):
        pytest.skip(f"no virtual environment at {os.path.dirname(os.path.dirname(VENV_PYTHON))}: run scripts/setup")
    r = subprocess.run([os.path.join(REPO_ROOT, "scripts", "real-model-path")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"real model not installed: {r.stderr.strip()}")
    check = subprocess.run([VENV_PYTHON, "-c", "import llama_cpp.server"], capture_output=True, text=True)
    if check.returncode != 0:
        pytest.skip(f"llama-cpp-python[server] not importable in .venv (run scripts/setup): "
                    f"{check.stderr.strip()[-300:]}")
    return r.stdout.strip()


_handed_out = set()


def free_port_block(count):
    """A base port with `count` free ports from it on, none handed out before by this process, below the ephemeral
    range that other tests' free ports (framework.free_port) come from."""
    for _ in range(200):
        base = random.randrange(20000, 32000 - count)
        block = set(range(base, base + count))
        if not block & _handed_out and all(localnet.port_free(p) for p in block):
            _handed_out.update(block)
            return base
    raise RuntimeError("no free block of ports")
