"""A client that leaves in the middle of a stream (issue 12, must-show 4), with real processes on a solo chain: alice
and bob each run a dapi with one builtin-backend MLNode (paced: 25 tokens/s, so a 200-token stream lasts 8 s) serving
Qwen2.5-7B; after the first PoC (validated by hand by the genesis validator) both are members of the epoch.

A raw HTTP client streams a completion through alice's dapi (the transfer agent), reads a few SSE chunks and closes its
socket. Checked, once for a stream executed by alice herself and once for one forwarded to bob (the chain's executor
query picks either): before the close the executing MLNode reports one chat request in flight (its /metrics), and
within 1 s of the close it reports none and one more cancelled request (the MLNode call was closed, the slot is
free); the on-chain record ends (it expires: nothing is finished for a stream nobody read to the end) with the whole
escrow back, so alice's and bob's balances are as before; the executor's dapi counts the outcome `client_gone`.
Then bob's MLNode dies: once bob's reconciler marks it FAILED, bob's executor answers 503 without calling it and alice
fails over to herself. Then alice's dapi restarts without the framework's allow-list for 127.0.0.0/8: it refuses bob's loopback URL after
resolving it and fails over to itself, so every request still succeeds.
Epochs of 200 blocks at 300 ms: first PoC at 40, switch at 57, inference until 240."""
import http.client
import json
import os
import re
import socket
import time

from framework import http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry, validate_first_poc

Q7B = "Qwen/Qwen2.5-7B-Instruct"
KEY = "sk-test-alice-0123456789"
MESSAGES = [{"role": "user", "content": "Tell a long story."}]
BLOCK_MS = 300
MLNODE_ARGS = (*POC_MLNODE_ARGS, "--ttft-ms", "200", "--tokens-per-second", "25")


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def mlnode_metric(mlnode, name):
    status, text = http_request("GET", mlnode.inference_url + "/metrics", timeout=2)
    assert status == 200, text
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def open_stream(dapi):
    """Starts a streamed completion through `dapi`; returns (socket, response, inference id) after 3 chunks."""
    conn = http.client.HTTPConnection("127.0.0.1", dapi.public_port, timeout=30)
    body = json.dumps({"model": Q7B, "messages": MESSAGES, "max_tokens": 200, "stream": True})
    conn.request("POST", "/v1/chat/completions", body=body,
                 headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    sock = conn.sock  # the response takes it over (HTTPConnection forgets it for a non-keep-alive answer)
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    chunks = []
    while len(chunks) < 3:
        line = resp.readline().decode()
        assert line, "the stream ended early"
        if line.startswith("data: "):
            chunks.append(json.loads(line[len("data: "):]))
    return sock, resp, chunks[0]["id"]


def test_client_leaving_mid_stream_frees_the_slot_and_ends_the_record(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=200, epoch_shift=160)
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    alice_p = Participant(procs, workdir, node, "alice", version, n_mlnodes=1, mlnode_args=MLNODE_ARGS)
    bob_p = Participant(procs, workdir, node, "bob", version, n_mlnodes=1, mlnode_args=MLNODE_ARGS)
    for p, key in ((alice_p, KEY), (bob_p, "sk-test-bob-0123456789")):
        p.fund().start_mlnodes()
        p.dapi.configure([node_entry(nid, m, [Q7B], max_concurrent=2) for nid, m in zip(p.node_ids, p.mlnodes)],
                         api_keys=[key]).start()
    alice, bob = alice_p.dapi, bob_p.dapi
    assert node.height() < 40, f"setup took until height {node.height()}; the first PoC starts at 40"

    validate_first_poc(node, (alice, bob), after=2)  # past the settlement of epoch 0: balances move only by inferences
    assert node.query("/inference/epoch")["upcoming_epoch_index"] is None
    mlnodes = dict(zip(alice_p.node_ids + bob_p.node_ids, alice_p.mlnodes + bob_p.mlnodes))
    wait_until(lambda: all((mlnode_state(m) or {}).get("state") == "INFERENCE" for m in mlnodes.values()),
               timeout=30, what="MLNodes serving the model")
    executor_dapi = {alice.address: alice, bob.address: bob}

    seen = set()
    for _ in range(16):  # until one stream ran on each participant
        balances = (node.balance(alice.address), node.balance(bob.address))
        sock, resp, inference_id = open_stream(alice)
        rec = record(node, inference_id)
        executor = rec["executor"]
        mlnode = mlnodes[rec["executor_node"]]
        in_flight = mlnode_metric(mlnode, "mlnode_chat_in_flight")
        cancelled = mlnode_metric(mlnode, "mlnode_chat_cancelled_total")
        gone_before = executor_dapi[executor].metric("dapi_inference_requests_total",
                                                     role="executor" if executor == bob.address else "transfer_agent",
                                                     outcome="client_gone")
        assert in_flight == 1, (rec, in_flight)
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        resp.close()
        left = time.monotonic()
        wait_until(lambda: mlnode_metric(mlnode, "mlnode_chat_in_flight") == 0, timeout=1, interval=0.05,
                   what=f"the MLNode slot of {inference_id} to be free within 1 s")
        elapsed = time.monotonic() - left
        assert mlnode_metric(mlnode, "mlnode_chat_cancelled_total") == cancelled + 1
        print(f"{inference_id} on {rec['executor_node']}: slot free {elapsed * 1000:.0f} ms after the client left")
        ended = wait_until(lambda: (lambda r: r if r["status"] in ("FINISHED", "EXPIRED") else None)(
            record(node, inference_id)), timeout=30, what=f"inference {inference_id} to end on chain")
        assert ended["status"] == "EXPIRED" and ended["cost"] == "0", ended
        assert (node.balance(alice.address), node.balance(bob.address)) == balances, ended
        role = "executor" if executor == bob.address else "transfer_agent"
        wait_until(lambda: executor_dapi[executor].metric("dapi_inference_requests_total", role=role,
                                                          outcome="client_gone") == gone_before + 1,
                   timeout=5, what="the executor to count client_gone")
        seen.add(executor)
        if seen == {alice.address, bob.address}:
            break
    assert seen == {alice.address, bob.address}, seen

    # Live node health: bob's MLNode dies; once bob's reconciler marks it FAILED, bob's executor refuses with 503
    # (it never calls the dead node) and alice's transfer agent fails over to herself before any byte.
    mlnodes[bob_p.node_ids[0]].process.kill9()
    wait_until(lambda: bob.nodes()[bob_p.node_ids[0]]["state"].get("status") == "FAILED", timeout=30,
               what="bob's reconciler to mark its MLNode FAILED")
    refused_before = bob.metric("dapi_inference_requests_total", role="executor", outcome="503")
    for _ in range(12):
        status, text = http_request("POST", alice.public_url + "/v1/chat/completions",
                                    {"model": Q7B, "messages": MESSAGES, "max_tokens": 4},
                                    headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
        assert status == 200, text
        assert record(node, json.loads(text)["id"])["executor"] == alice.address, text
        if bob.metric("dapi_inference_requests_total", role="executor", outcome="503") > refused_before:
            break
    assert bob.metric("dapi_inference_requests_total", role="executor", outcome="503") > refused_before
    assert bob.metric("dapi_inference_requests_total", role="executor", outcome="mlnode_failed") == 0
    assert "not serving now" in bob.process.log()

    # The outbound address policy: restarted without the test framework's allow-list (127.0.0.0/8), alice's dapi
    # refuses to call bob's loopback URL after resolving it; the request goes to another executor (alice herself)
    # before any byte reached the client, so every request still succeeds.
    alice.stop()
    alice.settings["inference"] = {"allowed_networks": []}
    alice.write_config(alice.settings)
    alice.start()
    wait_until(lambda: (mlnode_state(alice_p.mlnodes[0]) or {}).get("state") == "INFERENCE", timeout=30,
               what="alice's MLNode serving")
    for _ in range(12):
        status, text = http_request("POST", alice.public_url + "/v1/chat/completions",
                                    {"model": Q7B, "messages": MESSAGES, "max_tokens": 4},
                                    headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
        assert status == 200, text
        assert record(node, json.loads(text)["id"])["executor"] == alice.address, text
        if alice.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover") > 0:
            break
    assert alice.metric("dapi_inference_requests_total", role="transfer_agent", outcome="failover") > 0
    assert "127.0.0.1 is loopback" in alice.process.log(), "no refusal of bob's loopback address in alice's log"
