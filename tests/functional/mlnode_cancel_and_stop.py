"""Stops and disconnects reach the work in flight (issue 14): a client that leaves frees its slot and the upstream's
(fault 3, both backends, streamed or not); /api/v1/stop ends running inference requests before PoC may start
(fault 4); a stop or SIGTERM during a slow model load takes effect within 2 s (fault 5); a launched upstream dies
with its manager and a restarted mlnode stops what is left of it (fault 11)."""
import json
import os
import signal
import socket
import sys
import threading
import time

from framework import free_port, get_json, http_request, post_json, wait_until
from framework.fake_openai import FakeOpenAi
from framework.mlnode import MlNode
from framework.process import guard_process_group

MODEL = "Qwen/Qwen2.5-7B-Instruct"
FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "framework", "fake_openai.py")


def raw_chat(port, body, read_for=None):
    """Sends a chat request on a raw socket; reads for `read_for` seconds (then drops the connection) or to the end."""
    data = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(data)).encode() + b"\r\nConnection: close\r\n\r\n" + data)
    out = b""
    deadline = time.monotonic() + (read_for if read_for is not None else 60)
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            piece = s.recv(65536)
        except socket.timeout:
            break
        if not piece:
            break
        out += piece
    s.close()
    return out.decode(errors="replace")


def process_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_builtin_client_disconnect_frees_the_slot(procs, workdir):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--model", MODEL, "--batch-slots", "1",
                                             "--tokens-per-second", "2"]).start()
    for stream in (False, True):
        raw_chat(node.inference_port, {"model": MODEL, "max_tokens": 60, "stream": stream,
                                       "messages": [{"role": "user", "content": "Tell a long story."}]}, read_for=1)
        start = time.monotonic()
        status, body = post_json(node.inference_url + "/v1/chat/completions",
                                 {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]},
                                 timeout=60)
        assert status == 200, body
        assert time.monotonic() - start < 3, f"the abandoned request (stream={stream}) kept the only slot"
    metrics = http_request("GET", node.inference_url + "/metrics")[1]
    assert "mlnode_chat_cancelled_total 2" in metrics, metrics


def test_openai_backend_client_disconnect_reaches_the_upstream(procs, workdir):
    fake = FakeOpenAi(model=MODEL, delay_s=30).start()
    try:
        node = MlNode(procs, workdir, "v3.0.8", ["--backend", "openai", "--upstream", fake.url,
                                                 "--ready-timeout-s", "30"], name="forwarder").start()
        assert post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL})[0] == 200
        for n, stream in enumerate((False, True), start=1):
            raw_chat(node.inference_port, {"model": MODEL, "stream": stream,
                                           "messages": [{"role": "user", "content": "hi"}]}, read_for=0.5)
            wait_until(lambda: len(fake.seen("aborted")) >= n, timeout=3,
                       what=f"the upstream to see the client leave (stream={stream})")
        assert fake.seen("aborted") == ["whole", "stream"] and not fake.seen("finished")
    finally:
        fake.stop()


def test_stop_ends_running_inference_before_pow(procs, workdir):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--model", MODEL, "--tokens-per-second", "2"]).start()
    body = {"model": MODEL, "max_tokens": 60, "messages": [{"role": "user", "content": "Tell a long story."}]}
    results = {}

    def run(name, b):
        results[name] = raw_chat(node.inference_port, b)

    threads = [threading.Thread(target=run, args=("whole", body)),
               threading.Thread(target=run, args=("stream", dict(body, stream=True)))]
    for t in threads:
        t.start()
    wait_until(lambda: "mlnode_chat_in_flight 2" in http_request("GET", node.inference_url + "/metrics")[1],
               timeout=10, what="both requests to run")
    start = time.monotonic()
    status, reply = post_json(node.poc_url + "/api/v1/stop", None, timeout=30)
    assert status == 200 and reply["previous_state"] == "INFERENCE", reply
    assert time.monotonic() - start < 2
    for t in threads:
        t.join(5)
    # Both ended when the stop answered: the whole one with 503, the stream with an error event and no [DONE].
    assert results["whole"].startswith("HTTP/1.1 503"), results["whole"][:300]
    assert "api/v1/stop" in results["whole"]
    assert results["stream"].startswith("HTTP/1.1 200") and '"error"' in results["stream"], results["stream"][-300:]
    assert "[DONE]" not in results["stream"]
    assert "mlnode_chat_in_flight 0" in http_request("GET", node.inference_url + "/metrics")[1]

    pow_init = {"node_id": 0, "node_count": 1, "block_hash": "AB", "block_height": 1, "public_key": "02aa",
                "url": "http://127.0.0.1:9/cb"}
    status, reply = post_json(node.poc_url + "/api/v1/pow/init/generate", pow_init)
    assert status == 200, reply
    status, reply = post_json(node.inference_url + "/v1/chat/completions", body)
    assert status == 409, reply  # never inference while PoC runs


def test_stop_and_sigterm_during_a_slow_load_take_effect_within_2s(procs, workdir):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--load-ms", "60000"]).start()
    # Two loads: one running, one waiting for the first. The stop must reach both (a stop that arrived while the
    # second waited used to be lost: it reset the cancel flag and loaded for a minute).
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL}, timeout=120))) for _ in range(2)]
    for t in threads:
        t.start()
    wait_until(lambda: node.process.log().count("inference/up " + MODEL + ": requested") == 2 and
               node.state()["state"] == "INFERENCE", timeout=30, what="both loads to be requested")
    start = time.monotonic()
    status, _ = post_json(node.poc_url + "/api/v1/stop", None, timeout=30)
    assert status == 200 and time.monotonic() - start < 2
    for t in threads:
        t.join(5)
    assert time.monotonic() - start < 2, "a load went on after the stop"
    assert [r[0] for r in results] == [409, 409], results
    assert node.state()["state"] == "STOPPED"

    # SIGTERM while inference/up loads.
    t = threading.Thread(target=lambda: post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL},
                                                  timeout=120))
    t.start()
    wait_until(lambda: node.state()["state"] == "INFERENCE", timeout=30, what="the second load to start")
    start = time.monotonic()
    node.process.proc.send_signal(signal.SIGTERM)
    assert node.process.proc.wait(10) == 0
    assert time.monotonic() - start < 2, f"exited after {time.monotonic() - start:.1f} s"
    t.join(10)

    # SIGTERM while the --model preload loads.
    preload = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--load-ms", "60000", "--model", MODEL],
                     name="preload")
    preload.process.start()  # its ports open only once the model is loaded
    wait_until(lambda: "before serving (--model)" in preload.process.log(), timeout=30, what="the preload to start")
    start = time.monotonic()
    preload.process.proc.send_signal(signal.SIGTERM)
    assert preload.process.proc.wait(10) == 0
    assert time.monotonic() - start < 2, f"exited after {time.monotonic() - start:.1f} s"


def launcher(procs, workdir, port, extra_launch="", name="launcher", ports=None):
    launch = f"{sys.executable} {FAKE} --port {port} --model {MODEL} {extra_launch}"
    return MlNode(procs, workdir, "v3.0.8", ["--backend", "openai", "--upstream", f"http://127.0.0.1:{port}",
                                             "--launch", launch, "--ready-timeout-s", "60", "--work-dir", workdir],
                  name=name, ports=ports)


def test_launched_upstream_dies_with_its_manager(procs, workdir):
    port = free_port()
    pidfile = os.path.join(workdir, "worker.pid")
    node = launcher(procs, workdir, port, f"--worker {pidfile}").start()
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL}, timeout=90)
    assert status == 200, body
    leader = int(open(pidfile + ".leader").read())
    worker = int(open(pidfile).read())
    guard_process_group(leader)  # whatever happens below, this test leaves nothing behind
    assert process_alive(leader) and process_alive(worker)

    os.kill(node.process.proc.pid, signal.SIGKILL)  # the manager only, not its process group
    node.process.proc.wait(10)
    wait_until(lambda: not process_alive(leader), timeout=5, what="the upstream to die with its manager")
    assert process_alive(worker), "a worker without the parent-death signal outlives the leader"

    # A restarted mlnode (same ports, same work dir) finds what is left and stops it before serving.
    restarted = launcher(procs, workdir, port, f"--worker {pidfile}", name="restarted",
                         ports=(node.inference_port, node.poc_port)).start()
    wait_until(lambda: not process_alive(worker), timeout=10, what="the restarted mlnode to stop the stale worker")
    assert "left by an earlier mlnode" in restarted.process.log()


def test_sigterm_while_waiting_for_the_upstream_exits_within_2s(procs, workdir):
    port = free_port()
    pidfile = os.path.join(workdir, "worker.pid")
    node = launcher(procs, workdir, port, f"--never-ready --worker {pidfile}").start()
    t = threading.Thread(target=lambda: post_json(node.poc_url + "/api/v1/inference/up", {"model": MODEL},
                                                  timeout=90))
    t.start()
    wait_until(lambda: os.path.exists(pidfile), timeout=30, what="the upstream to start")
    leader, worker = int(open(pidfile + ".leader").read()), int(open(pidfile).read())
    guard_process_group(leader)  # whatever happens below, this test leaves nothing behind
    start = time.monotonic()
    node.process.proc.send_signal(signal.SIGTERM)
    assert node.process.proc.wait(10) == 0
    assert time.monotonic() - start < 2, f"exited after {time.monotonic() - start:.1f} s"
    t.join(10)
    wait_until(lambda: not process_alive(leader) and not process_alive(worker), timeout=3,
               what="the upstream group to be stopped")


def test_switching_the_model_ends_requests_for_the_old_one(procs, workdir):
    node = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--model", MODEL, "--tokens-per-second", "2"]).start()
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("old", raw_chat(node.inference_port, {
        "model": MODEL, "max_tokens": 60, "messages": [{"role": "user", "content": "Tell a long story."}]})))
    t.start()
    wait_until(lambda: "mlnode_chat_in_flight 1" in http_request("GET", node.inference_url + "/metrics")[1],
               timeout=10, what="the request to run")
    status, body = post_json(node.poc_url + "/api/v1/inference/up", {"model": "other/model"}, timeout=30)
    assert status == 200, body
    t.join(5)
    assert result["old"].startswith("HTTP/1.1 503"), result["old"][:300]
    status, body = post_json(node.inference_url + "/v1/chat/completions",
                             {"model": "other/model", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200, body
