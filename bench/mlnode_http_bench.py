#!/usr/bin/env python3
"""Builtin-backend requests/s of one ML node, directly and through the nginx ML proxy (deploy/nginx); prints both and
the ratio. Usage: INFERENCE_BUILD_DIR=build/release python3 bench/mlnode_http_bench.py [seconds=5] [concurrency=8]
Asserts nothing."""
import http.client
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "functional"))
from framework import post_json  # noqa: E402
from framework.mlnode import MlNode, MlProxy  # noqa: E402

MODEL = "bench-model"
BODY = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "benchmark"}], "max_tokens": 16})


def load(port, path, seconds, concurrency):
    counts, errors = [0] * concurrency, [0] * concurrency
    deadline = time.monotonic() + seconds

    def worker(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            try:
                conn.request("POST", path, BODY, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start), sum(errors)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    procs = []
    with tempfile.TemporaryDirectory(prefix="mlnode-bench-") as workdir:
        try:
            old = MlNode(procs, workdir, "v3.0.6", ["--threads", "1", "--model", MODEL, "--log-level", "warn"]).start()
            new = MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--model", MODEL, "--log-level", "warn"]).start()
            proxy = MlProxy(procs, workdir, old, new).start()
            assert post_json(f"{new.inference_url}/v1/chat/completions", json.loads(BODY))[0] == 200
            load(new.inference_port, "/v3.0.8/v1/chat/completions", 1.0, concurrency)  # warm-up
            direct, direct_err = load(new.inference_port, "/v3.0.8/v1/chat/completions", seconds, concurrency)
            proxied, proxied_err = load(proxy.inference_port, "/v3.0.8/v1/chat/completions", seconds, concurrency)
            print(f"builtin backend, {concurrency} concurrent clients, {seconds:.0f} s each, non-streaming, 16 tokens")
            print(f"direct      : {direct:8.0f} requests/s ({direct_err} errors)")
            print(f"through nginx: {proxied:8.0f} requests/s ({proxied_err} errors)")
            print(f"ratio nginx/direct: {proxied / direct:.2f}")
        finally:
            for p in procs:
                p.stop()


if __name__ == "__main__":
    main()
