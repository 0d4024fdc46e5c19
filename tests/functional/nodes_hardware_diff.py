"""Participants and their MLNodes end to end through the CLI: a hardware diff naming unknown models is rejected with
every unknown id in the error and stores nothing; a valid diff is stored; another account cannot change this
participant's nodes; removal works; GetNodesForModel (/inference/nodes-for-model) answers correctly."""
import base64
import json
import os

from framework import get_json
from framework.chain import ChainNode

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"


def tx(node, *args, check=True):
    code, out, err = node.cli("tx", *args, *node.client_flags(), check=False)
    result = json.loads(out) if out.strip().startswith("{") else None
    if check:
        assert code == 0, (args, out, err)
    return code, result, err


def query(node, path):
    status, body = get_json(node.url + path)
    assert status == 200, (path, body)
    return body


def hw_node(local_id, models, port=5000):
    return {"local_id": local_id, "status": "INFERENCE", "models": models,
            "hardware": [{"type": "NVIDIA H100 80GB", "count": 2}], "host": "10.0.0.7",
            "inference_port": port, "poc_port": port + 1}


def write(workdir, name, obj):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def nodes_of(node, address):
    return query(node, f"/inference/hardware-nodes/{address}")["nodes"]


def nodes_for(node, model):
    return [(n["participant"], n["local_id"]) for n in query(node, f"/inference/nodes-for-model/{model}")["nodes"]]


def test_hardware_diff(workdir, procs):
    node = ChainNode(workdir).init("--preset", "localnet")
    node.start(procs)
    alice = node.add_key("alice")
    bob = node.add_key("bob")
    node.send("validator", alice, "1000000nicoin")
    node.send("validator", bob, "1000000nicoin")
    valid = write(workdir, "valid.json", {"new_or_modified": [hw_node("gpu-1", [QWQ, Q7B]), hw_node("gpu-2", [Q7B], 6000)]})

    # Only registered participants declare nodes.
    code, r, _ = tx(node, "inference", "submit-hardware-diff", valid, "--from", "alice", check=False)
    assert code != 0 and "submit MsgSubmitNewParticipant first" in r["log"], r
    for key, seed in (("alice", b"\x01"), ("bob", b"\x02")):
        tx(node, "inference", "submit-new-participant", f"http://{key}.example:8000", "--validator-key",
           base64.b64encode(seed * 32).decode(), "--from", key)
    participants = {p["address"]: p for p in query(node, "/inference/participants")["participants"]}
    assert participants[alice]["url"] == "http://alice.example:8000" and participants[alice]["status"] == "ACTIVE"

    # 1. Unknown models: the whole diff is rejected, every unknown id is named, nothing is stored.
    bad = write(workdir, "bad.json", {"new_or_modified": [hw_node("gpu-1", [QWQ, "Qwen/Nope"]), hw_node("gpu-2", ["foo/bar"]),
                                                          hw_node("gpu-3", [Q7B])]})
    code, r, _ = tx(node, "inference", "submit-hardware-diff", bad, "--from", "alice", check=False)
    assert code != 0 and r["code"] == 18, r
    assert '"Qwen/Nope"' in r["log"] and '"foo/bar"' in r["log"], r
    assert "registered models: Qwen/QwQ-32B, Qwen/Qwen2.5-7B-Instruct" in r["log"], r
    assert nodes_of(node, alice) == []

    # 2. A valid diff is stored as declared.
    tx(node, "inference", "submit-hardware-diff", valid, "--from", "alice")
    stored = nodes_of(node, alice)
    assert stored == [hw_node("gpu-1", [QWQ, Q7B]), hw_node("gpu-2", [Q7B], 6000)], stored
    cli = node.cli_json("query", "inference", "hardware-nodes", "alice", *node.client_flags())
    assert cli["nodes"] == stored

    # 3. Another account cannot change alice's nodes.
    takeover = write(workdir, "takeover.json", {"new_or_modified": [hw_node("gpu-1", [Q7B], 7000)], "removed": ["gpu-2"]})
    code, r, _ = tx(node, "inference", "submit-hardware-diff", takeover, "--creator", alice, "--from", "bob", check=False)
    assert code != 0 and r["code"] == 4 and "can only change its own nodes" in r["log"], r
    # Bob's own diff only ever touches bob's nodes: removing "gpu-2" finds no such node of his.
    code, r, _ = tx(node, "inference", "submit-hardware-diff", takeover, "--from", "bob", check=False)
    assert code != 0 and 'has no node "gpu-2"' in r["log"], r
    assert nodes_of(node, alice) == stored
    assert nodes_of(node, bob) == []

    # 4. GetNodesForModel across participants.
    tx(node, "inference", "submit-hardware-diff", write(workdir, "bob.json", {"new_or_modified": [hw_node("b-1", [Q7B])]}),
       "--from", "bob")
    assert nodes_for(node, QWQ) == [(alice, "gpu-1")]
    assert sorted(nodes_for(node, Q7B)) == sorted([(alice, "gpu-1"), (alice, "gpu-2"), (bob, "b-1")])
    assert nodes_for(node, "Qwen%2FQwQ-32B") == [(alice, "gpu-1")]
    assert nodes_for(node, "Qwen/Unknown") == []

    # 5. Removal and modification in one diff.
    change = write(workdir, "change.json", {"new_or_modified": [hw_node("gpu-1", [Q7B], 9000)], "removed": ["gpu-2"]})
    tx(node, "inference", "submit-hardware-diff", change, "--from", "alice")
    assert nodes_of(node, alice) == [hw_node("gpu-1", [Q7B], 9000)]
    assert nodes_for(node, QWQ) == []
    assert sorted(nodes_for(node, Q7B)) == sorted([(alice, "gpu-1"), (bob, "b-1")])
    remove_all = write(workdir, "remove.json", {"removed": ["gpu-1"]})
    tx(node, "inference", "submit-hardware-diff", remove_all, "--from", "alice")
    assert nodes_of(node, alice) == []
    assert nodes_for(node, Q7B) == [(bob, "b-1")]
