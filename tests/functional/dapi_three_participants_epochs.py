"""Three participants, each a dapi with two builtin-backend MLNodes, run the network unattended on a solo chain
(issue 11 must-show 1): the genesis validator's participant and two new ones register themselves and their nodes,
mine PoC on every node with distinct node indices, validate each other, and for three epochs in a row
- every participant has weight > 0 in the new epoch group and each node's poc_weight equals the distinct nonces of
  its batches on chain;
- every node has its MLNodeInfo snapshot (throughput, poc_weight, timeslot_allocation) in its model's sub-group;
- during PoC generation the nodes without POC_SLOT are in POW;
- after the epoch switch every node serves its epoch model (INFERENCE, model of the snapshot).
Epoch params: localnet (30 blocks; PoC [P, P+6), batches until P+8, validation (P+9, P+13], switch P+17) with the
first PoC at 30, 400 ms blocks."""
from framework import wait_until
from framework.dapi import check_epoch_group, epoch_group as group, mlnode_state, start_network

Q7B = "Qwen/Qwen2.5-7B-Instruct"
BLOCK_MS = 400


def test_three_participants_run_three_epochs(workdir, procs):
    node, parts = start_network(procs, workdir, ["validator", "bob", "carol"], [Q7B], block_ms=BLOCK_MS)
    mlnodes = {nid: m for p in parts for nid, m in zip(p.node_ids, p.mlnodes)}

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
        def mining():
            states = {nid: mlnode_state(m) for nid, m in mlnodes.items()}
            want = {nid: ("INFERENCE" if nid in slots else "POW") for nid in mlnodes}
            return states if all(states[n] and states[n]["state"] == want[n] for n in mlnodes) else None
        wait_until(mining, timeout=info["params"]["poc_stage_duration"] * BLOCK_MS / 1000 + 5, interval=0.1,
                   what=f"every non-POC_SLOT node in POW during epoch {epoch}'s PoC")

        check_epoch_group(node, parts, epoch, Q7B)

        # After the switch every node serves its epoch model.
        wait_until(lambda: node.query("/inference/epoch")["epoch_index"] >= epoch, timeout=60,
                   what=f"the switch to epoch {epoch}")
        def serving():
            states = {nid: mlnode_state(m) for nid, m in mlnodes.items()}
            return all(s and s["state"] == "INFERENCE" and s.get("model") == Q7B for s in states.values())
        wait_until(serving, timeout=30, interval=0.2, what=f"every node serving {Q7B} in epoch {epoch}")

    # The admin API shows each node with its epoch data and no failure.
    for p in parts:
        nodes = p.dapi.nodes()
        for nid in p.node_ids:
            st = nodes[nid]["state"]
            assert st["status"] == "INFERENCE" and st["failure_reason"] == "", st
            assert st["epochs"], st
        assert p.dapi.metric("dapi_tx_messages_included_total", kind="poc_batch") > 0
        assert p.dapi.metric("dapi_tx_messages_included_total", kind="seed") >= 3
