#!/usr/bin/env python3
"""Checks that the sources of each target can be compiled as one unity translation unit without a silent change.

The release preset compiles each target's .cpp files in batches (CMake UNITY_BUILD, CMakeLists.txt). Two files of one
target that define a file-local function (anonymous namespace or `static`) of the same name in the same namespace
then share one overload set: the same signature fails to compile, but different signatures compile and a call may
silently pick the other file's function. A file-scope `using namespace` in src/ leaks into the files after it the
same way. This script lists both, per target, from the build's compile_commands.json and universal-ctags.

usage: check_unity_names.py BUILD_DIR      exit 0: none found; 1: each finding printed with its files
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys

UNITY_INCLUDE = re.compile(r'^#include "([^"]+\.cpp)"', re.M)
# Debian installs universal-ctags as ctags-universal (and `ctags` only through alternatives).
CTAGS = shutil.which("ctags-universal") or shutil.which("ctags") or "ctags"
TARGET_DIR = re.compile(r"CMakeFiles/([^/]+)\.dir/")


def target_sources(build_dir):
    """{target: [source paths]} from compile_commands.json; unity batch files are expanded to their sources."""
    with open(os.path.join(build_dir, "compile_commands.json"), encoding="utf-8") as f:
        commands = json.load(f)
    out = collections.defaultdict(set)
    for c in commands:
        m = TARGET_DIR.search(c.get("output", "") or c["command"])
        if not m:
            continue
        src = c["file"]
        if "/Unity/unity_" in src:
            with open(src, encoding="utf-8") as f:
                out[m.group(1)].update(UNITY_INCLUDE.findall(f.read()))
        elif src.endswith(".cpp"):
            out[m.group(1)].add(src)
    return {t: sorted(s) for t, s in out.items()}


def file_local_names(paths):
    """[(namespace, name, path, kind)] of functions, types and variables defined in an anonymous namespace or as `static` at namespace scope."""
    res = subprocess.run([CTAGS, "--output-format=json", "--fields=+KsZx", "--kinds-c++=fcsugv", "-o", "-", *paths],
                         check=True, capture_output=True, text=True)
    out = []
    for line in res.stdout.splitlines():
        tag = json.loads(line)
        if tag.get("_type") != "tag":
            continue
        scope = tag.get("scope", "")
        local = "__anon" in scope or ("static" in tag.get("properties", "") and tag.get("scopeKind", "namespace") == "namespace")
        if not local or tag.get("scopeKind", "namespace") != "namespace":
            continue
        if re.fullmatch(r"[A-Z_0-9]+", tag["name"]):
            continue  # a macro call at namespace scope (TEST, TEST_F) that ctags reads as a function
        ns = "::".join(p for p in scope.split("::") if not p.startswith("__anon"))
        out.append((ns, tag["name"], tag["path"], tag.get("kind", "name")))
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    findings = []
    targets = target_sources(sys.argv[1])
    for target, paths in sorted(targets.items()):
        if len(paths) < 2:
            continue
        where = collections.defaultdict(set)
        for ns, name, path, kind in file_local_names(paths):
            where[(ns, name, kind)].add(os.path.relpath(path, root))
        for (ns, name, tag_kind), files in sorted(where.items()):
            if len(files) > 1:
                findings.append(f"{target}: file-local {tag_kind} {ns + '::' if ns else ''}{name} in {', '.join(sorted(files))}")
        for path in paths:
            rel = os.path.relpath(path, root)
            if not rel.startswith("src/"):
                continue
            with open(path, encoding="utf-8") as f:
                for n, text in enumerate(f, 1):
                    if text.startswith("using namespace "):
                        findings.append(f"{target}: {rel}:{n}: file-scope '{text.strip()}' leaks into the next file")
    for f in findings:
        print(f)
    if findings:
        print(f"{len(findings)} finding(s): give each file-local helper a name of its own, or move it to a shared header "
              "(see CMakeLists.txt, UNITY_BUILD)")
        return 1
    print(f"unity check: {len(targets)} targets, no shared file-local names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
