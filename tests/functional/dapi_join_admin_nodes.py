"""dapi joins the network and administers its nodes (issue 11 items 1-3, must-show 3), on a solo chain:
- `dapi start` with a bad config exits 1 naming the field; a config node with an unknown model exits 1 listing
  unknown and registered ids;
- a fresh dapi registers its participant (MsgSubmitNewParticipant with its public URL) and makes the chain's
  hardware record equal to its node list (MsgSubmitHardwareDiff);
- the admin API needs the token; a node with an unknown model gets 400 listing unknown and registered ids and
  nothing reaches the chain; duplicate ids and host:port get 409; valid POST/PUT/DELETE reach the chain's hardware
  record; enable/disable show in the listing; admin changes survive a restart; /metrics follows the chain."""
from framework import wait_until
from framework.chain import ChainNode
from framework.dapi import Dapi

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # localnet genesis: the real CPU model


def entry(node_id, port, models, host="127.0.0.1"):
    return {"id": node_id, "host": host, "inference_port": port, "poc_port": port + 1,
            "models": {m: {"args": ["--dtype", "auto"]} for m in models}, "max_concurrent": 4,
            "hardware": [{"type": "NVIDIA H100 80GB", "count": 1}]}


def chain_record(e):
    """What the chain's hardware query shows for a node entry."""
    return {"local_id": e["id"], "status": "INFERENCE", "models": list(e["models"]), "hardware": e["hardware"],
            "host": e["host"], "inference_port": e["inference_port"], "poc_port": e["poc_port"]}


def hardware(node, address):
    return sorted(node.query(f"/inference/hardware-nodes/{address}")["nodes"], key=lambda n: n["local_id"])


def wait_hardware(node, address, entries, what):
    want = sorted((chain_record(e) for e in entries), key=lambda n: n["local_id"])
    return wait_until(lambda: hardware(node, address) == want, timeout=30, what=what)


def test_dapi_joins_and_administers_nodes(workdir, procs):
    node = ChainNode(workdir, block_time_ms=200).init("--preset", "localnet").start(procs)
    dapi = Dapi(procs, workdir, node, "alice").init()
    node.send("validator", dapi.address, "1000000nicoin")

    # Start-up refusals: a bad value names the field; unknown models list unknown and registered ids.
    a = entry("a-1", 5000, [Q7B])
    dapi.configure([dict(a, inference_port=70000)])
    code, out = dapi.run_start()
    assert code == 1 and "nodes[0].inference_port: must be an integer in [1, 65535]" in out, out
    dapi.configure([entry("a-1", 5000, [Q7B, "Qwen/Nope"])])
    code, out = dapi.run_start()
    assert code == 1 and 'unknown model "Qwen/Nope" in node "a-1"' in out, out
    assert f"registered models: {SMOL}, {QWQ}, {Q7B}" in out, out
    assert node.query(f"/inference/participants/{dapi.address}", expect=404)

    # Joining: the participant with its public URL, then the hardware record.
    dapi.configure([a]).start()
    wait_until(lambda: node.query("/inference/participants").get("participants") and
               any(p["address"] == dapi.address for p in node.query("/inference/participants")["participants"]),
               timeout=30, what="the participant registration")
    p = node.query(f"/inference/participants/{dapi.address}")
    p = p.get("participant", p)
    assert p["url"] == dapi.public_url, p
    wait_hardware(node, dapi.address, [a], "the hardware record of a-1")

    # The admin API needs the token.
    assert dapi.admin("GET", "/admin/v1/nodes", token="")[0] == 401
    assert dapi.admin("GET", "/admin/v1/nodes", token="wrong-token-wrong-token")[0] == 401

    # Unknown model: 400 listing unknown and registered ids; nothing stored, nothing on chain.
    status, body = dapi.admin("POST", "/admin/v1/nodes", entry("a-2", 6000, ["foo/bar", Q7B, "Qwen/Nope"]))
    assert status == 400, body
    msg = body["error"]["message"]
    assert '"foo/bar", "Qwen/Nope"' in msg and f"registered models: {SMOL}, {QWQ}, {Q7B}" in msg, msg
    assert set(dapi.nodes()) == {"a-1"}
    # Malformed bodies and conflicts change nothing either.
    assert dapi.admin("POST", "/admin/v1/nodes", b"{not json")[0] == 400
    assert dapi.admin("POST", "/admin/v1/nodes", dict(entry("a-2", 6000, [Q7B]), gpus=1))[0] == 400
    status, body = dapi.admin("POST", "/admin/v1/nodes", entry("a-1", 6000, [Q7B]))
    assert status == 409 and "already exists" in body["error"]["message"], body
    status, body = dapi.admin("POST", "/admin/v1/nodes", entry("a-2", 5001, [Q7B]))
    assert status == 409 and "127.0.0.1:5001 is already used by node \"a-1\"" in body["error"]["message"], body
    assert dapi.admin("GET", "/admin/v1/nodes/nope")[0] == 404
    assert dapi.admin("DELETE", "/admin/v1/nodes/nope")[0] == 404
    assert set(dapi.nodes()) == {"a-1"}

    # Valid changes reach the chain's hardware record.
    b = entry("a-2", 6000, [QWQ, Q7B])
    status, body = dapi.admin("POST", "/admin/v1/nodes", b)
    assert status == 201 and body["node"]["models"] == b["models"] and body["enabled"], body
    wait_hardware(node, dapi.address, [a, b], "a-2 on chain")
    b2 = dict(b, inference_port=6100, poc_port=6101)
    status, body = dapi.admin("PUT", "/admin/v1/nodes/a-2", b2)
    assert status == 200, body
    wait_hardware(node, dapi.address, [a, b2], "a-2's new ports on chain")
    status, body = dapi.admin("PUT", "/admin/v1/nodes/a-2", dict(b2, models={"Qwen/Nope": {}}))
    assert status == 400 and "unknown model" in body["error"]["message"], body
    status, body = dapi.admin("POST", "/admin/v1/nodes/a-1/disable")
    assert status == 200 and body["enabled"] is False, body
    assert dapi.nodes()["a-1"]["enabled"] is False
    status, body = dapi.admin("DELETE", "/admin/v1/nodes/a-2")
    assert status == 200 and body == {"deleted": "a-2"}, body
    wait_hardware(node, dapi.address, [a], "a-2 removed on chain")

    # The refused changes never reached the chain: every hardware diff sent was included with code 0.
    # (The queue counts an inclusion when its poll sees the tx, a moment after the chain shows the record.)
    wait_until(lambda: dapi.metric("dapi_tx_messages_included_total", kind="hardware_diff") >= 4, timeout=10,
               what="4 hardware diffs counted as included")
    assert dapi.metric_sum("dapi_tx_failures_total", kind="hardware_diff") == 0
    assert dapi.metric("dapi_tx_messages_included_total", kind="new_participant") == 1

    # Admin changes persist across a restart; the YAML is untouched.
    with open(f"{dapi.home}/config.yaml") as f:
        config_before = f.read()
    dapi.admin("POST", "/admin/v1/nodes", b)
    wait_hardware(node, dapi.address, [a, b], "a-2 back on chain")
    assert dapi.stop() == 0
    dapi.start()
    nodes = dapi.nodes()
    assert set(nodes) == {"a-1", "a-2"} and nodes["a-1"]["enabled"] is False and nodes["a-2"]["enabled"], nodes
    with open(f"{dapi.home}/config.yaml") as f:
        assert f.read() == config_before
    h = node.height()
    wait_until(lambda: dapi.metric("dapi_block_height") >= h, timeout=30, what="the follower to reach the chain")
    assert dapi.metric("dapi_tx_messages_included_total", kind="new_participant") == 0  # already registered
