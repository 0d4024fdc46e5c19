#!/usr/bin/env python3
"""Checks that keep the documentation true to the repository.

  scripts/check_docs.py links              every relative link in README.md and docs/*.md (and the other .md files
                                           listed in LINKED_DOCS) resolves to a file of the repository (and a
                                           heading, for #anchors); no link leaves the repository; README.md has no
                                           external links at all; docs/*.md may link http(s) URLs only
  scripts/check_docs.py names              every name in backticks in the table after `<!-- names -->` in
                                           docs/architecture.md (functions, types, events, paths) exists in src/,
                                           proto/ or deploy/, so "where each seed task lives" stays grep-able
  scripts/check_docs.py flags BIN_DIR      every command-line option that `--help` of the commands in FLAG_TABLES
                                           prints is in the matching table of docs/configuration.md, and the table
                                           lists no option the program lacks

A flag table follows a line `<!-- flags: PROGRAM SUBCOMMAND -->`; its rows start with `| `--option` |`.
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINKED_DOCS = ["README.md", "src/mlnode/README.md", "deploy/nginx/README.md"]
FLAG_TABLES = [("inferenced", "init"), ("inferenced", "start"), ("dapi", "init"), ("dapi", "start"),
               ("mlnode", "start")]

LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*```")


def strip_code(text):
    """Text without fenced code blocks and inline code, where brackets are not links."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else re.sub(r"`[^`]*`", "", line))
    return out


def slug(heading):
    """GitHub's anchor of a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    out = set()
    with open(path, encoding="utf-8") as fh:
        fenced = False
        for line in fh:
            if FENCE.match(line):
                fenced = not fenced
            elif not fenced and line.startswith("#"):
                out.add(slug(line.lstrip("#")))
    return out


def check_links():
    files = [os.path.join(ROOT, f) for f in LINKED_DOCS if os.path.exists(os.path.join(ROOT, f))]
    files += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    problems, count = [], 0
    for path in files:
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
        lines = strip_code(raw)
        if rel == "README.md":  # a path in backticks that leaves the repository is a link in all but name
            for n, line in enumerate(raw.splitlines(), 1):
                for m in re.finditer(r"`(\.\./[^`]*)`", line):
                    problems.append(f"README.md:{n}: `{m.group(1)}` points outside the repository")
        for n, line in enumerate(lines, 1):
            for m in LINK.finditer(line):
                target = m.group(2)
                count += 1
                where = f"{rel}:{n}: [{m.group(1)}]({target})"
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    if rel == "README.md":
                        problems.append(f"{where}: README.md links only to files inside the repository")
                    elif not target.startswith(("http://", "https://")):
                        problems.append(f"{where}: only http(s) URLs may leave the repository")
                    continue
                file_part, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
                if os.path.relpath(dest, ROOT).startswith(".."):
                    problems.append(f"{where}: points outside the repository")
                    continue
                if not os.path.exists(dest):
                    problems.append(f"{where}: no such file {os.path.relpath(dest, ROOT)}")
                    continue
                if anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    problems.append(f"{where}: no heading #{anchor} in {os.path.relpath(dest, ROOT)}")
    return problems, count, len(files)


OPTION = re.compile(r"^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)")
FLAG_ROW = re.compile(r"^\|\s*`(--[a-z][a-z0-9-]*)")


def help_options(bin_dir, program, sub):
    out = subprocess.run([os.path.join(bin_dir, program), sub, "--help"], capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"{program} {sub} --help exited {out.returncode}: {out.stderr}")
    return {m.group(1) for line in out.stdout.splitlines() if (m := OPTION.match(line))} - {"--help"}


def documented_flags(doc):
    tables, current = {}, None
    with open(doc, encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"^\s*<!--\s*flags:\s*(\w+)\s+(\w+)\s*-->\s*$", line)
            if m:
                current = (m.group(1), m.group(2))
                tables[current] = set()
            elif current and line.startswith("|"):
                r = FLAG_ROW.match(line)
                if r:
                    tables[current].add(r.group(1))
            elif current and line.strip():
                current = None
    return tables


def check_flags(bin_dir):
    doc = os.path.join(ROOT, "docs", "configuration.md")
    tables = documented_flags(doc)
    problems, checked = [], 0
    for program, sub in FLAG_TABLES:
        if not os.path.exists(os.path.join(bin_dir, program)):
            problems.append(f"{bin_dir}/{program} is not built")
            continue
        have = help_options(bin_dir, program, sub)
        checked += len(have)
        if (program, sub) not in tables:
            problems.append(f"{doc}: no table `<!-- flags: {program} {sub} -->`")
            continue
        for f in sorted(have - tables[(program, sub)]):
            problems.append(f"missing in {doc}: `{program} {sub} {f}`")
        for f in sorted(tables[(program, sub)] - have):
            problems.append(f"{doc}: `{program} {sub} {f}` is not an option of the program")
    return problems, checked


def check_names():
    doc = os.path.join(ROOT, "docs", "architecture.md")
    names, in_table = [], False
    with open(doc, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip() == "<!-- names -->":
                in_table = True
            elif in_table and line.startswith("|"):
                names += [(n, t) for t in re.findall(r"`([^`]+)`", line)]
            elif in_table and line.strip():
                in_table = False
    corpus = []
    for d in ("src", "proto", "deploy"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for f in files:
                if f.endswith((".cpp", ".h", ".proto", ".template", ".py")):
                    with open(os.path.join(dirpath, f), encoding="utf-8", errors="replace") as fh:
                        corpus.append(fh.read())
    text = "\n".join(corpus)
    problems = []
    for n, name in names:
        if "/" in name and os.path.exists(os.path.join(ROOT, name)):
            continue
        probe = name.split("::")[-1].rstrip("()").split(" ")[0]
        if probe and probe not in text:
            problems.append(f"docs/architecture.md:{n}: `{name}` is not in src/, proto/ or deploy/")
    if not names:
        problems.append("docs/architecture.md: no `<!-- names -->` table")
    return problems, len(names)


def main(argv):
    if len(argv) >= 2 and argv[1] == "links":
        problems, count, files = check_links()
        for p in problems:
            print(p)
        if not problems:
            print(f"ok: {count} links in {files} files resolve inside the repository")
        return 1 if problems else 0
    if len(argv) >= 2 and argv[1] == "names":
        problems, count = check_names()
        for p in problems:
            print(p)
        if not problems:
            print(f"ok: all {count} names of docs/architecture.md's seed table exist in the sources")
        return 1 if problems else 0
    if len(argv) >= 3 and argv[1] == "flags":
        problems, checked = check_flags(argv[2])
        for p in problems:
            print(p)
        if not problems:
            print(f"ok: docs/configuration.md documents all {checked} options of {len(FLAG_TABLES)} commands")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
