"""GPU uptime on the solo chain (issue 6; docs/schedule.md): inference traffic recorded through start/finish
transactions drives the pre-PoC selection at P-1; selected nodes (POC_SLOT) cover the measured demand but never
more than 50% of a model's capacity, mine nothing during PoC (their batches are rejected), are the only executors
the query returns during PoC, and carry their poc_weight into the next epoch; real throughput during PoC is recorded
in the sub-group's real_throughput_vector.

localnet epoch params: epoch = 30 blocks; batches [P+1, P+8], validations [P+9, P+13], formation P+13, switch P+17;
the demand window of the selection is the PoC period length (13 blocks) before P, i.e. [P-13, P-1]."""
import json
import os

from framework.chain import ChainNode
from framework.participants import group, hw_node, register_participants, send_fast, wait_poc_window

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"
BLOCK_MS = 300


def slot_nodes(g):
    return [(m["member_address"], n["node_id"], n["throughput"]) for m in g["validation_weights"]
            for n in m["ml_nodes"] if n["timeslot_allocation"][1]]


def events_of(result, kind):
    return [{a["key"]: a["value"] for a in ev["attributes"]} for ev in result.get("events", []) if ev["type"] == kind]


def test_schedule_poc_slot_selection(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    # The two Qwen models only, every inference paid at finish: localnet's real CPU model and its validation
    # sampling (issue 15) are tested in localnet_*.py.
    genesis["app_state"]["models"]["models"] = [m for m in genesis["app_state"]["models"]["models"]
                                                if m["id"] in (Q7B, QWQ)]
    genesis["app_state"]["schedule"]["params"]["inference_validation_rate_ppm"] = 0
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    keys = {k: node.add_key(k) for k in ("alice", "bob", "carol")}
    alice, bob, carol = keys["alice"], keys["bob"], keys["carol"]
    for addr in keys.values():
        node.send("validator", addr, "100000000nicoin")
    nodes = {"alice": [hw_node("a-1", [Q7B, QWQ], 5000), hw_node("a-2", [QWQ], 5010)],
             "bob": [hw_node("b-1", [Q7B], 6000)], "carol": [hw_node("c-1", [QWQ], 7000)]}
    register_participants(node, workdir, nodes)

    # ---- Epoch A: every node mines 100 nonces, the genesis validator validates.
    e, s = wait_poc_window(node)
    epoch_a = e["upcoming_epoch_index"]
    r = send_fast(node, {
        "alice": (alice, [["inference", "submit-poc-batch", "a-1", "b1", "--nonces", "0-99"],
                          ["inference", "submit-poc-batch", "a-2", "b1", "--nonces", "100-199"]]),
        "bob": (bob, [["inference", "submit-poc-batch", "b-1", "b1", "--nonces", "0-99"]]),
        "carol": (carol, [["inference", "submit-poc-batch", "c-1", "b1", "--nonces", "0-99"]]),
    })
    assert all(x["code"] == 0 for v in r.values() for x in v), r
    node.wait_height(s["validation_start"])
    r = send_fast(node, {"validator": (node.address("validator"), [["inference", "submit-poc-validation", p]
                                                                    for p in (alice, bob, carol)])})
    assert all(x["code"] == 0 for x in r["validator"]), r
    node.wait_height(s["set_new_validators"])
    assert node.query("/inference/epoch")["epoch_index"] == epoch_a
    g7 = group(node, epoch_a, Q7B)
    assert g7["expected_throughput_vector"] == [g7["total_throughput"], 0], g7  # PRE_POC_SLOT expected = capacity
    assert g7["total_throughput"] == 200 * 10000  # a-1 and b-1, 100 nonces each, throughput_per_nonce 10000
    p_next = s["next_poc_start"]

    # ---- Inference traffic for the 7B model inside the demand window [P-13, P-1] (none for QwQ).
    price = g7["model_snapshot"]["units_of_compute_per_token"] * g7["unit_of_compute_price"]
    alice_before, bob_before = node.balance(alice), node.balance(bob)
    _, started, _ = node.tx("inference", "start-inference", "inf-1", Q7B, bob, "b-1", "--max-tokens", "400",
                    "--prompt", "hello", "--from", "alice")
    assert started["code"] == 0, started
    assert node.balance(alice) == alice_before - 400 * price
    _, finished, _ = node.tx("inference", "finish-inference", "inf-1", "--prompt-tokens", "100",
                     "--completion-tokens", "200", "--response", "world", "--from", "bob")
    assert finished["code"] == 0, finished
    assert node.balance(bob) == bob_before + 300 * price and node.balance(alice) == alice_before - 300 * price
    inf = node.query("/inference/inferences/inf-1")["inference"]
    assert inf["status"] == "FINISHED" and inf["cost"] == str(300 * price), inf
    assert p_next - 13 <= inf["start_height"] and inf["finish_height"] <= p_next - 1, (inf, p_next)
    _, again, _ = node.tx("inference", "finish-inference", "inf-1", "--prompt-tokens", "1", "--completion-tokens", "1",
                  "--from", "bob", check=False)
    assert again["code"] != 0 and "already finished" in again["log"], again
    counts = node.query(f"/inference/inference-counts/{Q7B}")
    assert counts["tokens"] == 300 and counts["finished"] == 1, counts

    # ---- P-1: the selection (recorded in the CURRENT epoch A's sub-group).
    node.wait_height(p_next)
    g7 = group(node, epoch_a, Q7B)
    gq = group(node, epoch_a, QWQ)
    selected = slot_nodes(g7)
    print(f"epoch {epoch_a}: 7B POC_SLOT {selected}, vectors {g7['expected_throughput_vector']}")
    assert len(selected) == 1, g7  # demand 300 tokens > 0: one node covers it; a second would exceed 50%
    assert sum(t for _, _, t in selected) * 2 <= g7["total_throughput"]
    assert g7["expected_throughput_vector"][1] == 300, g7
    assert slot_nodes(gq) == [] and gq["expected_throughput_vector"][1] == 0, gq  # no demand, no selection
    slots = node.query(f"/inference/poc-slots/{epoch_a}")["poc_slots"]
    assert [(x["participant"], x["node_id"]) for x in slots] == [(a, n) for a, n, _ in selected], slots
    owner, slot_node, _ = selected[0]
    owner_key = "alice" if owner == alice else "bob"
    other = ("b-1", "bob") if owner_key == "alice" else ("a-1", "alice")
    block = node.block(p_next - 1)[1]
    print("selection block events:", json.dumps(block)[:2000])

    # ---- PoC of epoch B: the POC_SLOT node mines nothing; the executor query returns only it.
    e, s = wait_poc_window(node)
    epoch_b = e["upcoming_epoch_index"]
    assert epoch_b == epoch_a + 1
    for seed in range(8):
        ex = node.cli_json("query", "inference", "executor", "--model", Q7B, "--seed", str(seed), *node.client_flags())
        assert ex["poc_slot_only"] is True and (ex["participant"], ex["node_id"]) == (owner, slot_node), ex
        assert ex["url"] == f"http://{owner_key}.example:8000", ex
    ex = node.query(f"/inference/executor?model={QWQ}", expect=404)
    assert "POC_SLOT" in ex["error"]["message"], ex
    batches = {"alice": (alice, []), "bob": (bob, []), "carol": (carol, [])}
    batches[owner_key][1].append(["inference", "submit-poc-batch", slot_node, "b2", "--nonces", "0-49"])
    if owner_key == "alice":
        batches["alice"][1].append(["inference", "submit-poc-batch", "a-2", "b2", "--nonces", "100-199"])
        batches["bob"][1].append(["inference", "submit-poc-batch", "b-1", "b2", "--nonces", "0-99"])
    else:
        batches["alice"][1].extend([["inference", "submit-poc-batch", "a-1", "b2", "--nonces", "0-99"],
                                    ["inference", "submit-poc-batch", "a-2", "b2", "--nonces", "100-199"]])
    batches["carol"][1].append(["inference", "submit-poc-batch", "c-1", "b2", "--nonces", "0-99"])
    r = send_fast(node, batches)
    rejected = r[owner_key][0]
    assert rejected["code"] != 0 and "POC_SLOT" in rejected["log"] and "mines nothing" in rejected["log"], rejected
    assert all(x["code"] == 0 for k, v in r.items() for x in (v[1:] if k == owner_key else v)), r
    assert node.query(f"/inference/poc-batches/{epoch_b}/{owner}/{slot_node}")["batches"] == []
    # Inference served by the POC_SLOT node during PoC = real throughput.
    _, st, _ = node.tx("inference", "start-inference", "inf-2", Q7B, owner, slot_node, "--max-tokens", "100",
               "--from", "carol")
    assert st["code"] == 0, st
    _, fin, _ = node.tx("inference", "finish-inference", "inf-2", "--prompt-tokens", "20", "--completion-tokens", "30",
                "--from", owner_key)
    assert fin["code"] == 0, fin
    miners = [p for p in (alice, bob, carol) if node.query(f"/inference/poc-batches/{epoch_b}/{p}")["batches"]]
    node.wait_height(s["validation_start"])
    r = send_fast(node, {k: (keys[k], [["inference", "submit-poc-validation", p] for p in miners])
                         for k in ("alice", "bob", "carol")})
    assert all(x["code"] == 0 for v in r.values() for x in v), r

    node.wait_height(s["validation_end"])
    g7 = group(node, epoch_a, Q7B)
    assert g7["real_throughput_vector"][1] == 50, g7
    print(f"epoch {epoch_a}: 7B expected {g7['expected_throughput_vector']} real {g7['real_throughput_vector']}")

    # ---- Epoch B: the POC_SLOT node carries its poc_weight (100) without having mined.
    node.wait_height(s["set_new_validators"])
    assert node.query("/inference/epoch")["epoch_index"] == epoch_b
    parent_b = group(node, epoch_b)
    weights_b = {(m["member_address"], n["node_id"]): n["poc_weight"] for m in parent_b["validation_weights"]
                 for n in m["ml_nodes"]}
    assert weights_b[(owner, slot_node)] == 100, weights_b
    for m in parent_b["validation_weights"]:
        assert m["weight"] == sum(n["poc_weight"] for n in m["ml_nodes"]), m
    assert group(node, epoch_b, Q7B)["total_throughput"] == 200 * 10000
    # After the switch every node serves again.
    ex = node.query(f"/inference/executor?model={Q7B}&seed=1")
    assert ex["poc_slot_only"] is False and ex["candidates"] == 2, ex
