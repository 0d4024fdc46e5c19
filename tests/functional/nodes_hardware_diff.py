"""Participants and their MLNodes end to end through the CLI: a hardware diff naming unknown models is rejected with
every unknown id in the error and stores nothing; a valid diff is stored; another account cannot change this
participant's nodes; removal works; GetNodesForModel (/inference/nodes-for-model) answers correctly."""

from framework.chain import ChainNode, write_json
from framework.codes import result_code
from framework.participants import hw_node, register_participant

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"


def nodes_of(node, address):
    return node.query(f"/inference/hardware-nodes/{address}")["nodes"]


def nodes_for(node, model):
    return [(n["participant"], n["local_id"]) for n in node.query(f"/inference/nodes-for-model/{model}")["nodes"]]


def test_hardware_diff(workdir, procs):
    node = ChainNode(workdir).init("--preset", "localnet")
    node.start(procs)
    alice = node.add_key("alice")
    bob = node.add_key("bob")
    node.send("validator", alice, "1000000nicoin")
    node.send("validator", bob, "1000000nicoin")
    valid = write_json(workdir, "valid.json", {"new_or_modified": [hw_node("gpu-1", [QWQ, Q7B], gpus=2), hw_node("gpu-2", [Q7B], 6000, gpus=2)]})

    # Only registered participants declare nodes.
    code, r, _ = node.tx("inference", "submit-hardware-diff", valid, "--from", "alice", check=False)
    assert code != 0 and "submit MsgSubmitNewParticipant first" in r["log"], r
    for i, key in enumerate(("alice", "bob")):
        register_participant(node, workdir, key, i)
    participants = {p["address"]: p for p in node.query("/inference/participants")["participants"]}
    assert participants[alice]["url"] == "http://alice.example:8000" and participants[alice]["status"] == "ACTIVE"

    # 1. Unknown models: the whole diff is rejected, every unknown id is named, nothing is stored.
    bad = write_json(workdir, "bad.json", {"new_or_modified": [hw_node("gpu-1", [QWQ, "Qwen/Nope"], gpus=2),
                                                               hw_node("gpu-2", ["foo/bar"], gpus=2),
                                                               hw_node("gpu-3", [Q7B], gpus=2)]})
    code, r, _ = node.tx("inference", "submit-hardware-diff", bad, "--from", "alice", check=False)
    assert code != 0 and (r["codespace"], r["code"]) == result_code("kUnknownModel"), r
    assert '"Qwen/Nope"' in r["log"] and '"foo/bar"' in r["log"], r
    assert "registered models: HuggingFaceTB/SmolLM2-135M-Instruct, Qwen/QwQ-32B, Qwen/Qwen2.5-7B-Instruct" in r["log"], r
    assert nodes_of(node, alice) == []

    # 2. A valid diff is stored as declared.
    node.tx("inference", "submit-hardware-diff", valid, "--from", "alice")
    stored = nodes_of(node, alice)
    assert stored == [hw_node("gpu-1", [QWQ, Q7B], gpus=2), hw_node("gpu-2", [Q7B], 6000, gpus=2)], stored
    cli = node.cli_json("query", "inference", "hardware-nodes", "alice", *node.client_flags())
    assert cli["nodes"] == stored

    # 3. Another account cannot change alice's nodes.
    takeover = write_json(workdir, "takeover.json", {"new_or_modified": [hw_node("gpu-1", [Q7B], 7000, gpus=2)], "removed": ["gpu-2"]})
    code, r, _ = node.tx("inference", "submit-hardware-diff", takeover, "--creator", alice, "--from", "bob", check=False)
    assert code != 0 and r["code"] == 4 and "can only change its own nodes" in r["log"], r
    # Bob's own diff only ever touches bob's nodes: removing "gpu-2" finds no such node of his.
    code, r, _ = node.tx("inference", "submit-hardware-diff", takeover, "--from", "bob", check=False)
    assert code != 0 and 'has no node "gpu-2"' in r["log"], r
    assert nodes_of(node, alice) == stored
    assert nodes_of(node, bob) == []

    # 4. GetNodesForModel across participants.
    node.tx("inference", "submit-hardware-diff", write_json(workdir, "bob.json", {"new_or_modified": [hw_node("b-1", [Q7B], gpus=2)]}),
            "--from", "bob")
    assert nodes_for(node, QWQ) == [(alice, "gpu-1")]
    assert sorted(nodes_for(node, Q7B)) == sorted([(alice, "gpu-1"), (alice, "gpu-2"), (bob, "b-1")])
    assert nodes_for(node, "Qwen%2FQwQ-32B") == [(alice, "gpu-1")]
    assert nodes_for(node, "Qwen/Unknown") == []

    # 5. Removal and modification in one diff.
    change = write_json(workdir, "change.json", {"new_or_modified": [hw_node("gpu-1", [Q7B], 9000, gpus=2)], "removed": ["gpu-2"]})
    node.tx("inference", "submit-hardware-diff", change, "--from", "alice")
    assert nodes_of(node, alice) == [hw_node("gpu-1", [Q7B], 9000, gpus=2)]
    assert nodes_for(node, QWQ) == []
    assert sorted(nodes_for(node, Q7B)) == sorted([(alice, "gpu-1"), (bob, "b-1")])
    remove_all = write_json(workdir, "remove.json", {"removed": ["gpu-1"]})
    node.tx("inference", "submit-hardware-diff", remove_all, "--from", "alice")
    assert nodes_of(node, alice) == []
    assert nodes_for(node, Q7B) == [(bob, "b-1")]
