"""The real model through the network (issue 15 must-show 2, label real_model): the network `make run` starts
(scripts/localnet.py: a solo chain and 3 participants, each with dapi, a llama.cpp ML node serving
HuggingFaceTB/SmolLM2-135M-Instruct, a builtin ML node and nginx in front of both) forms its first epoch; the
official openai client through alice's dapi gets a correct answer to a factual question from the real model
(non-streamed and streamed); the chain's record names an executor of the model's group and carries tokens = the
usage the client saw and cost = tokens x price. Every inference is sampled for validation here (rate 10^6): another
participant's dapi re-runs it on its own llama.cpp node with enforced_str and votes VALID; then alice's balance fell
by exactly the cost and the executor's rose by it (an executor other than alice is found by asking again; alice
paying herself leaves her balance unchanged).
Skipped, with the reason, when .venv/ or the model file is missing (scripts/setup installs them)."""
import json
import os
import subprocess

import openai

from framework import wait_until
from framework.http import get_json
from framework.localnet import VENV_PYTHON, free_port_block, localnet, require_real_model
from framework.process import build_dir

QUESTION = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"}]


def start_localnet(workdir, **kw):
    """scripts/localnet.py's network with free ports, 300 ms blocks, output to this test's log."""
    net = localnet.Localnet(os.path.join(workdir, "localnet"), build_dir(), base_port=free_port_block(60),
                            rpc_port=free_port_block(1), block_time_ms=300,
                            # epoch 2's PoC (at height 640) stays clear of the test: during a PoC the nodes mine
                            # instead of serving or validating, and its settlement moves balances
                            epoch_length=600,
                            # every inference validated; 200 blocks (60 s) to vote: a CPU re-run under load is slow
                            schedule_params={"inference_validation_rate_ppm": 10**6,
                                             "inference_expiration_blocks": 200}, **kw)
    return net


def gguf_metadata():
    """The GGUF header of the model file, read by llama.cpp itself (llama-cpp-python in .venv)."""
    path = subprocess.run([os.path.join(localnet.ROOT, "scripts", "real-model-path")], capture_output=True,
                          text=True, check=True).stdout.strip()
    code = ("import json, sys; from llama_cpp import Llama; "
            "print(json.dumps(Llama(model_path=sys.argv[1], vocab_only=True, verbose=False).metadata))")
    return json.loads(subprocess.run([VENV_PYTHON, "-c", code, path], capture_output=True, text=True,
                                     check=True).stdout)


def record(net, inference_id):
    return net.query(f"/inference/inferences/{inference_id}")["inference"]


def balance(net, address):
    status, body = get_json(f"{net.chain_url}/bank/balances/{address}")
    assert status == 200, body
    return int(next((c["amount"] for c in body["balances"] if c["denom"] == "nicoin"), 0))


def test_real_model_answers_through_the_network_and_is_paid(workdir):
    require_real_model()
    net = start_localnet(workdir)
    try:
        net.start()
        serving = net.wait_ready(timeout=300)
        print(f"ready: {serving} serve {localnet.REAL_MODEL}")
        alice = net.requester()
        addresses = {p.address: p for p in net.participants}
        stages = net.query("/inference/epoch")
        assert stages["epoch_index"] >= 1 and stages["upcoming_epoch_index"] is None, stages
        members = {m["member_address"] for m in net.query(
            f"/inference/epoch-groups/current/{localnet.REAL_MODEL}")["epoch_group"]["validation_weights"]}
        assert members <= set(addresses) and members, members
        model = next(m for m in net.query("/inference/governance/models")["models"] if m["id"] == localnet.REAL_MODEL)
        price = int(model["units_of_compute_per_token"]) * int(
            net.query("/inference/epoch-params")["params"]["default_unit_of_compute_price"])
        # The genesis entry describes the file the ML nodes serve: its context length and quantization
        # (llama.cpp file type 3 = MOSTLY_Q4_1).
        meta = gguf_metadata()
        assert model["context_window"] == int(meta["llama.context_length"]) == 8192, (model, meta)
        assert meta["general.file_type"] == "3" and model["quantization"] == "Q4_1", (model, meta)

        client = openai.OpenAI(base_url=alice.public_url + "/v1", api_key=alice.api_key, max_retries=0, timeout=120)
        models = client.models.list()
        assert localnet.REAL_MODEL in [m.id for m in models.data], models

        def ask():
            """One non-streamed question; checks the answer and the chain record; returns (record, cost)."""
            before = {a: balance(net, a) for a in addresses}
            done = client.chat.completions.create(model=localnet.REAL_MODEL, messages=QUESTION, max_tokens=48,
                                                  temperature=0)
            answer = done.choices[0].message.content
            print(f"answer {answer!r} usage {done.usage}")
            assert "paris" in answer.lower(), answer
            cost = (done.usage.prompt_tokens + done.usage.completion_tokens) * price
            assert done.to_dict()["cost"]["amount"] == str(cost), done.to_dict()
            wait_until(lambda: record(net, done.id)["status"] == "FINISHED", timeout=30,
                       what=f"inference {done.id} to finish on chain")
            rec = wait_until(lambda: (lambda r: r if r["validation"] != "PENDING" else None)(
                record(net, done.id)), timeout=120, what=f"the validation of {done.id} to be decided")
            print(f"record: executor {addresses[rec['executor']].name} validation {rec['validation']} by "
                  f"{addresses[rec['validated_by']].name if rec['validated_by'] else '-'} cost {rec['cost']}")
            # Another participant re-ran the real model's answer and found it valid.
            assert rec["validation"] == "VALID" and rec["validated_by"] in members, rec
            assert rec["validated_by"] != rec["executor"], rec
            assert rec["executor"] in members and rec["requester"] == alice.address, rec
            assert rec["model"] == localnet.REAL_MODEL, rec
            assert (rec["prompt_tokens"], rec["completion_tokens"]) == (done.usage.prompt_tokens,
                                                                        done.usage.completion_tokens), rec
            assert int(rec["cost"]) == cost > 0, rec
            after = {a: balance(net, a) for a in addresses}
            want = dict(before)
            want[alice.address] -= cost
            want[rec["executor"]] += cost
            assert after == want, (before, after, cost, rec)
            return rec

        executors = []
        while not executors or executors[-1] == alice.address:
            assert len(executors) < 8, executors
            executors.append(ask()["executor"])

        # Streamed: the same greedy answer in pieces, with the usage chunk dapi needs.
        pieces, usage, ids = [], None, set()
        for chunk in client.chat.completions.create(model=localnet.REAL_MODEL, messages=QUESTION, max_tokens=48,
                                                    temperature=0, stream=True,
                                                    stream_options={"include_usage": True}):
            ids.add(chunk.id)
            usage = chunk.usage or usage
            pieces.extend(c.delta.content for c in chunk.choices if c.delta.content)
        assert "paris" in "".join(pieces).lower() and len(pieces) > 1 and usage and len(ids) == 1, (pieces, usage)
        inference_id = ids.pop()
        wait_until(lambda: record(net, inference_id)["status"] == "FINISHED", timeout=30, what="the streamed record")
        assert record(net, inference_id)["completion_tokens"] == usage.completion_tokens
    finally:
        codes = net.stop()
    print(f"stopped: {codes}")
    assert all(code == 0 for name, code in codes.items() if "dapi" in name or "mlnode" in name), codes
