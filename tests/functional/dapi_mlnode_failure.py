"""An MLNode that dies is reported and repaired (issue 11 must-show 4): after the epoch switch both nodes of the
participant serve the epoch model; kill -9 of one MLNode makes /admin/v1/nodes show it FAILED with the reason while
the other keeps serving; restarted on the same ports, it is brought back to the phase's intended state."""
from framework import wait_until
from framework.dapi import mlnode_state, start_network

Q7B = "Qwen/Qwen2.5-7B-Instruct"


def test_mlnode_killed_is_failed_then_restored(workdir, procs):
    node, (p,) = start_network(procs, workdir, ["validator"], [Q7B], block_ms=400)
    dead_id, live_id = p.node_ids
    dead, live = p.mlnodes

    def serving(m):
        s = mlnode_state(m)
        return s and s["state"] == "INFERENCE" and s.get("model") == Q7B
    wait_until(lambda: node.query("/inference/epoch")["epoch_index"] >= 1, timeout=60, what="epoch 1")
    wait_until(lambda: serving(dead) and serving(live), timeout=30, what="both nodes serving epoch 1's model")
    wait_until(lambda: p.dapi.nodes()[dead_id]["state"]["status"] == "INFERENCE", timeout=10,
               what="the admin view of a serving node")

    dead.process.kill9()
    failed = wait_until(lambda: (lambda n: n if n[dead_id]["state"]["status"] == "FAILED" else None)(p.dapi.nodes()),
                        timeout=30, interval=0.2, what="the killed node FAILED in /admin/v1/nodes")
    reason = failed[dead_id]["state"]["failure_reason"]
    assert reason and ("refused" in reason or "connect" in reason), failed[dead_id]
    assert failed[live_id]["state"]["status"] == "INFERENCE" and failed[live_id]["state"]["failure_reason"] == ""
    assert serving(live)
    wait_until(lambda: p.dapi.metric("dapi_node_state", node=dead_id, state="FAILED") == 1, timeout=10,
               what="the FAILED state in /metrics (updated every block)")

    dead.start()  # same ports; the MLNode starts STOPPED
    wait_until(lambda: serving(dead), timeout=60, interval=0.2, what="the restarted node serving again")
    wait_until(lambda: p.dapi.nodes()[dead_id]["state"]["status"] == "INFERENCE", timeout=30,
               what="the admin view of the repaired node")
    assert p.dapi.nodes()[dead_id]["state"]["failure_reason"] == ""
    assert serving(live)
