"""kill -9 of a dapi during PoC generation, then a restart (issue 11 must-show 2): the dapi resumes following the
chain from the height it persisted (no block skipped: its height metric catches up with the chain), its participant
still gets weight in the epoch being formed, and the chain holds no batch twice (per node, the nonces of all its
batches are distinct: a batch the MLNode re-posts after the crash keeps its id and is not sent again).
Malformed MLNode callbacks (not JSON, a foreign public key, an unknown node index, oversized) get 4xx and queue
nothing (issue 11 "bad input changes nothing"); after the batch window a well-formed batch gets 410 (refused for good,
docs/dapi.md "MLNode callbacks") and is not queued either."""
import base64
import json
import re

from framework import http_request, wait_until
from framework.dapi import formed_group, start_network

Q7B = "Qwen/Qwen2.5-7B-Instruct"
BLOCK_MS = 400


def test_dapi_killed_during_poc_generation_resumes(workdir, procs):
    node, (validator, bob) = start_network(procs, workdir, ["validator", "bob"], [Q7B], block_ms=BLOCK_MS)

    # Kill bob's dapi once it queued a batch of epoch 1's PoC, while generation still runs.
    def generating_with_batches():
        e = node.query("/inference/epoch")
        s = e["stages"]
        in_generation = e.get("upcoming_epoch_index") == 1 and s["poc_start"] < node.height() < s["poc_end"]
        return s if in_generation and bob.dapi.metric("dapi_tx_messages_queued_total", kind="poc_batch") > 0 else None
    stages = wait_until(generating_with_batches, timeout=60, interval=0.05, what="bob's first batch of epoch 1")
    persisted_before = bob.dapi.metric("dapi_block_height")
    bob.dapi.kill9()
    killed_at = node.height()
    assert killed_at < stages["poc_exchange_end"], (killed_at, stages)

    bob.dapi.start()
    m = wait_until(lambda: re.findall(r"following blocks from height (\d+)", bob.dapi.process.log()), timeout=30,
                   what="the restarted dapi to resume following")
    resumed_from = int(m[-1])
    assert 1 < resumed_from <= killed_at + 1 and resumed_from >= persisted_before, (resumed_from, killed_at)
    h = node.height()
    wait_until(lambda: bob.dapi.metric("dapi_block_height") >= h, timeout=30, what="the restarted dapi to catch up")

    # Bob still has weight in epoch 1, and nothing was stored twice.
    parent = wait_until(lambda: formed_group(node, 1), timeout=60, interval=0.2, what="epoch 1's group")
    weights = {m["member_address"]: m["weight"] for m in parent["validation_weights"]}
    assert weights.get(bob.address, 0) > 0 and weights.get(validator.address, 0) > 0, parent
    for nid in bob.node_ids:
        batches = node.query(f"/inference/poc-batches/1/{bob.address}/{nid}")["batches"]
        ids = [b["batch_id"] for b in batches]
        nonces = [n for b in batches for n in b["nonces"]]
        assert batches and len(set(ids)) == len(ids), ids
        assert len(set(nonces)) == len(nonces), f"{nid}: a nonce appears in two batches"


def test_malformed_callbacks_queue_nothing(workdir, procs):
    node, (validator,) = start_network(procs, workdir, ["validator"], [Q7B], block_ms=BLOCK_MS)
    d = validator.dapi
    wait_until(lambda: d.metric("dapi_tx_messages_queued_total", kind="poc_batch") > 0, timeout=60,
               what="the first PoC batch")
    p = node.query("/inference/epoch")["stages"]["poc_start"]
    batch = {"public_key": "02" + "11" * 32, "block_hash": "AB" * 32, "block_height": p, "node_id": 0,
             "nonces": [1, 2], "dist": [0.5, 0.6]}
    url = d.callback_url + "/v1/poc-batches/generated"
    wait_until(lambda: formed_group(node, 1), timeout=60, what="epoch 1's group (no more batches of this PoC)")
    queued = d.metric("dapi_tx_messages_queued_total", kind="poc_batch")
    assert http_request("POST", url, b"{not json")[0] == 400
    assert http_request("POST", url, dict(batch, nonces=[1], dist=[0.5, 0.6]))[0] == 400
    assert http_request("POST", url, batch)[0] == 403  # someone else's key
    status, body = http_request("POST", d.callback_url + "/v1/poc-batches/validated", {"public_key": 7})
    assert status == 400, body
    assert http_request("POST", url, b"[" + b"1," * (5 * 1024 * 1024) + b"1]", timeout=30)[0] == 413
    # A well-formed batch of our own key after the batch window: refused for good (410, the MLNode drops it).
    own_key = base64.b64decode(node.query(f"/auth/accounts/{validator.address}")["public_key"]).hex()
    status, body = http_request("POST", url, dict(batch, public_key=own_key))
    assert status == 410 and json.loads(body)["error"]["code"] == "window_closed", (status, body)
    assert d.metric("dapi_poc_callbacks_refused_total", kind="generated") >= 1
    assert d.metric("dapi_tx_messages_queued_total", kind="poc_batch") == queued
