"""Inference validation of REAL-model inferences (issue 12 item 6; docs/inference-validation.md): a solo chain whose
genesis samples every finished inference and serves SmolLM2-135M-Instruct, and two participants alice and bob, each
a dapi with one `mlnode --backend llama-cpp` (llama.cpp's server on the GGUF file of scripts/real-model-path).
Requests go to alice's dapi; the chain picks alice or bob as executor, and the other one's validator re-runs the
answer on its own llama.cpp with enforced_str and compares the log-probabilities with the model's
validation_threshold.

Checked: greedy (temperature 0) answers, non-streamed and streamed, executed by both participants, end VALID —
voted by the other participant, never UNCHALLENGED — and the executor is paid their cost. An answer sampled at the
default temperature is decided too (VALID, or INVALID when llama.cpp's grammar pass splits the text into other
tokens at more than 10 % of the positions: printed, not asserted). Skipped, with the reason, without .venv or the
model file (scripts/setup installs them). Epochs of 300 blocks at 200 ms: first PoC at 300, inference from ~317 to 600 (llama.cpp loads after the switch)."""
import json
import os

import openai

from framework import free_port, http_request, wait_until
from framework.chain import ChainNode
from framework.dapi import POC_MLNODE_ARGS, Participant, mlnode_state, node_entry, validate_first_poc
from framework.localnet import VENV_PYTHON, require_real_model

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
KEY = "sk-test-alice-0123456789"
QUESTION = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"}]
EPOCH_LENGTH = 300
BLOCK_MS = 200
EXPIRATION_BLOCKS = 100  # 20 s for the validator's CPU re-run


def record(node, inference_id):
    return node.query(f"/inference/inferences/{inference_id}")["inference"]


def test_honest_real_model_inferences_are_validated_valid(workdir, procs):
    path = require_real_model()
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"].update(epoch_length=EPOCH_LENGTH, epoch_shift=0)
    genesis["app_state"]["schedule"]["params"].update(inference_validation_rate_ppm=1_000_000,
                                                      inference_expiration_blocks=EXPIRATION_BLOCKS)
    models = genesis["app_state"]["models"]["models"]
    if not any(m["id"] == MODEL for m in models):  # the localnet preset may not ship it yet
        real = dict(models[0], id=MODEL, hf_repo=MODEL, model_args=["--max-model-len", "2048"],
                    validation_threshold={"value": 95, "exponent": -2})
        models.append(real)
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    threshold = node.query(f"/inference/governance/models/{MODEL}")["model"]["validation_threshold"]
    print(f"validation_threshold of {MODEL}: {threshold}")
    unit_price = genesis["app_state"]["epochs"]["params"]["default_unit_of_compute_price"]
    uoc = node.query(f"/inference/governance/models/{MODEL}")["model"]["units_of_compute_per_token"]
    parts = {}
    for name in ("alice", "bob"):
        args = (*POC_MLNODE_ARGS, "--backend", "llama-cpp", "--upstream", f"http://127.0.0.1:{free_port()}",
                "--launch", f"{VENV_PYTHON} -m llama_cpp.server", "--model-file", f"{MODEL}={path}",
                "--work-dir", workdir, "--ready-timeout-s", "120")
        funds = f"{uoc * unit_price * 4000}nicoin" if name == "alice" else "10000000nicoin"
        parts[name] = Participant(procs, workdir, node, name, version, n_mlnodes=1, mlnode_args=args, funds=funds)
    for name, p in parts.items():
        p.fund().start_mlnodes()
        nodes = [node_entry(nid, m, [MODEL], max_concurrent=2) for nid, m in zip(p.node_ids, p.mlnodes)]
        p.dapi.configure(nodes, api_keys=[KEY] if name == "alice" else []).start()
    alice, bob = parts["alice"].dapi, parts["bob"].dapi

    validate_first_poc(node, (alice, bob), after=2, timeout=90)
    members = node.query(f"/inference/epoch-groups/current/{MODEL}")["epoch_group"]["validation_weights"]
    assert sorted(m["member_address"] for m in members) == sorted([alice.address, bob.address]), members
    wait_until(lambda: all((mlnode_state(p.mlnodes[0]) or {}).get("state") == "INFERENCE" and
                           http_request("GET", p.mlnodes[0].inference_url + "/health", timeout=5)[0] == 200
                           for p in parts.values()), timeout=150, what="llama.cpp serving the model on both MLNodes")

    client = openai.OpenAI(base_url=alice.public_url + "/v1", api_key=KEY, max_retries=0, timeout=120)
    before = {n: node.balance(p.address) for n, p in parts.items()}

    def greedy(stream):
        if not stream:
            done = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=16, temperature=0)
            assert done.choices[0].message.content and done.choices[0].logprobs is None, done
            return done.id
        ids = set()
        for chunk in client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=16, temperature=0,
                                                    stream=True):
            ids.add(chunk.id)
        assert len(ids) == 1, ids
        return ids.pop()

    # Greedy answers, alternately non-streamed and streamed, until each participant executed one (at most 8).
    greedy_ids, want = [], {alice.address, bob.address}
    for i in range(8):
        inference_id = greedy(stream=i % 2 == 1)
        greedy_ids.append(inference_id)
        wait_until(lambda: record(node, inference_id)["status"] == "FINISHED", timeout=30, what="finish on chain")
        want.discard(record(node, inference_id)["executor"])
        if not want and i >= 1:
            break
    executors = {record(node, i)["executor"] for i in greedy_ids}
    assert executors == {alice.address, bob.address}, f"the chain picked only {executors}"
    sampled = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=16).id

    def decided(ids):
        recs = [record(node, i) for i in ids]
        return recs if all(r["validation"] not in ("PENDING", "NOT_SAMPLED") for r in recs) else None

    recs = wait_until(lambda: decided(greedy_ids + [sampled]), timeout=EXPIRATION_BLOCKS * BLOCK_MS / 1000 + 30,
                      what="every validation decided")
    paid = {alice.address: 0, bob.address: 0}
    for r in recs[:-1]:
        assert r["validation"] == "VALID", r
        assert r["validated_by"] in (alice.address, bob.address) and r["validated_by"] != r["executor"], r
        paid[r["executor"]] += int(r["cost"])
    print(f"{len(recs) - 1} greedy real-model inferences VALID; sampled one: {recs[-1]['validation']}")
    assert recs[-1]["validation"] in ("VALID", "INVALID"), recs[-1]  # decided by a vote, not by the deadline
    if recs[-1]["validation"] == "VALID":
        paid[recs[-1]["executor"]] += int(recs[-1]["cost"])
    after = {n: node.balance(p.address) for n, p in parts.items()}
    # Alice requested everything: she paid bob's valid inferences; her own came back to her.
    assert after["bob"] == before["bob"] + paid[bob.address], (before, after, paid)
    assert after["alice"] == before["alice"] - paid[bob.address], (before, after, paid)
    votes = sum(d.metric("dapi_inference_validations_total", result="valid") for d in (alice, bob))
    assert votes >= len(recs) - 1, votes
