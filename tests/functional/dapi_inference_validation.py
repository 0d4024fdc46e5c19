"""Inference validation off chain (issue 12 item 6, must-show 5; docs/inference-validation.md), with real processes:
a solo chain whose genesis samples every finished inference (inference_validation_rate_ppm = 1,000,000) and three
participants alice, bob and carol, each a dapi with one builtin-backend MLNode serving Qwen2.5-7B. Bob's dapi runs
with the TEST-ONLY output fault (DAPI_TEST_FAULT=reverse_tokens, explicitly enabled): as executor it reverses every
token of its answers before hashing and returning them. Requests go to alice's dapi (the transfer agent; alice is
the requester and pays); the chain picks the executor.

Checked: the client sees no logprobs it did not ask for (the executor asked its MLNode for them); every inference is
sampled; the other participants' validators fetch the executor's payload, re-run it on their own MLNode with
enforced_str and vote: bob's inferences end INVALID and bob is not paid for them (his balance does not move; the
cost goes back to alice), carol's end VALID and carol is paid exactly their cost; alice's own end VALID; none stays
PENDING or is UNCHALLENGED. The validators' /metrics count their votes. The payload endpoint refuses an unsigned
call (401), a bad signature (401), a stranger (403) and the executor itself (403), OpenAI-shaped.
Epochs of 200 blocks at 200 ms: first PoC at 200, switch at ~217, inference until 400."""
import base64
import hashlib
import json
import os
import time

import coincurve
import openai
from coincurve.ecdsa import der_to_cdata, serialize_compact

from framework import http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry, validate_first_poc

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-alice-0123456789"
MESSAGES = [{"role": "user", "content": "Name three colours."}]
EPOCH_LENGTH = 200
BLOCK_MS = 200
EXPIRATION_BLOCKS = 40  # the validation window: 8 s at 200 ms blocks


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def payload_headers(dapi, inference_id, executor):
    """The signed headers of a payload request by `dapi`'s participant (docs/inference-validation.md)."""
    with open(os.path.join(dapi.home, "keyring", "keys.json")) as f:
        key_hex = next(k["private_key"] for k in json.load(f)["keys"] if k["address"] == dapi.address)
    ts = int(time.time() * 1000)
    digest = hashlib.sha256(b"\0".join([b"dapi/payload/v1", inference_id.encode(), str(ts).encode(),
                                        executor.encode()])).digest()
    der = coincurve.PrivateKey(bytes.fromhex(key_hex)).sign(digest, hasher=None)
    return {"X-Validator-Address": dapi.address, "X-Timestamp": str(ts),
            "X-Validator-Signature": base64.b64encode(serialize_compact(der_to_cdata(der))).decode()}


def test_sampled_inferences_of_a_faulty_executor_end_invalid_and_unpaid(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=EPOCH_LENGTH, epoch_shift=0)
    genesis["app_state"]["schedule"]["params"].update(inference_validation_rate_ppm=1_000_000,
                                                      inference_expiration_blocks=EXPIRATION_BLOCKS)
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    assert node.query("/inference/schedule-params")["params"]["inference_validation_rate_ppm"] == 1_000_000
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    unit_price = genesis["app_state"]["epochs"]["params"]["default_unit_of_compute_price"]
    uoc = node.query(f"/inference/governance/models/{Q7B}")["model"]["units_of_compute_per_token"]
    parts = {}
    for name in ("alice", "bob", "carol"):
        funds = f"{uoc * unit_price * 4000}nicoin" if name == "alice" else "10000000nicoin"
        parts[name] = Participant(procs, workdir, node, name, version, n_mlnodes=1, mlnode_args=POC_MLNODE_ARGS,
                                  funds=funds)
    parts["bob"].dapi.process.env = {"DAPI_TEST_FAULT": "reverse_tokens",
                                     "DAPI_ENABLE_TEST_FAULTS": "i-know-this-breaks-payment"}
    for name, p in parts.items():
        p.fund().start_mlnodes()
        nodes = [node_entry(nid, m, [Q7B], max_concurrent=4) for nid, m in zip(p.node_ids, p.mlnodes)]
        p.dapi.configure(nodes, api_keys=[KEY] if name == "alice" else []).start()
    alice, bob, carol = (parts[n].dapi for n in ("alice", "bob", "carol"))
    assert "TEST FAULT reverse_tokens ENABLED" in bob.process.log()
    assert "TEST FAULT" not in alice.process.log()

    # The first PoC: the dapis mine; the genesis validator (epoch 0's weight) validates them by hand.
    # Past epoch 0's settlement: balances move only by inferences.
    validate_first_poc(node, (alice, bob, carol), after=2, timeout=90)
    members = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]["validation_weights"]
    assert sorted(m["member_address"] for m in members) == sorted(p.address for p in (alice, bob, carol)), members
    wait_until(lambda: all((mlnode_state(p.mlnodes[0]) or {}).get("state") == "INFERENCE" for p in parts.values()),
               timeout=30, what="MLNodes serving the model")

    # The payload endpoint refuses strangers before looking at anything else.
    url = bob.public_url + "/v1/inferences/chatcmpl-00/payload"
    bad_sig = base64.b64encode(b"\x01" * 64).decode()
    for status, headers in [
        (401, {}),
        (401, {"X-Validator-Address": alice.address, "X-Timestamp": "1", "X-Validator-Signature": "x"}),
        (403, {"X-Validator-Address": bob.address, "X-Timestamp": "1", "X-Validator-Signature": bad_sig}),
    ]:
        got, body = http_request("GET", url, headers=headers, timeout=10)
        assert got == status and json.loads(body)["error"]["message"], (status, got, body)
    now = str(int(time.time() * 1000))
    got, body = http_request("GET", url, headers={"X-Validator-Address": alice.address, "X-Timestamp": now,
                                                  "X-Validator-Signature": bad_sig}, timeout=10)
    assert got == 401 and json.loads(body)["error"]["code"] == "invalid_signature", (got, body)
    got, body = http_request("GET", url, headers={"X-Validator-Address": node.address("validator")[:-4] + "qqqq",
                                                  "X-Timestamp": now, "X-Validator-Signature": bad_sig}, timeout=10)
    assert got == 403, (got, body)

    client = openai.OpenAI(base_url=alice.public_url + "/v1", api_key=KEY, max_retries=0, timeout=60)
    before = {n: node.balance(p.address) for n, p in parts.items()}
    ids = []

    def non_streamed():
        done = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=24)
        assert done.choices[0].message.content and done.choices[0].logprobs is None, done
        return done.id

    def streamed():
        stream = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=24, stream=True)
        seen = set()
        for chunk in stream:
            seen.add(chunk.id)
            assert all(c.logprobs is None for c in chunk.choices), chunk
        assert len(seen) == 1, seen
        return seen.pop()

    # Until bob executed a non-streamed and a streamed one, and carol one (each draw is ~1/3 per participant).
    want = {(bob.address, "whole"), (bob.address, "stream"), (carol.address, None)}
    for i in range(30):
        kind = "whole" if i % 2 == 0 else "stream"
        inference_id = non_streamed() if kind == "whole" else streamed()
        ids.append(inference_id)
        wait_until(lambda: record(node, inference_id)["status"] == "FINISHED", timeout=30, what="finish on chain")
        executor = record(node, inference_id)["executor"]
        want -= {(executor, kind), (executor, None)}
        if not want:
            break
    assert not want, f"the chain never picked {want}"

    def decided():
        recs = [record(node, i) for i in ids]
        return recs if all(r["validation"] not in ("PENDING", "NOT_SAMPLED") for r in recs) else None

    recs = wait_until(decided, timeout=EXPIRATION_BLOCKS * BLOCK_MS / 1000 + 20, what="every validation decided")
    paid = {n: 0 for n in parts}
    for r in recs:
        executor = next(n for n, p in parts.items() if p.address == r["executor"])
        expected = "INVALID" if executor == "bob" else "VALID"
        assert r["validation"] == expected, (executor, r)
        assert r["validated_by"] not in ("", r["executor"]), r
        if expected == "VALID":
            paid[executor] += int(r["cost"])
    after = {n: node.balance(p.address) for n, p in parts.items()}
    assert after["bob"] == before["bob"], (before, after)  # never paid for an altered output
    assert after["carol"] == before["carol"] + paid["carol"] and paid["carol"] > 0, (before, after, paid)
    # Alice paid only the valid inferences of others: her escrow came back, and so did the cost of bob's.
    assert after["alice"] == before["alice"] - paid["carol"], (before, after, paid)

    # With a good signature: a decided inference is no longer served (403), an unknown one is 404.
    bob_ids = [r["id"] for r in recs if r["executor"] == bob.address]
    for inference_id, status, code in [(bob_ids[0], 403, "not_awaiting_validation"),
                                       ("chatcmpl-unknown", 404, "not_found")]:
        got, body = http_request("GET", f"{bob.public_url}/v1/inferences/{inference_id}/payload",
                                 headers=payload_headers(carol, inference_id, bob.address), timeout=10)
        assert got == status and json.loads(body)["error"]["code"] == code, (inference_id, got, body)

    invalid_votes = sum(v.metric("dapi_inference_validations_total", result="invalid") for v in (alice, carol))
    valid_votes = sum(v.metric("dapi_inference_validations_total", result="valid") for v in (alice, bob, carol))
    n_bob = sum(r["executor"] == bob.address for r in recs)
    assert invalid_votes >= n_bob and valid_votes >= len(recs) - n_bob, (invalid_votes, valid_votes)
    assert bob.metric("dapi_inference_validations_total", result="invalid") == 0
    wait_until(lambda: all(d.metric("dapi_inference_validations_pending") == 0 for d in (alice, bob, carol)),
               timeout=10, what="no validation left pending")
    print(f"{len(recs)} inferences: {n_bob} by bob INVALID, {len(recs) - n_bob} VALID; carol paid {paid['carol']}; "
          f"votes invalid {invalid_votes} valid {valid_votes}")
