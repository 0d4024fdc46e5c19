"""Epochs, per-MLNode PoC, weights and epoch groups end to end on the solo chain with localnet epoch params
(epoch = 30 blocks; batch window [P+1, P+8], validation window [P+9, P+13], formation P+13, switch P+17).

Three participants register MLNodes for two models (alice covers both, bob only the 7B model, carol only QwQ),
submit PoC batches per node and are validated through the real messages (first by the genesis validator, then by
each other); after each epoch switch the groups hold exactly the expected per-node poc_weight, per-model
total_throughput = Σ poc_weight × throughput_per_nonce, participant weight = Σ node weights, and the model snapshot
equals the registry at formation. A governance change of throughput_per_nonce and a hardware diff made mid-epoch
leave the current epoch untouched and only show up in the next one. Batches outside the window, for someone
else's node or from a non-participant, and validations from a non-member are rejected with clear errors."""
import json
import os

from framework import wait_until
from framework.chain import ChainNode, write_json
from framework.participants import group, hw_node, register_participants, send_fast, wait_poc_window

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"
BLOCK_MS = 300


def node_weights(g):
    return {(m["member_address"], n["node_id"]): n["poc_weight"] for m in g["validation_weights"] for n in m["ml_nodes"]}


def check_epoch_groups(node, epoch, expected_nodes, tpn):
    """expected_nodes: {(address, node_id): (poc_weight, [models])}; tpn: {model: throughput_per_nonce}."""
    parent = group(node, epoch)
    weights = {}
    for m in parent["validation_weights"]:
        assert m["weight"] == sum(n["poc_weight"] for n in m["ml_nodes"]), m  # participant weight = Σ node weights
        weights[m["member_address"]] = m["weight"]
    expected_weight = {}
    for (addr, _), (w, _) in expected_nodes.items():
        expected_weight[addr] = expected_weight.get(addr, 0) + w
    assert weights == expected_weight, (weights, expected_weight)
    assert parent["total_weight"] == sum(expected_weight.values())
    assert parent["sub_group_models"] == sorted([QWQ, Q7B])
    for model in (Q7B, QWQ):
        g = group(node, epoch, model)
        assert g["model_snapshot"]["throughput_per_nonce"] == tpn[model], (model, g["model_snapshot"])
        want = {k: w for k, (w, models) in expected_nodes.items() if model in models}
        assert node_weights(g) == want, (model, node_weights(g), want)
        # An MLNode serves one model (its first): only serving nodes count toward capacity (ARCHITECTURE §7.4).
        serving = sum(w for k, (w, models) in expected_nodes.items() if models[0] == model)
        assert g["total_throughput"] == serving * tpn[model], (model, g["total_throughput"])
        for m in g["validation_weights"]:
            for n in m["ml_nodes"]:
                assert n["throughput"] == n["poc_weight"] * tpn[model]
                models = expected_nodes[(m["member_address"], n["node_id"])][1]
                assert n["timeslot_allocation"] == [models[0] == model, False], (model, n)
    return parent


def test_epochs_poc_groups_snapshots(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["gov"]["params"]["voting_period"] = 6  # governance within one epoch
    assert genesis["app_state"]["epochs"]["params"]["epoch_length"] == 30
    # The two Qwen models only, every inference paid at finish: localnet's real CPU model and its validation
    # sampling (issue 15) are tested in localnet_*.py.
    genesis["app_state"]["models"]["models"] = [m for m in genesis["app_state"]["models"]["models"]
                                                if m["id"] in (Q7B, QWQ)]
    genesis["app_state"]["schedule"]["params"]["inference_validation_rate_ppm"] = 0
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)

    keys = {k: node.add_key(k) for k in ("alice", "bob", "carol", "dave")}
    alice, bob, carol, dave = keys["alice"], keys["bob"], keys["carol"], keys["dave"]
    for addr in keys.values():
        node.send("validator", addr, "10000000nicoin")
    nodes = {"alice": [hw_node("a-1", [Q7B, QWQ], 5000), hw_node("a-2", [QWQ], 5010)],
             "bob": [hw_node("b-1", [Q7B], 6000)], "carol": [hw_node("c-1", [QWQ], 7000)]}
    register_participants(node, workdir, nodes)

    # ---- Round A: validated by the genesis validator (the only member while nobody has PoC weight).
    e, s = wait_poc_window(node)
    epoch_a = e["upcoming_epoch_index"]
    assert e["epoch_index"] == epoch_a - 1 and e["phase"] in ("poc_generate", "poc_generate_wind_down")
    assert s["poc_exchange_end"] == s["poc_start"] + 8 and s["validation_end"] == s["poc_start"] + 13
    assert s["set_new_validators"] == s["poc_start"] + 17 and s["next_poc_start"] == s["poc_start"] + 30
    r = send_fast(node, {
        "alice": (alice, [["inference", "submit-poc-batch", "a-1", "b1", "--nonces", "0-99"],
                          ["inference", "submit-poc-batch", "a-1", "b2", "--nonces", "90-119"],  # 90-99 counted once
                          ["inference", "submit-poc-batch", "a-2", "b1", "--nonces", "200-239"],
                          ["inference", "submit-poc-validation", bob]]),  # not a member of the current epoch
        "bob": (bob, [["inference", "submit-poc-batch", "b-1", "b1", "--nonces", "0-69"],
                      ["inference", "submit-poc-batch", "a-1", "steal", "--nonces", "0-9"]]),  # alice's node
        "carol": (carol, [["inference", "submit-poc-batch", "c-1", "b1", "--nonces", "0-24"]]),
        "dave": (dave, [["inference", "submit-poc-batch", "d-1", "b1", "--nonces", "0-9"]]),  # not a participant
    })
    assert [x["code"] for x in r["alice"][:3]] == [0, 0, 0], r["alice"]
    assert r["alice"][3]["code"] != 0 and "is not a member of the current epoch" in r["alice"][3]["log"], r["alice"][3]
    assert r["bob"][0]["code"] == 0, r["bob"]
    assert r["bob"][1]["code"] == 4 and 'has no node "a-1"' in r["bob"][1]["log"], r["bob"][1]
    assert r["carol"][0]["code"] == 0, r["carol"]
    assert r["dave"][0]["code"] != 0 and "is not a registered participant" in r["dave"][0]["log"], r["dave"]
    # node id stored on every batch; per-node weight with duplicates once
    b = node.query(f"/inference/poc-batches/{epoch_a}/{alice}/a-1")
    assert [x["node_id"] for x in b["batches"]] == ["a-1", "a-1"] and b["node_weight"] == 120, b

    node.wait_height(s["poc_exchange_end"] + 1)
    _, late, _ = node.tx("inference", "submit-poc-batch", "c-1", "late", "--nonces", "500", "--from", "carol", check=False)
    assert late["code"] != 0 and f"is [{s['poc_start'] + 1}, {s['poc_exchange_end']}]" in late["log"], late
    node.wait_height(s["validation_start"])
    r = send_fast(node, {"validator": (node.address("validator"), [["inference", "submit-poc-validation", p]
                                                                    for p in (alice, bob, carol)])})
    assert [x["code"] for x in r["validator"]] == [0, 0, 0], r
    node.wait_height(s["validation_end"])
    upcoming = node.query(f"/inference/epoch-groups/upcoming/{QWQ}")["epoch_group"]  # formed, not yet effective
    assert upcoming["epoch_index"] == epoch_a and upcoming["effective_block_height"] == 0
    registry_at_formation = {m: node.query(f"/inference/governance/models/{m}")["model"] for m in (Q7B, QWQ)}
    node.wait_height(s["set_new_validators"])
    assert node.query("/inference/epoch")["epoch_index"] == epoch_a
    tpn_a = {m: registry_at_formation[m]["throughput_per_nonce"] for m in (Q7B, QWQ)}
    assert tpn_a == {Q7B: 10000, QWQ: 1000}
    expected_a = {(alice, "a-1"): (120, [Q7B, QWQ]), (alice, "a-2"): (40, [QWQ]), (bob, "b-1"): (70, [Q7B]),
                  (carol, "c-1"): (25, [QWQ])}
    check_epoch_groups(node, epoch_a, expected_a, tpn_a)
    assert group(node, epoch_a, Q7B)["total_throughput"] == 190 * 10000
    assert group(node, epoch_a, QWQ)["total_throughput"] == 65 * 1000  # a-2 + c-1; a-1 serves 7B
    for m in (Q7B, QWQ):
        assert group(node, epoch_a, m)["model_snapshot"] == registry_at_formation[m]
    current = node.query("/inference/epoch-groups/current")["epoch_group"]
    assert current["epoch_index"] == epoch_a and current["total_weight"] == 255

    # ---- Mid epoch A: governance raises QwQ's throughput_per_nonce; carol moves c-1 to the 7B model.
    model = dict(registry_at_formation[QWQ], throughput_per_nonce=3000)
    model.pop("proposed_by")
    _, r1, _ = node.tx("gov", "submit-proposal", "register-model", "--model-file", write_json(workdir, "qwq.json", model),
               "--title", "QwQ throughput", "--summary", "3000 per nonce", "--deposit", "10000nicoin", "--from", "alice")
    pid = next(a["value"] for ev in r1["events"] if ev["type"] == "submit_proposal" for a in ev["attributes"]
               if a["key"] == "proposal_id")
    for key in ("alice", "bob", "carol"):  # voting power = epoch-group weight now
        node.tx("gov", "vote", pid, "yes", "--from", key)
    wait_until(lambda: node.query(f"/gov/proposals/{pid}")["proposal"]["status"] != "PROPOSAL_STATUS_VOTING_PERIOD",
               timeout=30, what="the tally")
    assert node.query(f"/gov/proposals/{pid}")["proposal"]["status"] == "PROPOSAL_STATUS_PASSED"
    assert node.query(f"/inference/governance/models/{QWQ}")["model"]["throughput_per_nonce"] == 3000
    node.tx("inference", "submit-hardware-diff",
            write_json(workdir, "carol2.json", {"new_or_modified": [hw_node("c-1", [Q7B], 7000)]}), "--from", "carol")
    assert node.query("/inference/epoch")["epoch_index"] == epoch_a
    check_epoch_groups(node, epoch_a, expected_a, tpn_a)  # the current epoch is untouched
    assert group(node, epoch_a, QWQ)["model_snapshot"] == registry_at_formation[QWQ]

    # ---- Round B: the three participants validate each other (and themselves).
    e, s = wait_poc_window(node)
    epoch_b = e["upcoming_epoch_index"]
    print(f"round B: epoch {epoch_b} stages {s} (round A: epoch {epoch_a}), height {node.height()}")
    assert epoch_b == epoch_a + 1
    r = send_fast(node, {
        "alice": (alice, [["inference", "submit-poc-batch", "a-1", "b1", "--nonces", "0-9"],
                          ["inference", "submit-poc-batch", "a-2", "b1", "--nonces", "100-109"]]),
        "bob": (bob, [["inference", "submit-poc-batch", "b-1", "b1", "--nonces", "0-19"]]),
        "carol": (carol, [["inference", "submit-poc-batch", "c-1", "b1", "--nonces", "0-29"]]),
    })
    assert all(x["code"] == 0 for v in r.values() for x in v), r
    node.wait_height(s["validation_start"])
    r = send_fast(node, {k: (keys[k], [["inference", "submit-poc-validation", p] for p in (alice, bob, carol)])
                         for k in ("alice", "bob", "carol")})
    assert all(x["code"] == 0 for v in r.values() for x in v), r
    assert len(node.query(f"/inference/poc-validations/{epoch_b}")["validations"]) == 9
    node.wait_height(s["set_new_validators"])
    assert node.query("/inference/epoch")["epoch_index"] == epoch_b
    tpn_b = {Q7B: 10000, QWQ: 3000}
    expected_b = {(alice, "a-1"): (10, [Q7B, QWQ]), (alice, "a-2"): (10, [QWQ]), (bob, "b-1"): (20, [Q7B]),
                  (carol, "c-1"): (30, [Q7B])}
    check_epoch_groups(node, epoch_b, expected_b, tpn_b)
    assert group(node, epoch_b, Q7B)["total_throughput"] == 60 * 10000
    assert group(node, epoch_b, QWQ)["total_throughput"] == 10 * 3000  # a-2 only
    assert group(node, epoch_b, QWQ)["model_snapshot"] == node.query(f"/inference/governance/models/{QWQ}")["model"]
    # Epoch A's records stay as they were.
    check_epoch_groups(node, epoch_a, expected_a, tpn_a)
    # The CLI reads the same.
    cli = node.cli_json("query", "inference", "epoch-group", "current", QWQ, *node.client_flags())
    assert cli["epoch_group"]["total_throughput"] == 30000
    assert node.cli_json("query", "inference", "epoch", *node.client_flags())["epoch_index"] == epoch_b
