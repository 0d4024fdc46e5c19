"""A small fake OpenAI-compatible upstream for ML node tests of the openai backend (issue 14).

In-process: FakeOpenAi(delay_s=...).start() serves /health, /v1/models and /v1/chat/completions on a free port and
records what happened in `events` (("request", body), ("aborted", kind), ("finished", kind)). A completion
"generates" for `delay_s` seconds: a non-streamed one answers at the end, a streamed one sends a chunk every 0.1 s.
It notices a client that leaves (as vLLM does) and records ("aborted", "stream"|"whole").

As a script (what `mlnode --launch` starts): python3 fake_openai.py --port N [--never-ready] [--worker PIDFILE]
  --never-ready: /health answers 503 forever; --worker: forks a child in the same process group (like vLLM's
  workers) and writes its pid to PIDFILE; the script writes its own pid to PIDFILE + ".leader"."""
import os
import sys

if __name__ == "__main__":  # run as a script from framework/: its http.py must not shadow the standard library
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import argparse  # noqa: E402
import json  # noqa: E402
import select  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        fake = self.server.fake
        if self.path == "/health":
            return self._json(503 if fake.never_ready else 200, {"status": "ok"})
        if self.path == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
        return self._json(404, {"error": {"message": "not found"}})

    def _client_gone(self):
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_POST(self):
        fake = self.server.fake
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        fake.record("request", body)
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "not found"}})
        n = int(body.get("n") or 1)
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            deadline = time.monotonic() + fake.delay_s
            try:
                while time.monotonic() < deadline:
                    chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": " x"}}]}
                    data = f"data: {json.dumps(chunk)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    time.sleep(0.1)
                end = b"data: [DONE]\n\n"
                self.wfile.write(f"{len(end):x}\r\n".encode() + end + b"\r\n0\r\n\r\n")
                fake.record("finished", "stream")
            except OSError:
                fake.record("aborted", "stream")
            return
        deadline = time.monotonic() + fake.delay_s
        while time.monotonic() < deadline:
            if self._client_gone():
                fake.record("aborted", "whole")
                return
            time.sleep(0.02)
        choices = [{"index": i, "message": {"role": "assistant", "content": "done"}, "finish_reason": "stop"}
                   for i in range(n)]
        self._json(200, {"object": "chat.completion", "model": body.get("model"), "choices": choices,
                         "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": 1 + n}})
        fake.record("finished", "whole")


class FakeOpenAi:
    def __init__(self, model="fake/model", delay_s=0.0, never_ready=False, port=0):
        self.model = model
        self.delay_s = delay_s
        self.never_ready = never_ready
        self.events = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, kind, value):
        with self._lock:
            self.events.append((kind, value))

    def seen(self, kind):
        with self._lock:
            return [v for k, v in self.events if k == kind]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--model", default="fake/model")
    ap.add_argument("--never-ready", action="store_true")
    ap.add_argument("--worker")
    args, _ = ap.parse_known_args()  # the launcher appends model args
    if args.worker:
        with open(args.worker + ".leader", "w") as f:
            f.write(str(os.getpid()))
        pid = os.fork()
        if pid == 0:  # a worker in the leader's process group, without a parent-death signal
            os.execvp("sleep", ["sleep", "600"])
        with open(args.worker + ".tmp", "w") as f:
            f.write(str(pid))
        os.rename(args.worker + ".tmp", args.worker)
    fake = FakeOpenAi(model=args.model, never_ready=args.never_ready, port=args.port)
    fake.server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
