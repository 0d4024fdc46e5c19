"""MLNode upgrade without downtime (ARCHITECTURE §8, docs/upgrade.md "API node side"), with real processes: a solo
chain (80-block epochs at 250 ms), the genesis validator's participant running a dapi with two nodes; each node is
an nginx (deploy/nginx template) in front of an old (v3.0.8, the chain's version) and a new (v3.1.0) builtin-backend
mlnode. A governance proposal `partial-upgrade H v3.1.0` passes in epoch 0; H lies in epoch 1's inference phase.
Four client threads (half streamed) send chat completions through the dapi continuously across H.

Checked: no request fails (every answer 200, every stream ends with [DONE] and no error event); before H only the
old mlnodes served chat, afterwards the new ones; dapi decided the switch at block H exactly (its log line names
height H and both versions); on each proxy the old version got POST /v3.0.8/api/v1/stop before the new version's
first inference/up (one version holds the "GPU" at a time) and the nodes switched one after the other (the second
node's old version was still serving when the first node's new one loaded); the old mlnodes end STOPPED;
/v1/status and /metrics show v3.1.0, one completed switch and two node switches; after a dapi restart the
persisted last_used_version is v3.1.0 (no second stop, no switch in progress) and requests still succeed.

Second test: dapi is killed (-9) before H and started after it; it switches at start (the old versions get their
stop before the new ones load) and persists last_used_version."""
import json
import os
import re
import threading

from framework import http_request, wait_until
from framework.chain import ChainNode, event_value, wait_final
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state
from framework.mlnode import MlNode, MlProxy

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-upgrade-0123456789"
NEW = "v3.1.0"
EPOCH_LENGTH = 80
BLOCK_MS = 250
# First PoC at 80; epoch 1 is set at 80 + 6 + 2 + 5 + 4 = 97 (localnet stage durations); the next PoC at 160, well
# after the switch and the requests that follow it (during PoC only POC_SLOT nodes serve).
UPGRADE_HEIGHT = 112
# Requests take ~0.4 s, so some are in flight when a node drains; the new version takes 1.5 s to "load" the model,
# long enough that a request arriving then must be served by the other node.
OLD_ARGS = (*POC_MLNODE_ARGS, "--ttft-ms", "150", "--tokens-per-second", "40")
NEW_ARGS = (*OLD_ARGS, "--load-ms", "1500")


def chat_metric(mlnode):
    status, text = http_request("GET", mlnode.inference_url + "/metrics", timeout=5)
    assert status == 200, text
    m = re.search(r"^mlnode_chat_requests_total (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class Load:
    """Client threads sending chat completions through the dapi until stopped; every answer is recorded."""

    def __init__(self, url):
        self.url = url
        self.stop = threading.Event()
        self.results = []  # (kind, status, ok, detail)
        self.lock = threading.Lock()
        # Four clients (two streamed): each node almost always has a request in flight, so a switch that did not
        # drain would cut one.
        self.threads = [threading.Thread(target=self.run, args=(stream,), daemon=True)
                        for stream in (False, True, False, True)]

    def run(self, stream):
        body = {"model": Q7B, "messages": [{"role": "user", "content": "count to five"}], "max_tokens": 8,
                "stream": stream}
        headers = {"Authorization": f"Bearer {KEY}"}
        while not self.stop.is_set():
            try:
                status, text = http_request("POST", self.url + "/v1/chat/completions", body, headers=headers,
                                            timeout=30)
            except OSError as e:
                status, text = 0, str(e)
            if stream:
                ok = status == 200 and text.rstrip().endswith("data: [DONE]") and '"error"' not in text
            else:
                ok = status == 200 and json.loads(text).get("object") == "chat.completion"
            with self.lock:
                self.results.append(("stream" if stream else "json", status, ok, text[-300:]))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def counts(self):
        with self.lock:
            return len(self.results), [r for r in self.results if not r[2]]


def start_upgrade_network(workdir, procs):
    """The chain with the upgrade to NEW at UPGRADE_HEIGHT passed, the dapi and its two nodes (old + new mlnode
    behind nginx each) serving epoch 1 on the old version. Returns (chain node, dapi, old version, pairs)."""
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=EPOCH_LENGTH, epoch_shift=0)
    genesis["app_state"]["schedule"]["params"]["inference_validation_rate_ppm"] = 0
    genesis["app_state"]["gov"]["params"]["voting_period"] = 4
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    old = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    assert old != NEW

    # Governance first (the validator key signs here before its dapi signs anything): upgrade at H to v3.1.0.
    _, r, _ = node.tx("inference", "partial-upgrade", UPGRADE_HEIGHT, NEW, "", "--title", f"MLNode {NEW}",
                      "--summary", "side-by-side upgrade", "--deposit", "10000nicoin", "--from", "validator")
    pid = int(event_value(r, "submit_proposal", "proposal_id"))
    node.tx("gov", "vote", pid, "yes", "--from", "validator")
    assert wait_final(node, pid)["status"] == "PROPOSAL_STATUS_PASSED"
    assert node.query("/inference/mlnode-version")["next_upgrade"]["height"] == UPGRADE_HEIGHT

    # Two nodes, each an nginx in front of the old and the new mlnode (the operator starts the new one beside
    # the old one and routes /v3.1.0/ to it; nothing else).
    p = Participant(procs, workdir, node, "validator", old, n_mlnodes=0, chain_keys=True)
    pairs = []
    for i in range(2):
        o = MlNode(procs, workdir, old, OLD_ARGS, name=f"mlnode-{i}-old").start()
        n = MlNode(procs, workdir, NEW, NEW_ARGS, name=f"mlnode-{i}-new").start()
        pairs.append((o, n, MlProxy(procs, workdir, o, n, name=f"nginx-{i}").start()))
    entries = [{"id": f"node-{i}", "host": "127.0.0.1", "inference_port": proxy.inference_port,
                "poc_port": proxy.poc_port, "models": {Q7B: {"args": []}}, "max_concurrent": 8,
                "hardware": [{"type": "CPU", "count": 1}]} for i, (_, _, proxy) in enumerate(pairs)]
    dapi = p.dapi
    dapi.configure(entries, api_keys=[KEY]).start()
    assert node.height() < 70, f"setup took until height {node.height()}; the first PoC starts at 80"
    wait_until(lambda: dapi.metric("dapi_mlnode_next_upgrade_height") == UPGRADE_HEIGHT, timeout=20,
               what="dapi to know the pending upgrade")
    # ... and that the new version answers on every node before the height (checked at start, then every 30 s).
    for i in range(2):
        assert dapi.metric("dapi_mlnode_next_version_ready", node=f"node-{i}", version=NEW) == 1

    # Epoch 1: both old mlnodes serve the model; the new ones are idle (STOPPED).
    wait_until(lambda: node.query("/inference/epoch")["epoch_index"] >= 1, timeout=60, what="epoch 1")
    wait_until(lambda: all((mlnode_state(o) or {}).get("state") == "INFERENCE" for o, _, _ in pairs), timeout=30,
               what="the old mlnodes serving epoch 1's model")
    wait_until(lambda: all(n["state"]["status"] == "INFERENCE" for n in dapi.nodes().values()), timeout=30,
               what="dapi to see both nodes serving")
    assert node.height() < UPGRADE_HEIGHT - 6, f"epoch 1 served only from {node.height()}"
    return node, dapi, old, pairs


def last_stop_before_first_up(proxy, old):
    """Asserts the old version's last stop on `proxy` came before the new version's first inference/up (one
    version holds the node at a time; the broker also stopped it once between PoC and inference) and that the
    old version served no chat after it. Returns the number of old-version stops."""
    lines = proxy.access_log()
    stop_at = [k for k, line in enumerate(lines) if line.startswith(f"POST /{old}/api/v1/stop ")]
    up_at = [k for k, line in enumerate(lines) if line.startswith(f"POST /{NEW}/api/v1/inference/up ")]
    assert stop_at and up_at and stop_at[-1] < up_at[0], lines[-40:]
    old_chat = [k for k, line in enumerate(lines) if line.startswith(f"POST /{old}/v1/chat/completions")]
    assert not old_chat or old_chat[-1] < stop_at[-1], lines[-40:]
    return len(stop_at)


def test_upgrade_switches_at_height_with_zero_failed_requests(workdir, procs):
    node, dapi, old, pairs = start_upgrade_network(workdir, procs)
    load = Load(dapi.public_url).start()
    node.wait_height(UPGRADE_HEIGHT - 2, timeout=60)
    before = [(chat_metric(o), chat_metric(n)) for o, n, _ in pairs]
    assert sum(b[0] for b in before) > 0 and all(b[1] == 0 for b in before), before
    assert node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"] == old

    def switched():
        return (dapi.metric("dapi_mlnode_version_switches_total") == 1 and
                all((mlnode_state(n) or {}).get("state") == "INFERENCE" for _, n, _ in pairs))
    wait_until(switched, timeout=60, interval=0.2, what="both nodes switched to the new version")
    served_new = [chat_metric(n) for _, n, _ in pairs]
    wait_until(lambda: sum(chat_metric(n) for _, n, _ in pairs) >= sum(served_new) + 6, timeout=30,
               what="requests served by the new version after the switch")
    load.finish()
    total, failed = load.counts()
    print(f"{total} requests across the upgrade at height {UPGRADE_HEIGHT}; before it old/new chat counts {before}")
    assert not failed, failed[:5]
    assert total >= 12, total

    # dapi switched at block H exactly, deciding from that block (log line with the height and both versions).
    log = dapi.process.log()
    assert f"MLNode upgrade at height {UPGRADE_HEIGHT}: version {old} -> {NEW}" in log, log[-3000:]
    # Per proxy: the old version was stopped before the new one got inference/up; the old mlnodes are STOPPED
    # and served nothing after their stop.
    stops = {}
    for i, (o, n, proxy) in enumerate(pairs):
        stops[i] = last_stop_before_first_up(proxy, old)
        lines = proxy.access_log()
        assert any(line.startswith(f"POST /{old}/v1/chat/completions") for line in lines), i
        assert any(line.startswith(f"POST /{NEW}/v1/chat/completions") for line in lines), i
        assert mlnode_state(o)["state"] == "STOPPED"
    # One node at a time: node-1's old version was stopped only after node-0's new version was loaded.
    dapi_log_order = [m.group(1) for m in re.finditer(r"MLNode upgrade: node (node-\d) now on", log)]
    assert dapi_log_order == ["node-0", "node-1"], dapi_log_order
    n0_loaded = log.index("MLNode upgrade: node node-0 now on")
    n1_stop = log.index("MLNode upgrade: node node-1: POST")
    assert n0_loaded < n1_stop

    # Visible: status page and metrics.
    status, body = http_request("GET", dapi.public_url + "/v1/status")
    assert status == 200 and json.loads(body)["mlnode_version"] == NEW, body
    assert [n["mlnode_version"] for n in json.loads(body)["nodes"]] == [NEW, NEW], body
    assert all(n["state"]["mlnode_version"] == NEW and not n["state"]["switching_version"]
               for n in dapi.nodes().values())
    assert dapi.metric("dapi_mlnode_version", version=NEW) == 1
    assert dapi.metric("dapi_mlnode_last_used_version", version=NEW) == 1
    assert dapi.metric("dapi_mlnode_upgrade_in_progress") == 0
    assert dapi.metric("dapi_mlnode_node_switches_total", result="ok") == 2
    assert dapi.metric("dapi_mlnode_version_stop_failures_total") == 0
    for i in range(2):
        assert dapi.metric("dapi_mlnode_node_version", node=f"node-{i}", version=NEW) == 1

    # Restart: the persisted last_used_version is the new one, so nothing is switched or stopped again.
    dapi.stop()
    dapi.start()
    wait_until(lambda: all(n["state"]["status"] == "INFERENCE" for n in dapi.nodes().values()), timeout=30,
               what="the restarted dapi to see both nodes serving")
    wait_until(lambda: dapi.metric("dapi_mlnode_last_used_version", version=NEW) == 1, timeout=20,
               what="the restarted dapi's versions")
    assert dapi.metric("dapi_mlnode_upgrade_in_progress") == 0
    status, text = http_request("POST", dapi.public_url + "/v1/chat/completions",
                                {"model": Q7B, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert status == 200, text
    restarted_log = dapi.process.log().split("=== start:")[-1]
    assert "dapi was down across an upgrade" not in restarted_log
    for i, (_, _, proxy) in enumerate(pairs):
        assert sum(line.startswith(f"POST /{old}/api/v1/stop ") for line in proxy.access_log()) == stops[i], i


def test_dapi_down_across_the_height_switches_at_start(workdir, procs):
    """dapi is killed (-9) before the height and started after it: it reads the chain's new version and its
    persisted last_used_version (the old one), stops the old version node by node and loads the new one, and
    persists last_used_version = new."""
    node, dapi, old, pairs = start_upgrade_network(workdir, procs)
    node.wait_height(UPGRADE_HEIGHT - 4, timeout=60)
    dapi.kill9()
    node.wait_height(UPGRADE_HEIGHT + 2, timeout=60)
    assert node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"] == NEW
    # Nobody switched meanwhile: the old versions still serve, the new ones hold nothing.
    assert all(mlnode_state(o)["state"] == "INFERENCE" and mlnode_state(n)["state"] == "STOPPED"
               for o, n, _ in pairs)

    dapi.start()
    wait_until(lambda: dapi.metric("dapi_mlnode_last_used_version", version=NEW) == 1, timeout=60, interval=0.2,
               what="the restarted dapi to switch both nodes and persist last_used_version")
    assert all(mlnode_state(o)["state"] == "STOPPED" and mlnode_state(n)["state"] == "INFERENCE"
               for o, n, _ in pairs)
    for _, _, proxy in pairs:
        last_stop_before_first_up(proxy, old)
    restarted_log = dapi.process.log().split("=== start:")[-1]
    assert f"the chain requires {NEW} but the nodes last used {old}" in restarted_log, restarted_log[-3000:]
    assert "MLNode upgrade at height" not in restarted_log  # block H's replayed event is history, not a switch
    assert dapi.metric("dapi_mlnode_node_switches_total", result="ok") == 2
    wait_until(lambda: all(n["state"]["status"] == "INFERENCE" for n in dapi.nodes().values()), timeout=30,
               what="dapi to see both nodes serving")
    status, text = http_request("POST", dapi.public_url + "/v1/chat/completions",
                                {"model": Q7B, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    assert status == 200, text
    assert sum(chat_metric(n) for _, n, _ in pairs) >= 1
