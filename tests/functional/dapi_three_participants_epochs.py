"""Three participants, each a dapi with two builtin-backend MLNodes, run the network unattended on a solo chain
(issue 11 must-show 1): the genesis validator's participant and two new ones register themselves and their nodes,
mine PoC on every node with distinct node indices, validate each other, and for three epochs in a row
- every participant has weight > 0 in the new epoch group and each node's poc_weight equals the distinct nonces of
  its batches on chain;
- every node has its MLNodeInfo snapshot (throughput, poc_weight, timeslot_allocation) in its model's sub-group;
- during PoC generation the nodes without POC_SLOT are in POW;
- after the epoch switch every node serves its epoch model (INFERENCE, model of the snapshot).
Between the epochs one inference of the validator's node is recorded on chain (start/finish through the CLI) inside
the demand window before epoch 2's PoC, so the pre-PoC selection gives a node POC_SLOT: that node must keep serving
through epoch 2's PoC while the others mine, and carries its weight. Epoch params: localnet (30 blocks; PoC [P, P+6), batches until P+8, validation (P+9, P+13], switch P+17) with the
first PoC at 30, 400 ms blocks."""
from framework import wait_until
from framework.dapi import check_epoch_group, epoch_group as group, mlnode_state, start_network

Q7B = "Qwen/Qwen2.5-7B-Instruct"
BLOCK_MS = 400


def tx_retrying(node, *args):
    """A CLI tx signed with the genesis validator's key, which its dapi also uses: a sequence clash (code 32) is
    retried with the chain's next sequence."""
    for _ in range(10):
        code, r, err = node.tx(*args, "--from", "validator", check=False)
        if r is not None and r.get("code") == 0:
            return r
        assert r is not None and r.get("code") == 32, (args, code, r, err)
    raise AssertionError(f"tx {args} kept clashing with the dapi's sequence")


def record_demand(node, executor, executor_node, before_height):
    """One finished 7B inference inside the demand window [P-13, P-1] of the PoC starting at `before_height`."""
    wait_until(lambda: node.height() >= before_height - 12, timeout=60, what="the demand window")
    tx_retrying(node, "inference", "start-inference", "demand-1", Q7B, executor, executor_node, "--max-tokens", "400",
                "--prompt", "hello")
    tx_retrying(node, "inference", "finish-inference", "demand-1", "--prompt-tokens", "100", "--completion-tokens",
                "200", "--response", "world")
    inf = node.query("/inference/inferences/demand-1")["inference"]
    assert inf["status"] == "FINISHED" and inf["finish_height"] <= before_height - 1, (inf, before_height)


def test_three_participants_run_three_epochs(workdir, procs):
    node, parts = start_network(procs, workdir, ["validator", "bob", "carol"], [Q7B], block_ms=BLOCK_MS)
    mlnodes = {nid: m for p in parts for nid, m in zip(p.node_ids, p.mlnodes)}
    slot_seen = set()

    for epoch in (1, 2, 3):
        # During this epoch's PoC generation the nodes without POC_SLOT are in POW.
        def in_generation():
            info = node.query("/inference/epoch")
            s = info["stages"]
            return info if info.get("upcoming_epoch_index") == epoch and s["poc_start"] < node.height() < s["poc_end"] else None
        info = wait_until(in_generation, timeout=60, interval=0.1, what=f"PoC generation of epoch {epoch}")
        slots = set()
        if epoch > 1:
            prev = group(node, epoch - 1, Q7B)
            slots = {n["node_id"] for m in prev["validation_weights"] for n in m["ml_nodes"] if n["timeslot_allocation"][1]}
        if epoch == 2:
            assert slots, f"the recorded demand gave no node POC_SLOT: {prev}"
            slot_seen.update(slots)
        def mining():
            states = {nid: mlnode_state(m) for nid, m in mlnodes.items()}
            want = {nid: ("INFERENCE" if nid in slots else "POW") for nid in mlnodes}
            return states if all(states[n] and states[n]["state"] == want[n] for n in mlnodes) else None
        wait_until(mining, timeout=info["params"]["poc_stage_duration"] * BLOCK_MS / 1000 + 5, interval=0.1,
                   what=f"every non-POC_SLOT node in POW during epoch {epoch}'s PoC")

        check_epoch_group(node, parts, epoch, Q7B, slot_nodes=slots)

        # After the switch every node serves its epoch model.
        wait_until(lambda: node.query("/inference/epoch")["epoch_index"] >= epoch, timeout=60,
                   what=f"the switch to epoch {epoch}")
        def serving():
            states = {nid: mlnode_state(m) for nid, m in mlnodes.items()}
            return all(s and s["state"] == "INFERENCE" and s.get("model") == Q7B for s in states.values())
        wait_until(serving, timeout=30, interval=0.2, what=f"every node serving {Q7B} in epoch {epoch}")
        if epoch == 1:
            p2 = node.query("/inference/epoch")["stages"]["next_poc_start"]
            record_demand(node, parts[0].address, parts[0].node_ids[0], p2)

    # The admin API shows each node with its epoch data and no failure.
    for p in parts:
        nodes = p.dapi.nodes()
        for nid in p.node_ids:
            st = nodes[nid]["state"]
            assert st["status"] == "INFERENCE" and st["failure_reason"] == "", st
            assert st["epochs"], st
        assert p.dapi.metric("dapi_tx_messages_included_total", kind="poc_batch") > 0
        assert p.dapi.metric("dapi_tx_messages_included_total", kind="seed") >= 3
    assert slot_seen
