"""Requester-signed requests through dapi (issue 12 item 1; docs/requester-signature.md), on a solo chain with
real processes: alice runs a dapi (transfer agent and executor) with one builtin-backend MLNode serving
Qwen2.5-7B; dave is a funded account that runs no node. dave signs requests for alice's dapi
(`inferenced tx inference sign-request`, and the official `openai` client with the request hook of
examples/signed_requests.py) and pays for them.

Checked: a signed request is answered; its chain record names dave as requester and alice as transfer agent; dave's
balance fell by exactly the record's cost = (prompt + completion) x price (the escrow remainder came back). The
same signed request again is 409; a timestamp 10 minutes old or ahead is 401; a signature for another transfer
agent, over another body or by another key is 401; none of these starts anything on chain. The openai client with
the signing hook gets a completion paid by dave the same way. GET /v1/governance/pricing prices every registered
model at the next formation's unit price. Every inference is sampled for validation (rate 10^6 ppm): the first one,
voted invalid by another participant, is not paid to the executor and dave gets the cost back; the last one, with
no vote, is paid at its deadline. Epochs of 100 blocks at 200 ms."""
import hashlib
import json
import os
import sys
import time

import openai

from framework import http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
import signed_requests  # noqa: E402

Q7B = "Qwen/Qwen2.5-7B-Instruct"
EPOCH_LENGTH = 100
BLOCK_MS = 200


def started_count(node):
    return node.query(f"/inference/inference-counts/{Q7B}")["started"]


def test_signed_request_is_paid_by_the_signer(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=EPOCH_LENGTH, epoch_shift=0)
    # Every finished inference is sampled for validation (docs/inference-validation.md).
    genesis["app_state"].setdefault("schedule", {}).setdefault("params", {})["inference_validation_rate_ppm"] = 10**6
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    alice_p = Participant(procs, workdir, node, "alice", version, n_mlnodes=1, mlnode_args=POC_MLNODE_ARGS)
    alice_p.fund().start_mlnodes()
    alice_p.dapi.configure([node_entry(alice_p.node_ids[0], alice_p.mlnodes[0], [Q7B])],
                           api_keys=["sk-test-alice-0123456789"]).start()
    alice = alice_p.dapi
    # carol: a participant without MLNodes, the validator of this test (her dapi registers her).
    carol_p = Participant(procs, workdir, node, "carol", version, n_mlnodes=0)
    carol_p.fund()
    carol_p.dapi.configure([]).start()
    carol = carol_p.dapi
    # dave: a funded account with a public key on chain (it signed a send), no node.
    dave = node.add_key("dave")
    node.send("validator", dave, "100000000000nicoin")
    node.send("dave", node.address("validator"), "1nicoin")

    e = wait_until(lambda: (lambda x: x if x["upcoming_epoch_index"] is not None else None)(
        node.query("/inference/epoch")), timeout=60, what="the first PoC")
    s = e["stages"]
    node.wait_height(s["validation_start"])
    node.tx("inference", "submit-poc-validation", alice.address, "--from", "validator")
    node.wait_height(s["set_new_validators"] + 2)
    wait_until(lambda: (mlnode_state(alice_p.mlnodes[0]) or {}).get("state") == "INFERENCE", timeout=30,
               what="the MLNode serving the model")
    chain_id = node.status()["chain_id"]
    # The governance pricing (seed 3.7) through dapi is the chain's: every registered model at the unit price of
    # the next formation (the epoch params).
    status, gov = http_request("GET", alice.public_url + "/v1/governance/pricing")
    gov = json.loads(gov)
    unit = node.query("/inference/epoch-params")["params"]["default_unit_of_compute_price"]
    registry = node.query("/inference/governance/models")["models"]
    assert status == 200 and gov["unit_of_compute_price"] == unit, gov
    assert [(m["id"], int(m["price_per_token"])) for m in gov["models"]] == \
        [(m["id"], m["units_of_compute_per_token"] * unit) for m in registry], (gov, registry)
    url = alice.public_url + "/v1/chat/completions"

    def sign(body, transfer_agent=None, ts=None, key="dave"):
        path = os.path.join(workdir, "body.json")
        with open(path, "wb") as f:
            f.write(body)
        args = ["tx", "inference", "sign-request", "--from", key, "--body", path, "--transfer-agent",
                transfer_agent or alice.address, *node.client_flags()]
        if ts is not None:
            args += ["--timestamp-ms", str(ts)]
        out = node.cli_json(*args)
        assert out["chain_id"] == chain_id and out["body_sha256"] == hashlib.sha256(body).hexdigest(), out
        return out["headers"]

    def post(body, headers):
        status, text = http_request("POST", url, body, headers={**headers, "Content-Type": "application/json"},
                                    timeout=60)
        return status, json.loads(text)

    def check_paid(inference_id, usage, dave_before):
        wait_until(lambda: node.query(f"/inference/inferences/{inference_id}")["inference"]["status"] == "FINISHED",
                   timeout=30, what=f"inference {inference_id} to finish")
        rec = node.query(f"/inference/inferences/{inference_id}")["inference"]
        assert rec["requester"] == dave and rec["transfer_agent"] == alice.address, rec
        assert (rec["prompt_tokens"], rec["completion_tokens"]) == (usage["prompt_tokens"],
                                                                    usage["completion_tokens"]), (rec, usage)
        cost = (usage["prompt_tokens"] + usage["completion_tokens"]) * int(rec["per_token_price"])
        assert int(rec["cost"]) == cost > 0 and int(rec["escrow"]) >= cost, rec
        assert node.balance(dave) == dave_before - cost, (dave_before, node.balance(dave), cost)

    # A signed request, signed with the CLI: paid by dave.
    body = json.dumps({"model": Q7B, "messages": [{"role": "user", "content": "Name a colour."}],
                       "max_tokens": 32}).encode()
    headers = sign(body)
    dave0 = node.balance(dave)
    status, done = post(body, headers)
    assert status == 200 and done["choices"][0]["message"]["content"], done
    check_paid(done["id"], done["usage"], dave0)
    # Sampled: the cost waits in escrow. Another participant (carol) finds it invalid: the cost
    # goes back to dave and alice, the executor, is not paid.
    rec = node.query(f"/inference/inferences/{done['id']}")["inference"]
    assert rec["validation"] == "PENDING", rec
    alice_before = node.balance(alice.address)
    wait_until(lambda: http_request("GET", f"{node.url}/inference/participants/{carol.address}")[0] == 200,
               timeout=30, what="carol registered")
    # carol's key is in her dapi's home (the same keyring layout as inferenced's).
    node.cli("tx", "inference", "validate-inference", done["id"], "invalid", "--from", "carol", "--home", carol.home,
             "--node", node.url)
    rec = node.query(f"/inference/inferences/{done['id']}")["inference"]
    assert rec["validation"] == "INVALID" and rec["validated_by"] == carol.address, rec
    assert node.balance(dave) == dave0 and node.balance(alice.address) == alice_before
    code, _, _ = node.cli("tx", "inference", "validate-inference", done["id"], "valid", "--from", "carol", "--home",
                          carol.home, "--node", node.url, check=False)
    assert code != 0  # decided once

    # Refusals: nothing starts on chain.
    started = started_count(node)
    dave1 = node.balance(dave)
    status, err = post(body, headers)
    assert status == 409 and err["error"]["code"] == "replayed_request", err
    now = int(time.time() * 1000)
    for ts in (now - 10 * 60 * 1000, now + 10 * 60 * 1000):
        status, err = post(body, sign(body, ts=ts))
        assert status == 401 and err["error"]["code"] == "stale_timestamp", err
    status, err = post(body, sign(body, transfer_agent=node.address("validator")))
    assert status == 401 and err["error"]["code"] == "invalid_signature", err
    other = body.replace(b"colour", b"number")
    status, err = post(other, sign(body))
    assert status == 401 and err["error"]["code"] == "invalid_signature", err
    forged = dict(sign(body, key="validator"), **{"x-requester-address": dave})
    status, err = post(body, forged)
    assert status == 401 and err["error"]["code"] == "invalid_signature", err
    assert started_count(node) == started and node.balance(dave) == dave1

    # The official openai client with the signing request hook (examples/signed_requests.py).
    key_hex = node.cli("keys", "export", "dave", "--unsafe", "--home", node.home)[1].strip()
    key_hex = json.loads(key_hex)["private_key"] if key_hex.startswith("{") else key_hex
    client = signed_requests.signed_client(alice.public_url, key_hex, dave, chain_id, alice.address,
                                           max_retries=0, timeout=60)
    dave2 = node.balance(dave)
    r = client.chat.completions.create(model=Q7B, messages=[{"role": "user", "content": "Say hi."}], max_tokens=24)
    assert r.choices[0].message.content and r.usage.completion_tokens > 0, r
    check_paid(r.id, r.usage.to_dict(), dave2)
    # Nobody votes on this one: at its deadline the executor is paid (abstaining never makes it invalid).
    wait_until(lambda: node.query(f"/inference/inferences/{r.id}")["inference"]["validation"] == "UNCHALLENGED",
               timeout=30, what="the validation deadline")
