"""The network's main job through dapi (issue 12, first slice), on a solo chain with real processes:
alice (1 MLNode) and bob (2 MLNodes) each run a dapi that mines PoC on its builtin-backend MLNodes serving
Qwen2.5-7B; the genesis validator validates the first PoC by hand. After the epoch switch both are members of the
model's sub-group and requests go to alice's dapi (the transfer agent; alice is the requester and pays). The chain's
executor query picks alice or bob per request (weighted): bob's are reached with signed headers, alice's run locally.

Checked: the official `openai` client gets non-streamed and streamed completions through alice's dapi; the chain
record names the executor with prompt/completion tokens = the usage the client saw; for a completion run by bob,
alice's balance fell by exactly the cost and bob's rose by it, and the escrow remainder came back
(escrow = (prompt + max_tokens) x price > cost); for one run by alice her balance is unchanged. Bad inputs give the
exact OpenAI-shaped statuses (401 no/wrong key, 404 unknown model listing served models, 400 malformed JSON/fields
and max_tokens above the context window, 413 body too large, 402 short balance) and start nothing on chain; the
executor refuses an unsigned forward. The read API answers from the chain (models, pricing, governance models and
pricing, epoch, participants, the record); every completion reports its cost. Every MLNode runs with
max_concurrent 1: of concurrent streams beyond the nodes, those sent to a busy executor (429) fail over to another;
a client gets 429 with Retry-After only when every executor tried was busy (dapi_inference_busy_failover). A
stream whose executing MLNode is killed in the middle ends with an error event, is not finished on chain and expires with the whole escrow back. When bob's dapi is killed, requests through alice fail over to
another executor. Epochs of 180 blocks at 200 ms: first PoC at 180, switch at 197, inference until 360."""
import json
import os
import threading
import urllib.error
import urllib.request

import openai
import pytest

from framework import http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry, validate_first_poc

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-alice-0123456789"
BOB_KEY = "sk-test-bob-0123456789"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three colours."}]
EPOCH_LENGTH = 180
BLOCK_MS = 200
# Paced builtin generation (first token after 600 ms, then 40 tokens/s) so that requests overlap and a stream can
# be interrupted in the middle.
MLNODE_ARGS = (*POC_MLNODE_ARGS, "--ttft-ms", "600", "--tokens-per-second", "40")


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def started_count(node):
    return node.query(f"/inference/inference-counts/{Q7B}")["started"]


def chat(url, body, key=KEY, raw=None, timeout=30):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = raw if raw is not None else body
    status, text = http_request("POST", url + "/v1/chat/completions", data, headers=headers, timeout=timeout)
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def post_stream(url, body, key):
    """(status, headers with lower-case names, body text) of a raw POST /v1/chat/completions."""
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def test_openai_client_through_transfer_agent_and_executor(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=EPOCH_LENGTH, epoch_shift=0)
    # Every executor is paid at finish here (validation sampling, on in localnet, is tested elsewhere).
    genesis["app_state"]["schedule"]["params"]["inference_validation_rate_ppm"] = 0
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    unit_price = genesis["app_state"]["epochs"]["params"]["default_unit_of_compute_price"]
    uoc = node.query(f"/inference/governance/models/{Q7B}")["model"]["units_of_compute_per_token"]
    alice_p = Participant(procs, workdir, node, "alice", version, n_mlnodes=1, mlnode_args=MLNODE_ARGS,
                          funds=f"{uoc * unit_price * 3000}nicoin")
    # Bob is the transfer agent of the busy tests below: each executor tried holds its own escrow until it expires.
    bob_p = Participant(procs, workdir, node, "bob", version, n_mlnodes=2, mlnode_args=MLNODE_ARGS,
                        funds=f"{uoc * unit_price * 20000}nicoin")
    for p, key in ((alice_p, KEY), (bob_p, BOB_KEY)):
        p.fund().start_mlnodes()
        nodes = [node_entry(nid, m, [Q7B], max_concurrent=1) for nid, m in zip(p.node_ids, p.mlnodes)]
        p.dapi.configure(nodes, api_keys=[key]).start()
    alice, bob = alice_p.dapi, bob_p.dapi

    # The first PoC: both dapis mine on their MLNodes; the genesis validator (epoch 0's weight) validates them.
    # Past the settlement of epoch 0: balances move only by inferences.
    e = validate_first_poc(node, (alice, bob), after=2)
    epoch = node.query("/inference/epoch")
    assert epoch["epoch_index"] == e["upcoming_epoch_index"] and epoch["upcoming_epoch_index"] is None, epoch
    members = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]["validation_weights"]
    assert sorted(m["member_address"] for m in members) == sorted([alice.address, bob.address]), members
    wait_until(lambda: all((mlnode_state(m) or {}).get("state") == "INFERENCE"
                           for m in alice_p.mlnodes + bob_p.mlnodes), timeout=30, what="MLNodes serving the model")

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
    status, gov = http_request("GET", alice.public_url + "/v1/governance/models")
    assert status == 200 and Q7B in [m["id"] for m in json.loads(gov)["models"]], gov
    status, gov = http_request("GET", alice.public_url + "/v1/governance/pricing")
    gov = {m["id"]: m for m in json.loads(gov)["models"]}
    assert status == 200 and int(gov[Q7B]["price_per_token"]) == price, gov
    status, parts = http_request("GET", alice.public_url + "/v1/participants")
    parts = json.loads(parts)
    assert status == 200 and {alice.address, bob.address} <= {p["address"] for p in parts["participants"]}, parts

    client = openai.OpenAI(base_url=alice.public_url + "/v1", api_key=KEY, max_retries=0, timeout=60)

    def check_paid(inference_id, usage, before, max_tokens, reported_cost):
        """The record and the balances of one finished completion; returns its executor."""
        assert reported_cost == {"per_token_price": str(price), "denom": "nicoin",
                                 "amount": str((usage.prompt_tokens + usage.completion_tokens) * price)}
        wait_until(lambda: record(node, inference_id)["status"] == "FINISHED", timeout=30,
                   what=f"inference {inference_id} to finish on chain")
        rec = record(node, inference_id)
        assert rec["executor"] in (alice.address, bob.address), rec
        assert rec["executor_node"] in (alice_p.node_ids + bob_p.node_ids), rec
        assert rec["requester"] == alice.address and rec["transfer_agent"] == alice.address, rec
        assert (rec["prompt_tokens"], rec["completion_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
        cost = (usage.prompt_tokens + usage.completion_tokens) * price
        assert int(rec["cost"]) == cost and int(rec["per_token_price"]) == price, rec
        assert int(rec["escrow"]) == (usage.prompt_tokens + max_tokens) * price > cost, rec
        after = (node.balance(alice.address), node.balance(bob.address))
        if rec["executor"] == bob.address:
            assert after == (before[0] - cost, before[1] + cost), (before, after, cost)  # remainder came back
        else:
            assert after == before, (before, after)  # alice paid herself; the escrow came back whole
        status, body = http_request("GET", alice.public_url + f"/v1/chat/completions/{inference_id}")
        assert status == 200 and json.loads(body)["status"] == "FINISHED", body
        return rec["executor"]

    def non_streamed():
        before = (node.balance(alice.address), node.balance(bob.address))
        done = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=64)
        assert done.object == "chat.completion" and done.choices[0].message.content, done
        assert done.id.startswith("chatcmpl-") and done.usage.completion_tokens > 0, done
        return check_paid(done.id, done.usage, before, 64, done.to_dict()["cost"])

    def streamed():
        before = (node.balance(alice.address), node.balance(bob.address))
        stream = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=48, stream=True,
                                                stream_options={"include_usage": True})
        pieces, usage, ids, cost = [], None, set(), None
        for chunk in stream:
            ids.add(chunk.id)
            usage = chunk.usage or usage
            cost = chunk.to_dict().get("cost", cost)
            pieces.extend(c.delta.content for c in chunk.choices if c.delta.content)
        assert pieces and usage is not None and len(ids) == 1, (pieces, usage, ids)
        return check_paid(ids.pop(), usage, before, 48, cost)

    # Each kind until one ran on bob (reached through the signed hop); the chain picks bob with ~2/3 chance.
    for run in (non_streamed, streamed):
        executors = []
        while bob.address not in executors:
            assert len(executors) < 12, executors
            executors.append(run())

    # Through bob's dapi: bob is the requester (his own key).
    bob_client = openai.OpenAI(base_url=bob.public_url + "/v1", api_key=BOB_KEY, max_retries=0, timeout=60)
    other = bob_client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=16)
    wait_until(lambda: record(node, other.id)["status"] == "FINISHED", timeout=30, what="bob's inference")
    rec = record(node, other.id)
    assert rec["requester"] == rec["transfer_agent"] == bob.address, rec
    assert rec["completion_tokens"] == other.usage.completion_tokens, rec

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
    types = {400: "invalid_request_error", 401: "authentication_error", 404: "invalid_request_error",
             413: "invalid_request_error"}
    for want, (status, body) in cases:
        assert status == want, (want, status, body)
        # The OpenAI error shape on every path, the 413 of the server's body limit included.
        assert isinstance(body, dict) and set(body["error"]) == {"message", "type", "param", "code"}, body
        assert body["error"]["message"] and body["error"]["type"] == types[want], body
    assert Q7B in cases[2][1][1]["error"]["message"], cases[2]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=alice.public_url + "/v1", api_key="sk-wrong-key-000000",
                      max_retries=0).chat.completions.create(model=Q7B, messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="Qwen/Nope", messages=MESSAGES)

    # The executor refuses forwards that the transfer agent did not sign.
    status, body = chat(bob.public_url, ok, key=None)
    assert status == 401, body
    forged = {"X-Inference-Id": "chatcmpl-forged", "X-Transfer-Agent": alice.address, "X-Timestamp": "1",
              "X-TA-Signature": "A" * 88}
    status, body = http_request("POST", bob.public_url + "/v1/chat/completions", ok, headers=forged)
    assert status == 401 and "X-TA-Signature" in body, body

    # Short balance: alice's funds cover about 3000 tokens; an escrow of (prompt + context - 64) tokens does not fit.
    assert (context - 64) * price > node.balance(alice.address), (context, price)
    status, body = chat(alice.public_url, dict(ok, max_tokens=context - 64))
    assert status == 402 and body["error"]["type"] == "insufficient_quota", body
    assert started_count(node) == started, "a refused request reached the chain"
    status, body = http_request("GET", alice.public_url + "/v1/chat/completions/chatcmpl-nope")
    assert status == 404, body

    # 6 overlapping streams on 3 MLNodes (max_concurrent 1 each): an executor whose nodes are all busy answers 429
    # before any work and the transfer agent (bob) fails over to another executor with a new inference; a request
    # gets 429 + Retry-After only when every executor it tried was busy. (Abandoned inferences expire with a refund.)
    assert started_count(node) == started
    failovers = bob.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover") or 0
    results = []
    threads = [threading.Thread(target=lambda: results.append(post_stream(
        bob.public_url, {"model": Q7B, "messages": MESSAGES, "max_tokens": 64, "stream": True}, BOB_KEY)))
        for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r[0] for r in results)
    assert set(statuses) <= {200, 429} and 200 in statuses, results
    for status, headers, text in results:
        if status == 429:
            assert headers.get("retry-after") == "1" and json.loads(text)["error"]["type"] == "rate_limit_error", text
        else:
            assert text.rstrip().endswith("data: [DONE]"), text
    assert bob.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover") > failovers

    # Let every inference of that burst settle (the served ones finish, the refused ones expire) before measuring.
    expiration = node.query("/inference/schedule-params")["params"]["inference_expiration_blocks"]
    settled_at = node.height() + expiration + 2
    for status, _, text in results:
        if status == 200:
            served_id = json.loads(text.split("data: ", 2)[1])["id"]
            wait_until(lambda: record(node, served_id)["status"] == "FINISHED", timeout=30, what="a served stream")
    node.wait_height(settled_at)

    # An MLNode dies in the middle of a stream: an error event ends it, nothing is finished, the escrow comes back.
    before = (node.balance(bob.address), node.balance(alice.address))
    mlnodes = dict(zip(alice_p.node_ids + bob_p.node_ids, alice_p.mlnodes + bob_p.mlnodes))
    for _ in range(12):  # until bob executes it (alice's only MLNode must survive for the failover below)
        stream = bob_client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=64, stream=True)
        chunks = iter(stream)
        first = next(chunks)
        rec = record(node, first.id)
        if rec["executor_node"] in bob_p.node_ids:
            break
        for _ in chunks:
            pass
        wait_until(lambda: record(node, first.id)["status"] == "FINISHED", timeout=30, what="alice's stream")
        before = (node.balance(bob.address), node.balance(alice.address))
    assert rec["executor_node"] in bob_p.node_ids, rec
    mlnodes[rec["executor_node"]].process.kill9()
    with pytest.raises(openai.APIError):
        for _ in chunks:
            pass
    wait_until(lambda: record(node, first.id)["status"] == "EXPIRED", timeout=30, what="the interrupted inference to expire")
    rec = record(node, first.id)
    assert rec["completion_tokens"] == 0 and rec["cost"] == "0", rec
    assert (node.balance(bob.address), node.balance(alice.address)) == before

    # Failover: bob's dapi is gone; whenever the chain picks bob, alice's dapi tries another executor before any byte
    # reached the client, so every request through alice succeeds (run by alice).
    bob.kill9()
    for _ in range(10):
        done = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=16)
        assert done.choices[0].message.content and record(node, done.id)["executor"] == alice.address, done
        if alice.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover") > 0:
            break
    assert alice.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover") > 0
