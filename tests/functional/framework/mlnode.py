"""Helpers for ML node tests: start `mlnode` processes, render and start the nginx ML proxy, and a callback
server that records what ML nodes post to {callback}/generated and {callback}/validated."""
import json
import os
import shutil
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .http import get_json, http_request
from .process import Process, binary, free_port, wait_until

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class MlNode:
    """One `mlnode start` process on free ports."""

    def __init__(self, procs, workdir, version, extra_args=(), name=None, ports=None):
        """`ports`: (inference, poc) to reuse those of an earlier node (a restart); new free ports by default."""
        self.version = version
        self.inference_port, self.poc_port = ports or (free_port(), free_port())
        self.name = name or f"mlnode-{version}"
        args = [binary("mlnode"), "start", "--version", version, "--inference-port", self.inference_port,
                "--poc-port", self.poc_port, *extra_args]
        self.process = Process(self.name, args, workdir)
        procs.append(self.process)

    @property
    def inference_url(self):
        return f"http://127.0.0.1:{self.inference_port}"

    @property
    def poc_url(self):
        return f"http://127.0.0.1:{self.poc_port}"

    def start(self):
        self.process.start()
        wait_until(lambda: self.state() is not None, timeout=30, what=f"{self.name} to answer /api/v1/state")
        wait_until(lambda: http_request("GET", self.inference_url + "/health", timeout=2)[0] in (200, 503),
                   timeout=30, what=f"{self.name} to answer /health")
        return self

    def state(self):
        status, body = get_json(self.poc_url + "/api/v1/state", timeout=2)
        return body if status == 200 else None


def render_nginx(workdir, name="nginx", **values):
    """Renders deploy/nginx/mlnode-proxy.conf.template into a fresh nginx prefix dir <workdir>/<name>; returns
    (prefix, conf path)."""
    prefix = os.path.join(workdir, name)
    for sub in ("logs", "tmp"):
        os.makedirs(os.path.join(prefix, sub), exist_ok=True)
    with open(os.path.join(REPO_ROOT, "deploy", "nginx", "mlnode-proxy.conf.template")) as f:
        template = f.read()
    conf = string.Template(template).safe_substitute(values)
    if os.geteuid() == 0:
        conf = "user root;\n" + conf  # workers must be able to use the temp dirs created by this (root) test
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return prefix, path


class MlProxy:
    """nginx in front of an old and a new ML node (the deploy/nginx template), non-daemon, on free ports."""

    def __init__(self, procs, workdir, old, new, default="old", name="nginx"):
        """`name`: of its process and prefix dir (several proxies in one test need different names)."""
        self.inference_port = free_port()
        self.poc_port = free_port()
        self.prefix, self.conf = render_nginx(
            workdir, name,
            INFERENCE_LISTEN=f"127.0.0.1:{self.inference_port}", POC_LISTEN=f"127.0.0.1:{self.poc_port}",
            OLD_VERSION=old.version, OLD_INFERENCE=f"127.0.0.1:{old.inference_port}",
            OLD_POC=f"127.0.0.1:{old.poc_port}",
            NEW_VERSION=new.version, NEW_INFERENCE=f"127.0.0.1:{new.inference_port}",
            NEW_POC=f"127.0.0.1:{new.poc_port}", DEFAULT=default)
        self.process = Process(name, [NGINX, "-p", self.prefix, "-c", self.conf, "-g", "daemon off;"], workdir)
        procs.append(self.process)

    @property
    def inference_url(self):
        return f"http://127.0.0.1:{self.inference_port}"

    @property
    def poc_url(self):
        return f"http://127.0.0.1:{self.poc_port}"

    def start(self):
        self.process.start()
        wait_until(lambda: http_request("GET", self.poc_url + "/api/v1/state", timeout=2)[0] == 200, timeout=30,
                   what="nginx to proxy /api/v1/state")
        return self

    def access_log(self):
        """The request lines of the proxy's access log, in the order nginx logged them (at each request's end)."""
        try:
            with open(os.path.join(self.prefix, "logs", "access.log")) as f:
                return [line.split('"')[1] for line in f if line.count('"') >= 2]
        except FileNotFoundError:
            return []

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""


class CallbackServer:
    """Records JSON bodies POSTed to /<anything>/generated and /<anything>/validated. Use as a context manager."""

    def __init__(self, fail_first=0):
        self.generated = []
        self.validated = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    if outer.fail_first > 0:
                        outer.fail_first -= 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    data = json.loads(body)
                    if self.path.endswith("/generated"):
                        outer.generated.append(data)
                    elif self.path.endswith("/validated"):
                        outer.validated.append(data)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/poc-batches"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def generated_nonces(self, node_id=None):
        with self.lock:
            out = []
            for b in self.generated:
                if node_id is None or b.get("node_id") == node_id:
                    out.extend(zip(b["nonces"], b["dist"]))
            return out

    def validated_batches(self):
        with self.lock:
            return list(self.validated)
