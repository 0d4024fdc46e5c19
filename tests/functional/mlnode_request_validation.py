"""ML node inference requests get what they ask for or a clear refusal (issue 14): advertised limits enforced
(fault 1), parameters honoured or refused and validated like OpenAI-compatible servers (fault 2; the openai backend
forwards what it does not use), undecodable paths answered with JSON 4xx (fault 6), /v1/models/{id} served and
unknown routes 404 / wrong methods 405 in the OpenAI shape (fault 10)."""
import json
import urllib.parse

from framework import http_request, post_json
from framework.fake_openai import FakeOpenAi
from framework.mlnode import MlNode

MODEL = "Qwen/Qwen2.5-7B-Instruct"
HI = [{"role": "user", "content": "List some words."}]


def chat(node, body, headers=None):
    status, text = http_request("POST", node.inference_url + "/v1/chat/completions",
                                body=json.dumps(body).encode(), headers=headers or {"Content-Type": "application/json"},
                                timeout=30)
    return status, json.loads(text)


def refused(node, body, field, status=400):
    got, reply = chat(node, body)
    assert got == status, (body, reply)
    assert reply["error"]["type"] == "invalid_request_error" and field in reply["error"]["message"], reply
    return reply["error"]["message"]


def test_builtin_limits_parameters_and_routes(procs, workdir):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--model", MODEL]).start()
    base = {"model": MODEL, "messages": HI, "seed": 7, "max_tokens": 40}

    # Fault 1: the context window /tokenize and /v1/models advertise.
    long_messages = [{"role": "user", "content": " ".join(["alpha"] * 40000)}]
    status, tok = post_json(node.inference_url + "/tokenize", {"model": MODEL, "messages": long_messages})
    assert status == 200 and tok["count"] > tok["max_model_len"] == 32768
    message = refused(node, {"model": MODEL, "max_tokens": 16, "messages": long_messages}, "32768")
    assert "max_model_len" in message
    refused(node, {"model": MODEL, "max_tokens": 1000000, "messages": HI}, "max_tokens")
    refused(node, dict(base, top_logprobs=21, logprobs=True), "top_logprobs")
    refused(node, dict(base, n=129), '"n"')
    refused(node, dict(base, stop=["a", "b", "c", "d", "e"]), "stop")

    # Fault 2: stop, n, seed and temperature are honoured ...
    status, plain = chat(node, base)
    text = plain["choices"][0]["message"]["content"]
    stop = [w.strip(".,") for w in text.split()][3]
    status, cut = chat(node, dict(base, stop=[stop]))
    assert status == 200 and cut["choices"][0]["message"]["content"] == text[:text.find(stop)], (text, cut)
    assert cut["choices"][0]["finish_reason"] == "stop"
    status, three = chat(node, dict(base, n=3))
    assert status == 200 and [c["index"] for c in three["choices"]] == [0, 1, 2]
    assert len({c["message"]["content"] for c in three["choices"]}) == 3
    assert chat(node, dict(base, temperature=0.3))[1]["choices"][0]["message"]["content"] != text
    assert chat(node, dict(base, seed=8))[1]["choices"][0]["message"]["content"] != text
    # ... the rest is refused naming the field, and every field is validated.
    refused(node, dict(base, top_p=0.5), '"top_p"')
    refused(node, dict(base, frequency_penalty=0.5), '"frequency_penalty"')
    refused(node, dict(base, logit_bias={"12": 5}), '"logit_bias"')
    refused(node, dict(base, response_format={"type": "json_object"}), '"response_format"')
    refused(node, dict(base, guided_json={}), '"guided_json"')
    refused(node, dict(base, logit_bias={"x": 5}), "logit_bias")
    refused(node, dict(base, logit_bias={"5": 500}), "[-100, 100]")
    refused(node, dict(base, response_format={"type": "json_schema"}), "json_schema")
    refused(node, dict(base, seed=2 ** 64), "64 bits")
    refused(node, dict(base, stream_options={"include_usage": True}), "stream_options")
    status, text_reply = http_request("POST", node.inference_url + "/v1/chat/completions",
                                      body=json.dumps(base).encode(), headers={"Content-Type": "text/plain"})
    assert status == 415 and "Content-Type" in json.loads(text_reply)["error"]["message"], text_reply

    # Fault 10: /v1/models/{id}; unknown routes 404 and wrong methods 405 in the OpenAI shape.
    status, text_reply = http_request("GET", node.inference_url + "/v1/models/" + MODEL)
    assert status == 200 and json.loads(text_reply)["id"] == MODEL
    status, text_reply = http_request("GET", node.inference_url + "/v3.0.8/v1/models/other")
    assert status == 404 and json.loads(text_reply)["error"]["type"] == "invalid_request_error"
    for method, path, want in (("POST", "/v1/completions", 404), ("GET", "/v1/chat/completions", 405),
                               ("DELETE", "/v3.0.8/v1/models", 405), ("GET", "/v1/nothing", 404)):
        status, text_reply = http_request(method, node.inference_url + path, body=b"{}" if method == "POST" else None)
        err = json.loads(text_reply)["error"]
        assert status == want and err["type"] == "invalid_request_error" and "not v1" not in err["message"], \
            (method, path, status, text_reply)

    # Fault 6: undecodable paths get JSON 4xx on both ports.
    for method, url in (("GET", node.inference_url + "/v3.0.8/%FF"), ("POST", node.inference_url + "/v1/chat/%FF"),
                        ("GET", node.inference_url + "/%FF"), ("GET", node.poc_url + "/api/v1/%C3"),
                        ("PATCH", node.poc_url + "/%FF%FE")):
        status, text_reply = http_request(method, url, body=b"{}" if method != "GET" else None)
        assert 400 <= status < 500, (method, url, status, text_reply)
        assert "error" in json.loads(text_reply), text_reply


def test_openai_backend_forwards_fields_it_does_not_use(procs, workdir):
    fake = FakeOpenAi(model=MODEL).start()
    try:
        node = MlNode(procs, workdir, "v3.0.8", ["--backend", "openai", "--upstream", fake.url,
                                                 "--ready-timeout-s", "30"], name="forwarder").start()
        assert post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL})[0] == 200
        body = {"model": MODEL, "messages": HI, "n": 2, "stop": ["x"], "top_p": 0.5, "logit_bias": {"7": -100},
                "response_format": {"type": "json_object"}, "guided_json": {"type": "object"}}
        status, reply = chat(node, body)
        assert status == 200 and len(reply["choices"]) == 2, reply
        assert fake.seen("request")[-1] == body  # every field reached the upstream unchanged
        # Validation still applies before anything is forwarded.
        refused(node, dict(body, logit_bias={"7": 1000}), "logit_bias")
        assert len(fake.seen("request")) == 1
        status, text_reply = http_request("GET", node.inference_url + "/v1/models/" + urllib.parse.quote(MODEL))
        assert status == 200 and json.loads(text_reply)["id"] == MODEL
    finally:
        fake.stop()
