#!/usr/bin/env python3
"""The HTTP routes of inferenced, dapi and mlnode, read from the sources' route tables, and a check that
docs/api.md documents exactly those routes (so the reference cannot drift from the code).

  scripts/api_routes.py list            one line per route: SERVICE METHOD PATH FILE:LINE
  scripts/api_routes.py markdown        the route tables of docs/api.md as a starting point (method, path, source)
  scripts/api_routes.py check [DOC]     exit 1, listing the differences, unless DOC (default docs/api.md) documents
                                        every route of the code and no other

Where routes come from (grep `.add(` / `.add_stream(`):
  - net::Router / mlnode's VersionedRouter: `r.add("GET", "/path", handler)`, `r.add_stream("POST", ...)`;
  - the chain's app queries (chain::app::QueryRouter): `router.add("/inference/...", handler)`, all GET, served by
    inferenced's RPC behind its catch-all route.
A path may be a concatenation of literals and loop variables of a `for (... name : {"a", "b"})` around the call
(both are expanded); anything else is reported as an error, never skipped.

In docs/api.md a route table follows a marker line `<!-- routes: SERVICE -->`; its rows start with
`| METHOD | `PATH` |` (one route per row). Services: see SERVICES below.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# service key -> what it is (used in messages and in `markdown`)
SERVICES = {
    "inferenced": "inferenced RPC (`inferenced start --rpc-addr`)",
    "inferenced-query": "inferenced app queries (GET, also `?height=H`)",
    "dapi-public": "dapi public server (`servers.public`)",
    "dapi-admin": "dapi admin server (`servers.admin`, loopback + Bearer token)",
    "dapi-callback": "dapi MLNode callback server (`servers.mlnode_callback`)",
    "mlnode-poc": "mlnode management/PoC port (`--poc-port`)",
    "mlnode-inference": "mlnode inference port (`--inference-port`)",
}

# Files that register routes but are not part of a served binary (test tools) or only forward registrations.
SKIP_FILES = {
    "src/api/dispatch/probe_main.cpp",  # dapi_broker_probe: a test driver's own callback server
    "src/mlnode/versioned_routes.cpp",  # VersionedRouter's implementation (registers what app.cpp gives it)
}
SCAN_DIRS = ["src/node", "src/chain", "src/api", "src/mlnode"]
METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}

CALL = re.compile(r"\b(\w+)\s*(?:\.|->)\s*(add|add_stream)\s*\(")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
FOR_LIST = re.compile(r"for\s*\(\s*(?:const\s+)?[\w:<>]+\s*&?\s*(\w+)\s*:\s*\{([^}]*)\}\s*\)")
FUNCTION = re.compile(r"^[A-Za-z_][\w:<>\s\*&]*?\b(\w+)\s*\([^;{]*\)\s*(?:const\s*)?\{", re.M)


class RouteError(Exception):
    pass


def classify(rel, function, query):
    """Which server a route registered in `rel` (inside `function`) belongs to."""
    if query:
        return "inferenced-query"
    if rel.startswith("src/node/rpc/"):
        return "inferenced"
    if rel == "src/api/server/admin_server.cpp":
        return "dapi-admin"
    if rel == "src/api/server/callback_server.cpp":
        return "dapi-callback"
    if rel.startswith("src/api/"):
        return "dapi-public"
    if rel.startswith("src/mlnode/"):
        if "management" in function or "poc" in function:
            return "mlnode-poc"
        if "inference" in function:
            return "mlnode-inference"
    raise RouteError(f"{rel}: route registered in {function}() belongs to no known server; "
                     "teach scripts/api_routes.py classify() where it is served")


def split_args(text, start):
    """Top-level arguments of the call whose '(' is at text[start-1]; stops at the matching ')'."""
    args, depth, cur, i = [], 0, [], start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            cur.append(c)
            if c == "\\":
                cur.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            if len(args) >= 2:  # method and path are all we need; the handler may be long
                return args
        else:
            cur.append(c)
        i += 1
    raise RouteError("unterminated call")


def loop_values(text, pos, name):
    """Values of `name` when the call at `pos` sits in `for (... name : {"a", "b"})`."""
    window = text[max(0, pos - 3000):pos]
    found = None
    for m in FOR_LIST.finditer(window):
        if m.group(1) == name:
            found = STRING.findall(m.group(2))
    return found


def expand_path(expr, text, pos):
    """All values a path expression ("lit" + var + "lit") takes."""
    results = [""]
    for part in [p.strip() for p in expr.split("+")]:
        m = STRING.fullmatch(part)
        if m:
            values = [m.group(1)]
        elif re.fullmatch(r"\w+", part):
            values = loop_values(text, pos, part)
            if not values:
                raise RouteError(f"cannot resolve '{part}' in route path {expr}")
        else:
            raise RouteError(f"cannot read route path {expr}")
        results = [r + v for r in results for v in values]
    return results


def enclosing_function(text, pos):
    name = ""
    for m in FUNCTION.finditer(text, 0, pos):
        name = m.group(1)
    return name


def routes(root=ROOT):
    """[(service, method, path, 'file:line')] in source order; raises RouteError for what it cannot read."""
    out = []
    for d in SCAN_DIRS:
        for dirpath, _, files in sorted(os.walk(os.path.join(root, d))):
            for f in sorted(files):
                if not f.endswith(".cpp"):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                if rel in SKIP_FILES:
                    continue
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
                for m in CALL.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    where = f"{rel}:{line}"
                    try:
                        args = split_args(text, m.end())
                    except RouteError as e:
                        raise RouteError(f"{where}: {e}")
                    if not args:
                        continue
                    first = STRING.fullmatch(args[0])
                    if first and first.group(1) in METHODS and len(args) >= 2:
                        method, expr, query = first.group(1), args[1], False
                    elif first and first.group(1).startswith("/"):
                        method, expr, query = "GET", args[0], True
                    else:
                        continue  # not a route: keyring.add("name"), mempool_.add(hash, tx), ...
                    try:
                        paths = expand_path(expr, text, m.start())
                        service = classify(rel, enclosing_function(text, m.start()), query)
                    except RouteError as e:
                        raise RouteError(f"{where}: {e}")
                    for p in paths:
                        out.append((service, method, p, where))
    return out


ROW = re.compile(r"^\|\s*`?([A-Z]+)`?\s*\|\s*`([^`]+)`")
MARKER = re.compile(r"^\s*<!--\s*routes:\s*([\w-]+)\s*-->\s*$")


def documented(doc_path):
    """{service: {(method, path): line}} from the marked tables of the doc."""
    out = {}
    service = None
    with open(doc_path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for n, line in enumerate(lines, 1):
        m = MARKER.match(line)
        if m:
            service = m.group(1)
            if service not in SERVICES:
                raise RouteError(f"{doc_path}:{n}: unknown service '{service}' (known: {', '.join(SERVICES)})")
            out.setdefault(service, {})
            continue
        if service is None:
            continue
        if line.startswith("|"):
            r = ROW.match(line)
            if r and r.group(1) in METHODS:
                key = (r.group(1), r.group(2))
                if key in out[service]:
                    raise RouteError(f"{doc_path}:{n}: {key[0]} {key[1]} listed twice for {service}")
                out[service][key] = n
        elif line.strip() and not line.startswith("<!--"):
            service = None  # the table ended
    return out


def check(doc_path):
    code = {}
    for service, method, path, where in routes():
        code.setdefault(service, {})[(method, path)] = where
    doc = documented(doc_path)
    problems = []
    for service in SERVICES:
        c, d = code.get(service, {}), doc.get(service, {})
        if c and service not in doc:
            problems.append(f"{doc_path}: no route table for {service} (a line `<!-- routes: {service} -->`)")
        for key, where in sorted(c.items()):
            if key not in d:
                problems.append(f"missing in {doc_path}: {service} {key[0]} {key[1]} (registered at {where})")
        for key, line in sorted(d.items()):
            if key not in c:
                problems.append(f"{doc_path}:{line}: {service} {key[0]} {key[1]} is not a route in the code")
    return problems


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "list"
    try:
        if cmd == "list":
            for r in routes():
                print(" ".join(r))
            return 0
        if cmd == "markdown":
            current = None
            for service, method, path, where in sorted(routes(), key=lambda r: list(SERVICES).index(r[0])):
                if service != current:
                    print(f"\n{SERVICES[service]}\n\n<!-- routes: {service} -->\n| method | path | source |\n|---|---|---|")
                    current = service
                print(f"| {method} | `{path}` | `{where.split(':')[0]}` |")
            return 0
        if cmd == "check":
            doc = argv[2] if len(argv) > 2 else os.path.join(ROOT, "docs", "api.md")
            problems = check(doc)
            for p in problems:
                print(p)
            if problems:
                print(f"{len(problems)} difference(s): update {doc} (scripts/api_routes.py markdown prints the tables)")
                return 1
            n = len(routes())
            print(f"ok: {doc} documents all {n} routes of the code and no other")
            return 0
    except RouteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
