"""Two ML node versions side by side behind the nginx ML proxy (deploy/nginx): /v3.0.6/... and /v3.0.8/... reach
the right process, unversioned routes reach the default one, and stop through the proxy stops only that version."""
import json

from framework import get_json, http_request, post_json, wait_until
from framework.mlnode import MlNode, MlProxy

OLD, NEW = "v3.0.6", "v3.0.8"
MODEL = "Qwen/Qwen2.5-7B-Instruct"


def start_pair(procs, workdir):
    old = MlNode(procs, workdir, OLD, ["--threads", "1"]).start()
    new = MlNode(procs, workdir, NEW, ["--threads", "1"]).start()
    proxy = MlProxy(procs, workdir, old, new, default="old").start()
    return old, new, proxy


def test_versioned_routes_reach_the_right_ml_node(procs, workdir):
    old, new, proxy = start_pair(procs, workdir)

    # Management port: each prefix reaches its version; no prefix reaches the default (old).
    for version in (OLD, NEW):
        status, body = get_json(f"{proxy.poc_url}/{version}/api/v1/state")
        assert status == 200 and body["version"] == version and body["state"] == "STOPPED", body
    status, body = get_json(f"{proxy.poc_url}/api/v1/state")
    assert status == 200 and body["version"] == OLD

    # Inference port: load a model on each through the proxy, then health/tokenize/chat report the version.
    for version in (OLD, NEW):
        status, body = post_json(f"{proxy.poc_url}/{version}/api/v1/inference/up", {"model": MODEL, "args": []})
        assert status == 200 and body["status"] == "OK", body
        status, health = get_json(f"{proxy.inference_url}/{version}/health")
        assert status == 200 and health["version"] == version and health["state"] == "INFERENCE", health
        status, tok = post_json(f"{proxy.inference_url}/{version}/tokenize", {"model": MODEL, "prompt": "hello world"})
        assert status == 200 and tok["count"] == 2, tok
        status, chat = post_json(f"{proxy.inference_url}/{version}/v1/chat/completions",
                                 {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
        assert status == 200 and chat["object"] == "chat.completion" and chat["usage"]["completion_tokens"] == 4, chat
    status, health = get_json(f"{proxy.inference_url}/health")
    assert status == 200 and health["version"] == OLD

    # Streaming goes through the proxy unbuffered and complete.
    status, text = http_request("POST", f"{proxy.inference_url}/{NEW}/v1/chat/completions",
                                body={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert status == 200 and text.rstrip().endswith("data: [DONE]"), text

    # The unprefixed routes on the processes themselves (backward compatibility).
    assert get_json(f"{new.poc_url}/api/v1/state")[1]["version"] == NEW
    assert get_json(f"{new.inference_url}/health")[0] == 200


def test_wrong_version_prefix_gets_a_clear_404(procs, workdir):
    new = MlNode(procs, workdir, NEW, ["--threads", "1"]).start()
    for url in (f"{new.poc_url}/{OLD}/api/v1/state", f"{new.poc_url}/{OLD}/api/v1/pow/status",
                f"{new.inference_url}/{OLD}/health", f"{new.poc_url}/{OLD}/api/v1/no/such/route"):
        status, body = get_json(url)
        assert status == 404, (url, body)
        message = body["error"]["message"]
        assert NEW in message and OLD in message and "deploy/nginx" in message, message
    status, body = post_json(f"{new.inference_url}/{OLD}/v1/chat/completions",
                             {"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert status == 404 and body["error"]["type"] == "invalid_request_error" and OLD in body["error"]["message"]
    status, body = get_json(f"{new.poc_url}/{NEW}/api/v1/state")
    assert status == 200 and body["version"] == NEW


def test_stop_through_the_proxy_stops_only_that_version(procs, workdir):
    old, new, proxy = start_pair(procs, workdir)
    for version in (OLD, NEW):
        assert post_json(f"{proxy.poc_url}/{version}/api/v1/inference/up", {"model": MODEL})[0] == 200

    status, body = post_json(f"{proxy.poc_url}/{OLD}/api/v1/stop", None)
    assert status == 200 and body["version"] == OLD and body["previous_state"] == "INFERENCE", body

    assert get_json(f"{old.poc_url}/api/v1/state")[1]["state"] == "STOPPED"
    assert get_json(f"{new.poc_url}/api/v1/state")[1]["state"] == "INFERENCE"
    assert get_json(f"{proxy.inference_url}/{OLD}/health")[0] == 503
    status, health = get_json(f"{proxy.inference_url}/{NEW}/health")
    assert status == 200 and health["version"] == NEW
    status, chat = post_json(f"{proxy.inference_url}/{NEW}/v1/chat/completions",
                             {"model": MODEL, "messages": [{"role": "user", "content": "still there?"}]})
    assert status == 200 and chat["choices"][0]["message"]["content"], chat
    status, chat = post_json(f"{proxy.inference_url}/{OLD}/v1/chat/completions",
                             {"model": MODEL, "messages": [{"role": "user", "content": "still there?"}]})
    assert status == 503 and "inference/up" in chat["error"]["message"], chat
