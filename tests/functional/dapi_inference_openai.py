"""The network's main job through dapi (issue 12, first slice), on a solo chain with real processes:
alice and bob each run a dapi (account keys shared with the chain CLI's keyring) and one builtin-backend MLNode
serving Qwen2.5-7B. Only bob submits PoC batches, so after the epoch switch bob is the only member of the model's
sub-group: every request sent to alice's dapi (the transfer agent; alice is the requester and pays) is executed by
bob's dapi, reached with signed headers.

Checked: the official `openai` client gets a non-streamed and a streamed completion through alice's dapi; the
chain record names bob as executor with prompt/completion tokens = the usage the client saw; alice's balance fell
by exactly the cost, bob's rose by it, and the escrow remainder came back (escrow = (prompt + max_tokens) × price
> cost). A request to bob's own dapi runs locally. Bad inputs give the exact OpenAI-shaped statuses (401 no/wrong
key, 404 unknown model listing served models, 400 malformed JSON/fields and max_tokens above the context window,
413 body too large, 402 short balance) and start nothing on chain; the executor refuses an unsigned or replayed
forward. The read API answers from the chain (models, pricing, epoch, participants, the record)."""
import json
import os

import openai
import pytest

from framework import get_json, http_request, post_json, wait_until
from framework.chain import ChainNode
from framework.dapi import Dapi, node_entry
from framework.mlnode import MlNode
from framework.participants import send_fast, wait_poc_window

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-alice-0123456789"
BOB_KEY = "sk-test-bob-0123456789"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three colours."}]
EPOCH_LENGTH = 120  # blocks: a long inference phase after the first epoch switch
BLOCK_MS = 150


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def started_count(node):
    return node.query(f"/inference/inference-counts/{Q7B}")["started"]


def participant(procs, workdir, node, key, version, api_key):
    """A chain key (so the test can sign PoC txs as it) used by a dapi with one MLNode serving Q7B."""
    address = node.add_key(key)
    node.send("validator", address, "10000000nicoin")
    ml = MlNode(procs, workdir, version, ["--threads", "1"], name=f"mlnode-{key}").start()
    status, body = post_json(ml.poc_url + f"/{version}/api/v1/inference/up", {"model": Q7B, "args": []})
    assert status == 200 and body["status"] == "OK", body
    d = Dapi(procs, workdir, node, key).init()
    d.address = address
    d.configure([node_entry(f"{key}-node-0", ml, [Q7B], max_concurrent=4)],
                key={"name": key, "keyring_file": os.path.join(node.home, "keyring", "keys.json")},
                api_keys=[api_key]).start()
    return d, ml


def wait_registered(node, d):
    def ok():
        status, nodes = get_json(f"{node.url}/inference/hardware-nodes/{d.address}")
        return status == 200 and any(n["local_id"] == f"{d.key}-node-0" for n in nodes.get("nodes", []))
    wait_until(ok, timeout=60, what=f"{d.key}'s participant and hardware record")


def chat(url, body, key=KEY, raw=None, timeout=30):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = raw if raw is not None else body
    status, text = http_request("POST", url + "/v1/chat/completions", data, headers=headers, timeout=timeout)
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def test_openai_client_through_transfer_agent_and_executor(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"]["epoch_length"] = EPOCH_LENGTH
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]

    alice, _ = participant(procs, workdir, node, "alice", version, KEY)
    bob, _ = participant(procs, workdir, node, "bob", version, BOB_KEY)
    wait_registered(node, alice)
    wait_registered(node, bob)

    # Epoch 1: only bob's node does PoC, validated by the genesis validator.
    e, s = wait_poc_window(node)
    r = send_fast(node, {"bob": (bob.address, [["inference", "submit-poc-batch", "bob-node-0", "b1",
                                                  "--nonces", "0-99"]])}, all_accepted=True)
    assert r["bob"][0]["code"] == 0, r
    node.wait_height(s["validation_start"])
    node.tx("inference", "submit-poc-validation", bob.address, "--from", "validator")
    node.wait_height(s["set_new_validators"] + 1)
    epoch = node.query("/inference/epoch")
    assert epoch["epoch_index"] == e["upcoming_epoch_index"] and epoch["upcoming_epoch_index"] is None, epoch
    members = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]["validation_weights"]
    assert [m["member_address"] for m in members] == [bob.address], members

    # Read API.
    status, models = http_request("GET", alice.public_url + "/v1/models")
    models = json.loads(models)
    assert status == 200 and models["object"] == "list" and [m["id"] for m in models["data"]] == [Q7B], models
    context = models["data"][0]["model_snapshot"]["context_window"]
    status, pricing = http_request("GET", alice.public_url + "/v1/pricing")
    pricing = json.loads(pricing)
    price = int(pricing["models"][0]["price_per_token"])
    assert status == 200 and price > 0 and pricing["models"][0]["id"] == Q7B, pricing
    status, ep = http_request("GET", alice.public_url + "/v1/epochs/current")
    assert status == 200 and json.loads(ep)["epoch_index"] == epoch["epoch_index"], ep
    status, parts = http_request("GET", alice.public_url + "/v1/participants")
    parts = json.loads(parts)
    assert status == 200 and {alice.address, bob.address} <= {p["address"] for p in parts["participants"]}, parts

    client = openai.OpenAI(base_url=alice.public_url + "/v1", api_key=KEY, max_retries=0, timeout=60)

    def check_paid(inference_id, usage, before, max_tokens):
        wait_until(lambda: record(node, inference_id)["status"] == "FINISHED", timeout=30,
                   what=f"inference {inference_id} to finish on chain")
        rec = record(node, inference_id)
        assert rec["executor"] == bob.address and rec["executor_node"] == "bob-node-0", rec
        assert rec["requester"] == alice.address and rec["transfer_agent"] == alice.address, rec
        assert (rec["prompt_tokens"], rec["completion_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
        cost = (usage.prompt_tokens + usage.completion_tokens) * price
        assert int(rec["cost"]) == cost and int(rec["per_token_price"]) == price, rec
        assert int(rec["escrow"]) == (usage.prompt_tokens + max_tokens) * price > cost, rec
        assert node.balance(alice.address) == before[0] - cost  # the escrow remainder came back
        assert node.balance(bob.address) == before[1] + cost
        status, body = http_request("GET", alice.public_url + f"/v1/chat/completions/{inference_id}")
        assert status == 200 and json.loads(body)["status"] == "FINISHED", body
        return rec

    # Non-streamed.
    before = (node.balance(alice.address), node.balance(bob.address))
    done = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=64)
    assert done.object == "chat.completion" and done.choices[0].message.content, done
    assert done.id.startswith("chatcmpl-") and done.usage.completion_tokens > 0, done
    check_paid(done.id, done.usage, before, 64)

    # Streamed (unbuffered SSE relayed by the transfer agent); the usage chunk arrives as asked.
    before = (node.balance(alice.address), node.balance(bob.address))
    stream = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=48, stream=True,
                                            stream_options={"include_usage": True})
    pieces, usage, ids = [], None, set()
    for chunk in stream:
        ids.add(chunk.id)
        usage = chunk.usage or usage
        pieces.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert pieces and usage is not None and len(ids) == 1, (pieces, usage, ids)
    check_paid(ids.pop(), usage, before, 48)

    # bob's own dapi: transfer agent and executor at once (runs locally).
    bob_client = openai.OpenAI(base_url=bob.public_url + "/v1", api_key=BOB_KEY, max_retries=0, timeout=60)
    local = bob_client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=16)
    wait_until(lambda: record(node, local.id)["status"] == "FINISHED", timeout=30, what="bob's local inference")
    rec = record(node, local.id)
    assert rec["executor"] == rec["requester"] == bob.address and rec["completion_tokens"] == local.usage.completion_tokens

    # Bad input: the exact status, an OpenAI-shaped error and nothing started on chain.
    started = started_count(node)
    ok = {"model": Q7B, "messages": MESSAGES, "max_tokens": 8}
    cases = [
        (401, chat(alice.public_url, ok, key=None)),
        (401, chat(alice.public_url, ok, key="sk-wrong-key-000000")),
        (404, chat(alice.public_url, dict(ok, model="Qwen/Nope"))),
        (400, chat(alice.public_url, None, raw=b"{not json")),
        (400, chat(alice.public_url, {"model": Q7B})),
        (400, chat(alice.public_url, dict(ok, max_tokens=-3))),
        (400, chat(alice.public_url, dict(ok, messages=[{"content": "no role"}]))),
        (400, chat(alice.public_url, dict(ok, max_tokens=context + 1))),
        (413, chat(alice.public_url, dict(ok, messages=[{"role": "user", "content": "x" * (2 << 20)}]))),
    ]
    for want, (status, body) in cases:
        assert status == want, (want, status, body)
        assert isinstance(body, dict) and body["error"]["message"], body
    assert Q7B in cases[2][1][1]["error"]["message"], cases[2]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=alice.public_url + "/v1", api_key="sk-wrong-key-000000",
                      max_retries=0).chat.completions.create(model=Q7B, messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="Qwen/Nope", messages=MESSAGES)

    # The executor refuses forwards that the transfer agent did not sign, and replays.
    status, body = chat(bob.public_url, ok, key=None)
    assert status == 401, body
    forged = {"X-Inference-Id": done.id, "X-Transfer-Agent": alice.address, "X-Timestamp": "1",
              "X-TA-Signature": "A" * 88}
    status, body = http_request("POST", bob.public_url + "/v1/chat/completions", ok, headers=forged)
    assert status == 401 and "X-TA-Signature" in body, body

    # Short balance: alice gives almost everything away; the escrow no longer fits -> 402.
    balance = node.balance(alice.address)
    node.send("alice", node.address("validator"), f"{balance - price * 20}nicoin")
    status, body = chat(alice.public_url, dict(ok, max_tokens=64))
    assert status == 402 and body["error"]["type"] == "insufficient_quota", body
    assert started_count(node) == started, "a refused request reached the chain"
    status, body = http_request("GET", alice.public_url + "/v1/chat/completions/chatcmpl-nope")
    assert status == 404, body
