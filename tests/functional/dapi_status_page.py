"""dapi's status page (issue 15 item 4), loaded in headless Chromium (the Debian package `chromium`, which
scripts/setup installs) the way a person opens it: a solo chain with 60-block epochs at 250 ms; alice runs a dapi
with two builtin-backend MLNodes serving Qwen2.5-7B; her dapi mines the first PoC, the genesis validator validates
it by hand and after the switch alice serves the epoch. A chat completion through alice's dapi is paid on chain.

Checked on the page as Chromium renders it after its script has refreshed it from GET /v1/status (the body's
data-refreshes counter counts the script's refreshes): the block height shown grows between two loads and matches
the chain; the epoch index and phase are the chain's and the stage heights are listed; alice's two nodes are listed
with their state, model, MLNode version and weight; the epoch's participants are listed with their weights (alice
marked as this participant); the completion made by the test is listed with the tokens, cost, executor and height
of its chain record, also after alice's dapi restarted (it reads the blocks before the one it resumes from). The
page loads nothing from elsewhere (its CSP header allows only its own inline style and script and fetches to this
origin), and neither it nor /v1/status carries the admin token, the API key or an MLNode address (escaping of chain
strings is covered by tests/unit/api/status). Without JavaScript the server-rendered page shows the same. Screenshots
(with and without JavaScript) are written to <build dir>/test-output/dapi_status_page/."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from html.parser import HTMLParser

import pytest

from framework import http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry
from framework.process import build_dir

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-alice-0123456789"
EPOCH_LENGTH = 60
BLOCK_MS = 250


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is not installed (Debian package `chromium`): run scripts/setup, which installs it")


def browse(url, profile, *extra):
    """Runs headless Chromium on `url` with `extra` flags (--dump-dom, --screenshot=...); returns its stdout.
    Every host name but 127.0.0.1 fails to resolve, so the browser reaches nothing but the local dapi."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
           f"--user-data-dir={profile}", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
           *extra, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, f"chromium exited with {r.returncode}:\n{r.stderr[-3000:]}"
    return r.stdout


class Page(HTMLParser):
    """The parts of the rendered status page the test reads: the text of elements with an id, the attributes of
    <body>, and the rows of each table body (row attributes, and the text of each cell by its class: the first one
    that is not a styling class, "num" or "mono")."""

    def __init__(self, html):
        super().__init__()
        self.text = {}       # id -> text
        self.body = {}
        self.tables = {}     # tbody id -> [{"attrs": {...}, "cells": {class: text}}]
        self._open = []      # stack of (tag, id or None)
        self._tbody = None
        self._row = None
        self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        if tag in ("meta", "br", "img", "input", "link"):
            return
        self._open.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.text[attrs["id"]] = ""
        if tag == "tbody":
            self._tbody = attrs.get("id")
            self.tables[self._tbody] = []
        elif tag == "tr" and self._tbody:
            self._row = {"attrs": attrs, "cells": {}}
            self.tables[self._tbody].append(self._row)
        elif tag == "td" and self._row is not None:
            classes = (attrs.get("class") or "").split()
            self._cell = next((c for c in classes if c not in ("num", "mono")), classes[0] if classes else "")
            self._row["cells"][self._cell] = ""

    def handle_endtag(self, tag):
        while self._open:
            t, _ = self._open.pop()
            if t == tag:
                break
        if tag == "tbody":
            self._tbody = None
        elif tag == "tr":
            self._row = None
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        for _, eid in self._open:
            if eid:
                self.text[eid] += data
        if self._row is not None and self._cell is not None:
            self._row["cells"][self._cell] += data

    def rows(self, tbody, key):
        """{row attribute `key`: cells} of one table body."""
        return {r["attrs"][key]: r["cells"] for r in self.tables.get(tbody, []) if key in r["attrs"]}


def load(url, profile):
    """The page after its script refreshed it at least once (virtual time lets the 3 s timer fire quickly)."""
    page = Page(browse(url, profile, "--virtual-time-budget=8000", "--dump-dom"))
    assert int(page.body.get("data-refreshes", "0")) >= 1, (
        "the page's script did not refresh it from /v1/status: " + page.text.get("live", ""))
    return page


def test_status_page_in_headless_chromium(workdir, procs):
    chromium()  # fails at once, naming scripts/setup, when the browser is missing
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=EPOCH_LENGTH, epoch_shift=0)
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    alice_p = Participant(procs, workdir, node, "alice", version, n_mlnodes=2, mlnode_args=POC_MLNODE_ARGS)
    alice_p.fund().start_mlnodes()
    alice_p.dapi.configure([node_entry(nid, m, [Q7B]) for nid, m in zip(alice_p.node_ids, alice_p.mlnodes)],
                           api_keys=[KEY]).start()
    alice = alice_p.dapi

    # The first PoC: alice mines, the genesis validator (epoch 0's weight) validates her by hand.
    e = wait_until(lambda: (lambda x: x if x["upcoming_epoch_index"] is not None else None)(
        node.query("/inference/epoch")), timeout=60, what="the first PoC")
    node.wait_height(e["stages"]["validation_start"])
    node.tx("inference", "submit-poc-validation", alice.address, "--from", "validator")
    node.wait_height(e["stages"]["set_new_validators"] + 1)
    wait_until(lambda: any((mlnode_state(m) or {}).get("state") == "INFERENCE" for m in alice_p.mlnodes),
               timeout=30, what="an MLNode serving the model")

    # One paid completion through alice's dapi.
    status, body = http_request("POST", alice.public_url + "/v1/chat/completions",
                                {"model": Q7B, "max_tokens": 24,
                                 "messages": [{"role": "user", "content": "Name three colours."}]},
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert status == 200, body
    done = json.loads(body)
    wait_until(lambda: node.query(f"/inference/inferences/{done['id']}")["inference"]["status"] == "FINISHED",
               timeout=30, what="the completion to finish on chain")
    record = node.query(f"/inference/inferences/{done['id']}")["inference"]
    tokens = record["prompt_tokens"] + record["completion_tokens"]
    assert tokens == done["usage"]["prompt_tokens"] + done["usage"]["completion_tokens"] > 0, (record, done)
    assert int(record["cost"]) > 0, record

    # The JSON the page refreshes from: public facts only.
    wait_until(lambda: any(i["id"] == done["id"] for i in json.loads(
        http_request("GET", alice.public_url + "/v1/status")[1])["inferences"]), timeout=30,
        what="the completion in /v1/status")
    status, text = http_request("GET", alice.public_url + "/v1/status")
    assert status == 200, text
    for secret in (alice.token, KEY, f"127.0.0.1:{alice_p.mlnodes[0].inference_port}",
                   str(alice_p.mlnodes[0].poc_port)):
        assert secret not in text, f"{secret!r} on the public /v1/status"
    with urllib.request.urlopen(alice.public_url + "/", timeout=10) as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert resp.headers["Content-Type"].startswith("text/html"), resp.headers
        served = resp.read().decode()
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp, csp
    assert alice.token not in served and KEY not in served

    profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
    first = load(alice.public_url + "/", profile)
    chain_height = node.height()
    height1 = int(first.text["height"])
    assert 0 < height1 <= chain_height, (height1, chain_height)
    second = wait_until(lambda: (lambda p: p if int(p.text["height"]) > height1 else None)(
        load(alice.public_url + "/", profile)), timeout=30, what="a greater height on the page")
    assert "live" in second.text["live"], second.text["live"]

    # Epoch and phase as the chain has them (the page may be a block behind the query).
    epoch = node.query("/inference/epoch")
    assert second.text["epoch-index"].strip() == str(epoch["epoch_index"]) >= "1", (second.text, epoch)
    phases = {"inference", "poc_generate", "poc_generate_wind_down", "poc_validate", "poc_validate_wind_down",
              "model_loading"}
    assert second.text["phase"].strip() in phases, second.text["phase"]
    stages = second.rows("stages-body", "data-stage")
    assert int(stages["set_new_validators"]["height"]) == epoch["stages"]["set_new_validators"], stages
    assert int(stages["poc_start"]["height"]) == epoch["stages"]["poc_start"], stages

    # alice's nodes: state, model, version, weight (her epoch weight comes from their PoC).
    nodes = second.rows("nodes-body", "data-node-id")
    assert sorted(nodes) == sorted(alice_p.node_ids), nodes
    group = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]
    chain_nodes = {n["node_id"]: n for m in group["validation_weights"] if m["member_address"] == alice.address
                   for n in m["ml_nodes"]}
    for nid, cells in nodes.items():
        assert cells["model"] == Q7B and Q7B in cells["models"], cells
        assert cells["status"].strip() in ("INFERENCE", "POC", "STOPPED", "FAILED", "UNKNOWN"), cells
        assert cells["version"] == version, cells
        assert int(cells["weight"]) == chain_nodes[nid]["poc_weight"] > 0, (nid, cells, chain_nodes)
    assert any(c["status"].strip() == "INFERENCE" for c in nodes.values()), nodes

    # The epoch's participants with their weights.
    parent = node.query("/inference/epoch-groups/current")["epoch_group"]
    members = second.rows("participants-body", "data-address")
    assert set(members) == {m["member_address"] for m in parent["validation_weights"]}, (members, parent)
    for m in parent["validation_weights"]:
        assert int(members[m["member_address"]]["weight"]) == m["weight"], (members, m)
    assert "this participant" in members[alice.address]["address"], members
    assert int(members[alice.address]["weight"]) > 0

    # The completion with the tokens and cost of its chain record.
    inferences = second.rows("inferences-body", "data-inference-id")
    assert done["id"] in inferences, inferences
    row = inferences[done["id"]]
    assert row["id"] == done["id"] and row["model"] == Q7B, row
    assert int(row["tokens"]) == tokens, (row, record)
    assert row["cost"] == f'{record["cost"]} nicoin', (row, record)
    assert row["executor"] == f'{record["executor"]} / {record["executor_node"]}', (row, record)
    assert int(row["height"]) == record["finish_height"], (row, record)

    # Without JavaScript the server-rendered page shows the same (and a <noscript> meta refresh reloads it).
    with urllib.request.urlopen(alice.public_url + "/", timeout=10) as resp:
        served = resp.read().decode()
    static = Page(served)
    assert static.body.get("data-refreshes") == "0" and static.text["live"] == "server-rendered", static.body
    assert int(static.text["height"]) >= height1 and static.text["phase"].strip() in phases, static.text
    assert sorted(static.rows("nodes-body", "data-node-id")) == sorted(alice_p.node_ids), static.tables
    assert alice.address in static.rows("participants-body", "data-address"), static.tables
    assert static.rows("inferences-body", "data-inference-id")[done["id"]]["cost"] == row["cost"], static.tables

    # The screenshots a person would look at (with and without JavaScript).
    out = os.path.join(build_dir(), "test-output", "dapi_status_page")
    os.makedirs(out, exist_ok=True)
    nojs = os.path.join(workdir, "status_page_nojs.html")  # the page as served, its script left out
    with open(nojs, "w") as f:
        f.write(served[:served.index("<script>")] + served[served.index("</script>") + len("</script>"):])
    for name, url in (("status_page.png", alice.public_url + "/"), ("status_page_nojs.png", "file://" + nojs)):
        png = os.path.join(out, name)
        if os.path.exists(png):
            os.remove(png)
        browse(url, profile, "--virtual-time-budget=8000", "--window-size=1400,1500", f"--screenshot={png}",
               "--hide-scrollbars")
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", png
        print(f"screenshot: {png}")

    # After a restart dapi reads the blocks before the one it resumes from: the completion is still listed.
    alice.stop()
    alice.start()
    again = load(alice.public_url + "/", profile)
    row = again.rows("inferences-body", "data-inference-id").get(done["id"])
    assert row and int(row["tokens"]) == tokens and row["cost"] == f'{record["cost"]} nicoin', (row, again.tables)
