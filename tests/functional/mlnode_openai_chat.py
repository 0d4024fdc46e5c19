"""OpenAI-compatible inference on the ML node, checked with the official `openai` client: streaming and
non-streaming completions with usage consistent with /tokenize, 409 on conflicting state, clear 4xx on bad input,
the openai backend forwarding to (and launching) an upstream, and graceful shutdown of in-flight streams."""
import os
import signal
import threading

import openai
import pytest

from framework import binary, free_port, get_json, http_request, post_json, wait_until
from framework.mlnode import MlNode

MODEL = "Qwen/Qwen2.5-7B-Instruct"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three colours, please."}]


def client_for(node, version=None):
    prefix = f"/{version}" if version else ""
    return openai.OpenAI(base_url=f"{node.inference_url}{prefix}/v1", api_key="unused", max_retries=0, timeout=30)


def token_count(node, **body):
    status, resp = post_json(node.inference_url + "/tokenize", dict(body, model=MODEL))
    assert status == 200, resp
    return resp["count"]


def serving_node(procs, workdir, *extra):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", *extra]).start()
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL, "args": ["--quantization", "fp8"]})
    assert status == 200 and body["status"] == "OK", body
    return node


def test_non_streaming_and_streaming_completions_with_consistent_usage(procs, workdir):
    node = serving_node(procs, workdir)
    client = client_for(node, "v3.0.8")
    prompt_tokens = token_count(node, messages=MESSAGES)

    done = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=200)
    assert done.object == "chat.completion" and done.model == MODEL
    text = done.choices[0].message.content
    assert text and done.choices[0].finish_reason == "stop" and done.choices[0].message.role == "assistant"
    assert done.usage.prompt_tokens == prompt_tokens
    assert done.usage.completion_tokens == token_count(node, prompt=text)
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens

    # Deterministic: the same request streamed gives the same text, and the usage chunk agrees.
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=200, stream=True,
                                            stream_options={"include_usage": True})
    pieces, usage, finish = [], None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert "".join(pieces) == text and finish == "stop"
    assert usage.prompt_tokens == prompt_tokens and usage.completion_tokens == len(pieces)

    # max_tokens cuts the answer; logprobs come back when asked for.
    short = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=3, logprobs=True, top_logprobs=5)
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 3
    assert len(short.choices[0].logprobs.content) == 3
    assert all(len(t.top_logprobs) == 5 for t in short.choices[0].logprobs.content)

    metrics = http_request("GET", node.inference_url + "/metrics")[1]
    assert "mlnode_chat_requests_total 3" in metrics and "mlnode_prompt_tokens_total" in metrics


def test_conflicting_state_gives_409(procs, workdir):
    node = serving_node(procs, workdir)
    pow_init = {"node_id": 0, "node_count": 1, "block_hash": "AB", "block_height": 1, "public_key": "02aa",
                "url": "http://127.0.0.1:9/v1/poc-batches"}
    status, body = post_json(node.poc_url + "/api/v1/pow/init/generate", pow_init)
    assert status == 409 and "POST /api/v1/stop" in body["error"]["message"] and body["error"]["code"] == "conflict"
    assert get_json(node.poc_url + "/api/v1/pow/status")[0] == 409
    assert get_json(node.poc_url + "/api/v1/state")[1]["state"] == "INFERENCE"

    assert post_json(node.poc_url + "/api/v1/stop", None)[0] == 200
    status, body = post_json(node.poc_url + "/api/v1/pow/init/generate", pow_init)
    assert status == 200, body
    with pytest.raises(openai.ConflictError) as err:
        client_for(node).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert "POW" in str(err.value)
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL})
    assert status == 409 and "running POW" in body["error"]["message"], body


def test_bad_requests_get_clear_4xx(procs, workdir):
    node = serving_node(procs, workdir)
    status, text = http_request("POST", node.inference_url + "/v1/chat/completions", body=b"{\"model\": ",
                                headers={"Content-Type": "application/json"})
    assert status == 400
    err = __import__("json").loads(text)["error"]
    assert err["type"] == "invalid_request_error" and "not valid JSON" in err["message"]

    status, body = post_json(node.poc_url + "/api/v1/inference/up", b"[1, 2")
    assert status == 400 and body["error"]["code"] == "invalid_request" and "not valid JSON" in body["error"]["message"]
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"args": []})
    assert status == 400 and "\"model\" is required" in body["error"]["message"]

    client = client_for(node)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=MODEL, messages=[])
    assert "messages" in str(err.value)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=0)
    assert "max_tokens" in str(err.value)
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="other/model", messages=MESSAGES)
    assert MODEL in str(err.value)
    status, body = post_json(node.inference_url + "/tokenize", {"model": MODEL})
    assert status == 400 and "prompt" in body["error"]["message"]


def test_openai_backend_forwards_to_an_upstream(procs, workdir):
    upstream = serving_node(procs, workdir)
    forwarder = MlNode(procs, workdir, "v3.0.8", ["--backend", "openai", "--upstream", upstream.inference_url,
                                                  "--ready-timeout-s", "30"], name="forwarder").start()
    status, body = post_json(forwarder.poc_url + "/api/v1/inference/up", {"model": MODEL})
    assert status == 200, body
    direct = client_for(upstream).chat.completions.create(model=MODEL, messages=MESSAGES)
    forwarded = client_for(forwarder, "v3.0.8").chat.completions.create(model=MODEL, messages=MESSAGES)
    assert forwarded.choices[0].message.content == direct.choices[0].message.content
    assert forwarded.usage.prompt_tokens == direct.usage.prompt_tokens
    streamed = "".join(c.choices[0].delta.content or "" for c in client_for(forwarder).chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True) if c.choices)
    assert streamed == direct.choices[0].message.content
    assert post_json(forwarder.inference_url + "/tokenize", {"model": MODEL, "prompt": "a b"})[1]["count"] == 2

    # When the upstream goes away, requests fail with a clear 5xx instead of hanging.
    upstream.process.stop()
    with pytest.raises(openai.InternalServerError) as err:
        client_for(forwarder).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert "upstream" in str(err.value)


def test_openai_backend_launches_the_upstream_and_stops_it(procs, workdir):
    up_inference, up_poc = free_port(), free_port()
    launch = f"{binary('mlnode')} start --version upstream --inference-port {up_inference} --poc-port {up_poc}"
    node = MlNode(procs, workdir, "v3.0.8", ["--backend", "openai", "--upstream", f"http://127.0.0.1:{up_inference}",
                                             "--launch", launch, "--ready-timeout-s", "60"], name="launcher").start()
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL, "args": ["--dtype", "float16"]},
                             timeout=90)
    assert status == 200, body
    assert get_json(f"http://127.0.0.1:{up_inference}/health")[1]["model"] == MODEL  # launched with --model
    reply = client_for(node).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert reply.choices[0].message.content
    assert get_json(node.inference_url + "/health")[0] == 200

    assert post_json(node.poc_url + "/api/v1/stop", None, timeout=60)[0] == 200
    wait_until(lambda: http_request_fails(f"http://127.0.0.1:{up_inference}/health"), timeout=30,
               what="the launched upstream to stop")


def http_request_fails(url):
    try:
        http_request("GET", url, timeout=1)
        return False
    except OSError:
        return True


def test_shutdown_lets_in_flight_streams_finish(procs, workdir):
    node = serving_node(procs, workdir, "--tokens-per-second", "25", "--ttft-ms", "100")
    first_token = threading.Event()
    result = {}

    def consume():
        pieces = []
        for chunk in client_for(node).chat.completions.create(model=MODEL, messages=MESSAGES, stream=True,
                                                              max_tokens=40):
            for choice in chunk.choices:
                if choice.delta.content:
                    pieces.append(choice.delta.content)
                    first_token.set()
                if choice.finish_reason:
                    result["finish"] = choice.finish_reason
        result["tokens"] = len(pieces)

    t = threading.Thread(target=consume)
    t.start()
    assert first_token.wait(30)
    node.process.proc.send_signal(signal.SIGTERM)
    t.join(60)
    assert result.get("finish") in ("stop", "length") and result["tokens"] >= 16, result
    assert node.process.proc.wait(30) == 0
    assert "finishing in-flight requests" in node.process.log()


def test_inference_up_answers_when_ready_and_stop_cancels_a_load(procs, workdir):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--load-ms", "60000"]).start()
    result = {}

    def load():
        result["up"] = post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL}, timeout=120)

    t = threading.Thread(target=load)
    t.start()
    wait_until(lambda: node.state()["state"] == "INFERENCE", timeout=30, what="loading to start")
    status, health = get_json(node.inference_url + "/health")
    assert status == 503 and "model" not in health, health  # loading: not ready yet
    assert "up" not in result, "inference/up must not answer before the model is ready"

    status, body = post_json(node.poc_url + "/api/v1/stop", None, timeout=30)
    assert status == 200, body
    t.join(30)
    status, body = result["up"]
    assert status == 409 and "cancelled" in body["error"]["message"], body
    assert node.state()["state"] == "STOPPED"
