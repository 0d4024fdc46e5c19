"""The 3-participant dapi scenario on a 3-validator CometBFT network (issue 11 must-show 6, label cometbft): each
validator's operator runs a dapi (signing with the validator's account and consensus keys, talking to its own
validator's RPC) with two builtin MLNodes. For three epochs every participant has weight > 0 and each node's
poc_weight equals the distinct nonces of its batches; after each switch every node serves its epoch model; at the
end all validators have the same app hash at every height. Localnet epochs (30 blocks), first PoC at 30."""
import json
import os

from framework import wait_until
from framework.cometbft import Network
from framework.codes import result_code
from framework.dapi import POC_MLNODE_ARGS, Participant, check_epoch_group, mlnode_state

POC_BATCH_WINDOW_CLOSED = result_code("kPocBatchWindowClosed")[1]
Q7B = "Qwen/Qwen2.5-7B-Instruct"


def set_first_poc_at_epoch_length(net):
    """epoch_shift 0 in every genesis (inferenced's and CometBFT's app_state alike): the first PoC starts at 30."""
    for v in net.validators:
        for path in (os.path.join(v.spec["inferenced_home"], "config", "genesis.json"),
                     os.path.join(v.spec["cometbft_home"], "config", "genesis.json")):
            with open(path) as f:
                g = json.load(f)
            g["app_state"]["epochs"]["params"]["epoch_shift"] = 0
            with open(path, "w") as f:
                json.dump(g, f, indent=2)


def test_dapi_three_validators_cometbft(workdir, procs):
    net = Network(workdir, 3, timeout_commit="500ms")  # validation windows of 5 blocks need time
    set_first_poc_at_epoch_length(net)
    net.start(procs)
    version = net[0].query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    parts = [Participant(procs, workdir, v, "validator", version, mlnode_args=POC_MLNODE_ARGS, chain_keys=True,
                         name=f"op{i}") for i, v in enumerate(net.validators)]
    for p in parts:
        p.start_mlnodes()
    for p in parts:
        p.start([Q7B])
    assert max(net.heights()) < 25, net.heights()
    mlnodes = [m for p in parts for m in p.mlnodes]

    for epoch in (1, 2, 3):
        check_epoch_group(net[0], parts, epoch, Q7B)
        wait_until(lambda: net[0].query("/inference/epoch")["epoch_index"] >= epoch, timeout=90,
                   what=f"the switch to epoch {epoch}")

        def serving():
            states = [mlnode_state(m) for m in mlnodes]
            return all(s and s["state"] == "INFERENCE" and s.get("model") == Q7B for s in states)
        wait_until(serving, timeout=30, interval=0.2, what=f"every node serving {Q7B} in epoch {epoch}")

    for p in parts:
        # A batch queued just before the batch window closed may reach a block after it (under load this happens):
        # the chain refuses it with kPocBatchWindowClosed (docs/errors.md). Any other refusal of a batch (a bad
        # node id, a cap) is a fault; a duplicate is settled, not refused. Matched by result code, not log text.
        refused = p.dapi.metric_sum("dapi_tx_failures_total", kind="poc_batch")
        late = p.dapi.metric("dapi_tx_failures_total", kind="poc_batch", code=POC_BATCH_WINDOW_CLOSED)
        assert refused == late, p.dapi.metrics()
        assert p.dapi.metric("dapi_tx_messages_included_total", kind="poc_batch") > 0
        assert p.dapi.metric("dapi_tx_messages_included_total", kind="poc_validation") > 0
    net.wait_caught_up()
    compared = net.assert_same_app_hashes(min(net.heights()) - 1)
    assert compared > 3 * 30, compared
