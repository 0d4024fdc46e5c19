"""The transfer agent fails over when the chosen executor is busy (docs/dapi-inference.md, step 9), on a solo chain
with real processes: alice and bob each run a dapi with one builtin-backend MLNode serving Qwen2.5-7B with
max_concurrent 1 (paced: first token after 600 ms, then 40 tokens/s); the genesis validator validates the first PoC
by hand. Requests go to alice's dapi (the transfer agent) and the chain's executor query picks alice or bob.

Checked: with one of the two nodes held by a long stream, every short request succeeds — one sent to the busy
executor (a remote 429, or alice's own nodes all full) is started again on the other with a new inference; with both
nodes held, a request tries 3 executors (3 inferences started on chain, each refused before any work), then answers
429 all_nodes_busy with Retry-After; the abandoned inferences are never finished and expire with the escrow back.
Epochs of 180 blocks at 200 ms, shifted: first PoC at 80, switch at 97, inference until 260."""
import json
import os
import threading
import urllib.error
import urllib.request

import openai

from framework import wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry, validate_first_poc

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-alice-0123456789"
MESSAGES = [{"role": "user", "content": "Name three colours."}]
EPOCH = dict(epoch_length=180, epoch_shift=100)
BLOCK_MS = 200
EXPIRATION_BLOCKS = 75  # 15 s: a held stream (about 7.6 s) finishes before its inference expires
MLNODE_ARGS = (*POC_MLNODE_ARGS, "--ttft-ms", "600", "--tokens-per-second", "40")
# A long answer from the builtin MLNode: the client passes the MLNode's enforced_str (280 tokens at 40/s).
LONG = {"enforced_str": " ".join(["word"] * 280)}


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def started_count(node):
    return node.query(f"/inference/inference-counts/{Q7B}")["started"]


def test_busy_executor_is_failed_over(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(EPOCH)
    genesis["app_state"]["schedule"]["params"].update(inference_validation_rate_ppm=0,
                                                      inference_expiration_blocks=EXPIRATION_BLOCKS)
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    unit_price = genesis["app_state"]["epochs"]["params"]["default_unit_of_compute_price"]
    uoc = node.query(f"/inference/governance/models/{Q7B}")["model"]["units_of_compute_per_token"]
    parts = []
    for name in ("alice", "bob"):
        p = Participant(procs, workdir, node, name, version, n_mlnodes=1, mlnode_args=MLNODE_ARGS,
                        funds=f"{uoc * unit_price * 20000}nicoin")
        p.fund().start_mlnodes()
        p.dapi.configure([node_entry(nid, m, [Q7B], max_concurrent=1) for nid, m in zip(p.node_ids, p.mlnodes)],
                         api_keys=[KEY] if name == "alice" else []).start()
        parts.append(p)
    alice, bob = (p.dapi for p in parts)

    validate_first_poc(node, (alice, bob), after=1)
    members = node.query(f"/inference/epoch-groups/current/{Q7B}")["epoch_group"]["validation_weights"]
    assert sorted(m["member_address"] for m in members) == sorted([alice.address, bob.address]), members
    wait_until(lambda: all((mlnode_state(m) or {}).get("state") == "INFERENCE" for p in parts for m in p.mlnodes),
               timeout=30, what="MLNodes serving the model")
    client = openai.OpenAI(base_url=alice.public_url + "/v1", api_key=KEY, max_retries=0, timeout=60)

    def failovers():
        return alice.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover")

    def hold():
        """A long stream that has its first chunk (it holds a node); returns (id, thread reading the rest)."""
        chunks = iter(client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=300, stream=True,
                                                     extra_body=LONG))
        first = next(chunks)
        t = threading.Thread(target=lambda: [None for _ in chunks])
        t.start()
        return first.id, t

    # One node held: short requests all succeed; one drawn for the busy executor went to the other.
    held, t = hold()
    f0 = failovers()
    served = []
    for _ in range(3):
        done = client.chat.completions.create(model=Q7B, messages=MESSAGES, max_tokens=8)
        assert done.choices[0].message.content, done
        served.append(done.id)
    busy = record(node, held)["executor"]
    executors = {record(node, i)["executor"] for i in served}
    assert busy not in executors, (busy, executors)  # the held executor served none of them
    t.join()

    # Both nodes held: 3 executors tried (3 inferences started), then 429 + Retry-After.
    (a, ta), (b, tb) = hold(), hold()
    started, f1 = started_count(node), failovers()
    req = urllib.request.Request(alice.public_url + "/v1/chat/completions", method="POST",
                                 data=json.dumps({"model": Q7B, "messages": MESSAGES, "max_tokens": 8}).encode(),
                                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, headers, text = resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, e.headers, e.read().decode()
    assert status == 429 and headers.get("Retry-After") == "1", (status, text)
    err = json.loads(text)["error"]
    assert err["code"] == "all_nodes_busy" and err["type"] == "rate_limit_error", err
    assert started_count(node) - started == 3
    assert failovers() - f1 == 3
    assert failovers() - f0 >= 3
    for th in (ta, tb):
        th.join()
    for i in (held, a, b):
        wait_until(lambda: record(node, i)["status"] == "FINISHED", timeout=30, what="a held stream to finish")
