"""Inference during a PoC phase through dapi (issue 12, must-show 2), with real processes on a solo chain: alice, bob
and carol each run a dapi with one builtin-backend MLNode serving Qwen2.5-7B. After the first PoC (validated by hand
by the genesis validator) all three are members of epoch 1; a few completions inside the demand window before the
next PoC make the chain select a POC_SLOT node at P-1 (docs/schedule.md). During the following PoC the other two
MLNodes mine (their dapis cannot count prompt tokens locally: the transfer agent asks the executor's dapi to count,
docs/dapi-inference.md) while the POC_SLOT node keeps serving.

Checked: 100 completions sent at even intervals over the PoC window, spread over the three dapis as transfer agents,
all succeed; every one was started on chain between the PoC start and the epoch switch and its record's
(executor, executor_node) is a POC_SLOT allocation of the epoch (the chain's /inference/poc-slots and the sub-group's
timeslot_allocation agree); every one finishes on chain with the usage the client saw; /metrics has the per-hop
latency histograms of them (transfer agent total, executor hop, MLNode hop). Every finished inference is sampled for
validation: the deadlines of those finished in the PoC are moved past the epoch switch (docs/inference-validation.md
"Deadlines and PoC"), the two participants whose nodes mined re-run them after the switch, and all end VALID, none
UNCHALLENGED.

Epoch params (genesis): 40 blocks, first PoC at 30, generation 10 blocks, so the PoC window (P to the switch) is 21
blocks of 500 ms."""
import json
import os
import threading
import time

from framework import http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry

Q7B = "Qwen/Qwen2.5-7B-Instruct"
MESSAGES = [{"role": "user", "content": "Name a colour."}]
BLOCK_MS = 500
EPOCH = dict(epoch_length=40, epoch_shift=10, poc_stage_duration=10, poc_exchange_duration=2, poc_validation_delay=2,
             poc_validation_duration=5, model_loading_duration=4)
N_REQUESTS = 100
EXPIRATION_BLOCKS = 20  # the validation window


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def chat(url, key, max_tokens=8):
    status, text = http_request("POST", url + "/v1/chat/completions",
                                {"model": Q7B, "messages": MESSAGES, "max_tokens": max_tokens},
                                headers={"Authorization": f"Bearer {key}"}, timeout=60)
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def test_inference_during_poc_runs_on_poc_slot_nodes(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(EPOCH)
    genesis["app_state"].setdefault("schedule", {}).setdefault("params", {}).update(
        inference_validation_rate_ppm=1_000_000, inference_expiration_blocks=EXPIRATION_BLOCKS)
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    parts, keys = [], {}
    for name in ("alice", "bob", "carol"):
        p = Participant(procs, workdir, node, name, version, n_mlnodes=1, mlnode_args=POC_MLNODE_ARGS)
        p.fund().start_mlnodes()
        keys[name] = f"sk-test-{name}-0123456789"
        p.dapi.configure([node_entry(nid, m, [Q7B], max_concurrent=16) for nid, m in zip(p.node_ids, p.mlnodes)],
                         api_keys=[keys[name]]).start()
        parts.append(p)
    assert node.height() < 30, f"setup took until height {node.height()}; the first PoC starts at 30"

    # The first PoC: every dapi mines; the genesis validator (epoch 0's weight) validates them by hand.
    e = wait_until(lambda: (lambda x: x if x["upcoming_epoch_index"] is not None else None)(
        node.query("/inference/epoch")), timeout=60, what="the first PoC")
    s = e["stages"]
    node.wait_height(s["validation_start"])
    for p in parts:
        node.tx("inference", "submit-poc-validation", p.address, "--from", "validator")
    node.wait_height(s["set_new_validators"] + 1)
    epoch = node.query("/inference/epoch")
    assert epoch["epoch_index"] == e["upcoming_epoch_index"] and epoch["upcoming_epoch_index"] is None, epoch
    epoch_index = epoch["epoch_index"]
    members = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]["validation_weights"]
    assert sorted(m["member_address"] for m in members) == sorted(p.address for p in parts), members
    mlnodes = [m for p in parts for m in p.mlnodes]
    wait_until(lambda: all((mlnode_state(m) or {}).get("state") == "INFERENCE" for m in mlnodes), timeout=30,
               what="MLNodes serving the model")

    # Demand inside [P - L, P - 1] (L = 18 blocks): a few finished completions make the chain select a POC_SLOT node.
    p_next = s["next_poc_start"]
    node.wait_height(p_next - 16)
    for p in parts:
        status, body = chat(p.dapi.public_url, keys[p.name])
        assert status == 200, body
        wait_until(lambda: record(node, body["id"])["status"] == "FINISHED", timeout=20, what="a demand inference")
    assert node.height() < p_next - 1, "the demand inferences finished after the selection"

    # The PoC: 100 completions at even intervals over the window, round robin over the three transfer agents.
    e = wait_until(lambda: (lambda x: x if x["upcoming_epoch_index"] is not None else None)(
        node.query("/inference/epoch")), timeout=60, what="the second PoC")
    s = e["stages"]
    assert e["epoch_index"] == epoch_index and s["poc_start"] == p_next, e
    slots = node.query(f"/inference/poc-slots/{epoch_index}")["poc_slots"]
    slot_set = {(x["participant"], x["node_id"]) for x in slots}
    group = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]
    allocated = {(m["member_address"], n["node_id"]) for m in group["validation_weights"] for n in m["ml_nodes"]
                 if n["timeslot_allocation"][1]}
    assert slot_set and slot_set == allocated, (slots, group)
    all_nodes = {(p.address, nid) for p in parts for nid in p.node_ids}
    assert slot_set < all_nodes, (slot_set, all_nodes)  # some node mines: its dapi cannot count tokens locally
    miners = [p for p in parts if not any((p.address, nid) in slot_set for nid in p.node_ids)]
    wait_until(lambda: all((mlnode_state(m) or {}).get("state") == "POW" for p in miners for m in p.mlnodes),
               timeout=10, what="the non-POC_SLOT MLNodes to mine")

    window_s = (s["set_new_validators"] - node.height()) * BLOCK_MS / 1000.0
    interval = window_s * 0.6 / N_REQUESTS  # the last request leaves at 60% of the window: it is in a block in time
    results = [None] * N_REQUESTS

    def one(i):
        p = parts[i % len(parts)]
        results[i] = (p.name, chat(p.dapi.public_url, keys[p.name]))

    threads = []
    t0 = time.monotonic()
    for i in range(N_REQUESTS):
        delay = t0 + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=one, args=(i,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    failed = [(i, r) for i, r in enumerate(results) if r is None or r[1][0] != 200]
    assert not failed, failed[:5]

    by_ta = {}
    for name, (_, body) in results:
        by_ta[name] = by_ta.get(name, 0) + 1
        rec = wait_until(lambda: (lambda r: r if r["status"] == "FINISHED" else None)(record(node, body["id"])),
                         timeout=30, what=f"inference {body['id']} to finish")
        assert s["poc_start"] <= int(rec["start_height"]) < s["set_new_validators"], (rec, s)
        assert (rec["executor"], rec["executor_node"]) in slot_set, (rec, slot_set)
        assert (rec["prompt_tokens"], rec["completion_tokens"]) == (
            body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]), (rec, body)
    assert by_ta == {p.name: N_REQUESTS // 3 + (1 if i < N_REQUESTS % 3 else 0) for i, p in enumerate(parts)}, by_ta

    # The per-hop latency histograms: every transfer agent timed its requests; the POC_SLOT owner's MLNode hop ran
    # all of them; the other two forwarded theirs to it (the executor hop).
    (owner_address, _), = slot_set
    for p in parts:
        d = p.dapi
        assert d.metric("dapi_inference_request_seconds_count", role="transfer_agent") >= by_ta[p.name] + 1
        if p.address == owner_address:
            n = d.metric("dapi_inference_upstream_seconds_count", hop="mlnode", stage="total")
            assert n >= N_REQUESTS, n
            assert d.metric("dapi_inference_upstream_seconds_bucket", hop="mlnode", stage="first_byte",
                            le="+Inf") == d.metric("dapi_inference_upstream_seconds_count", hop="mlnode",
                                                   stage="first_byte") >= N_REQUESTS
        else:
            assert d.metric("dapi_inference_upstream_seconds_count", hop="executor", stage="total") >= by_ta[p.name]

    # Validation: every one was sampled. Finished by the switch, its window met the PoC, so its deadline is
    # EXPIRATION_BLOCKS after the switch (not past the next PoC start); only the POC_SLOT owner could re-run it
    # during the PoC and it cannot validate its own: the other two vote after the switch. VALID, never UNCHALLENGED.
    switch = s["set_new_validators"]
    deadline = switch + min(EXPIRATION_BLOCKS, s["next_poc_start"] - switch - 1)
    ids = [body["id"] for _, (_, body) in results]
    for i in ids:
        rec = record(node, i)
        assert rec["validation"] != "NOT_SAMPLED", rec
        if int(rec["finish_height"]) <= switch:
            assert int(rec["validation_deadline"]) == deadline, (rec, s)
    recs = wait_until(lambda: (lambda rs: rs if all(r["validation"] != "PENDING" for r in rs) else None)(
        [record(node, i) for i in ids]), timeout=(deadline + 5 - node.height()) * BLOCK_MS / 1000 + 30,
        what="the votes on the PoC inferences")
    others = {p.address for p in parts} - {owner_address}
    bad = [r for r in recs if r["validation"] != "VALID" or r["validated_by"] not in others]
    assert not bad, bad[:3]
