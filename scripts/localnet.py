#!/usr/bin/env python3
"""`make run`: the whole network on this machine, serving a real LLM on the CPU (issue 15).

    scripts/localnet run [--validators N] [--dir .localnet] [--build-dir build/release] [--base-port 9000]
                         [--rpc-port 1317] [--chain-base-port 27000] [--block-time-ms 500] [--epoch-length 200]

What it starts (each process's output in <dir>/logs/<name>.log):
  - the chain: one `inferenced` (solo, --validators 1) or N validators under CometBFT (scripts/cometbft_localnet.py);
  - 3 participants ("validator", "alice", "bob"; on CometBFT: the operators of validators 0-2), each with
      `dapi`, an ML node serving HuggingFaceTB/SmolLM2-135M-Instruct (`mlnode --backend llama-cpp`, the GGUF file
      of scripts/real-model-path), an ML node serving the builtin test model Qwen/Qwen2.5-7B-Instruct
      (`mlnode --backend builtin`) and nginx in front of both ML nodes (dapi reaches its nodes through it).
The participants register themselves (dapi joins the network on start), mine the first PoC and form epoch 1;
this waits for that, printing height, epoch and phase, then prints how to use the network. Ctrl-C stops every
process (exit 0); running it again resumes the same network from <dir>.

Ports: participant i uses base-port + 20 i ... + 20 i + 14 (dapi public = base-port + 20 i); the solo chain's RPC
is --rpc-port; CometBFT validator i uses chain-base-port + 10 i ... + 3 (its inferenced RPC is the + 3).

The functional tests (tests/functional/localnet_*.py) drive the same code through `Localnet`.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "functional"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import cometbft_localnet  # noqa: E402
from framework.http import get_json, http_request  # noqa: E402
from framework.process import Process  # noqa: E402

REAL_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
BUILTIN_MODEL = "Qwen/Qwen2.5-7B-Instruct"
CHAIN_ID = "inference-localnet"
PARTICIPANT_NAMES = ("validator", "alice", "bob")
PORTS_PER_PARTICIPANT = 20
# The first PoC starts at this height: every participant is up well before (start-up takes ~10 s).
FIRST_POC_HEIGHT = 40
# Each ML node computes PoC on one thread and reports hits often: localnet PoC stages are a few blocks long.
POC_MLNODE_ARGS = ("--threads", "1", "--poc-send-interval-ms", "300")
ALICE_FUNDS = 10**12  # nicoin for each non-validator participant (solo chain)
STATE_FILE = "localnet.json"


class LocalnetError(Exception):
    """A problem the user can fix (a busy port, a missing build, a state dir of another shape): printed, exit 1."""


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def python_with_openai():
    """An interpreter that imports the official openai client: python3 (scripts/setup installs it there) or .venv's."""
    for py in (shutil.which("python3"), os.path.join(ROOT, ".venv", "bin", "python")):
        if py and os.path.exists(py) and subprocess.run([py, "-c", "import openai"], capture_output=True).returncode == 0:
            return "python3" if py == shutil.which("python3") else py
    return None


def _run(args, timeout=60):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise LocalnetError(f"{' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}{r.stdout}")
    return r.stdout


def _write_json(path, obj, mode=None):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    if mode is not None:
        os.chmod(tmp, mode)
    os.replace(tmp, path)


def _wait(condition, timeout, what, interval=0.2, alive=None):
    """Polls `condition` until truthy (returns it); raises LocalnetError after `timeout` s or when `alive()` says
    a process died."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # a process that is still starting refuses connections
            last = exc
        time.sleep(interval)
    raise LocalnetError(f"timed out after {timeout} s waiting for {what}" + (f" (last error: {last})" if last else ""))


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_conf(pairs):
    """nginx.conf for one participant: per ML node a server on its own inference and PoC ports passing every path
    (versioned or not) to that node, with the proxy settings of deploy/nginx/mlnode-proxy.conf.template
    (unbuffered for streamed answers, long read timeouts, keep-alive). pairs: [(listen_inference, listen_poc,
    mlnode_inference, mlnode_poc)] as ports on 127.0.0.1."""
    lines = []
    if os.geteuid() == 0:
        lines.append("user root;")  # workers must use the temp dirs this (root) process created
    lines += ["worker_processes 1;", "pid nginx.pid;", "error_log logs/error.log warn;",
              "events { worker_connections 1024; }", "http {", "    access_log logs/access.log;",
              "    client_body_temp_path tmp/body;", "    proxy_temp_path tmp/proxy;",
              "    fastcgi_temp_path tmp/fastcgi;", "    uwsgi_temp_path tmp/uwsgi;", "    scgi_temp_path tmp/scgi;",
              "    client_max_body_size 0;", "    proxy_connect_timeout 10s;", "    proxy_send_timeout 24h;",
              "    proxy_read_timeout 24h;", "    proxy_http_version 1.1;", '    proxy_set_header Connection "";',
              "    proxy_set_header Host $host;", "    proxy_buffering off;", "    proxy_request_buffering off;"]
    for i, (li, lp, mi, mp) in enumerate(pairs):
        lines += [f"    upstream node{i}_inference {{ server 127.0.0.1:{mi}; keepalive 16; }}",
                  f"    upstream node{i}_poc {{ server 127.0.0.1:{mp}; keepalive 8; }}",
                  f"    server {{ listen 127.0.0.1:{li}; location / {{ proxy_pass http://node{i}_inference; }} }}",
                  f"    server {{ listen 127.0.0.1:{lp}; location / {{ proxy_pass http://node{i}_poc; }} }}"]
    lines.append("}")
    return "\n".join(lines) + "\n"


class Participant:
    """One participant: dapi, the real-model ML node, the builtin ML node and nginx in front of both."""

    def __init__(self, net, index, spec):
        self.net = net
        self.index = index
        self.name = spec["name"]
        self.spec = spec
        self.home = os.path.join(net.dir, f"p{index}-{self.name}")
        self.dapi_home = os.path.join(self.home, "dapi")
        base = net.base_port + PORTS_PER_PARTICIPANT * index
        self.public_port, self.admin_port, self.callback_port = base, base + 1, base + 2
        # (node id, model, nginx inference/poc ports, mlnode inference/poc ports)
        self.nodes = [
            {"id": f"{self.name}-smollm2", "model": REAL_MODEL, "proxy": (base + 3, base + 4),
             "mlnode": (base + 10, base + 11), "upstream": base + 12, "real": True},
            {"id": f"{self.name}-builtin", "model": BUILTIN_MODEL, "proxy": (base + 5, base + 6),
             "mlnode": (base + 13, base + 14), "real": False},
        ]
        self.public_url = f"http://127.0.0.1:{self.public_port}"
        self.chain_url = net.chain_urls[index % len(net.chain_urls)]
        self.processes = {}

    @property
    def address(self):
        return self.spec["address"]

    @property
    def api_key(self):
        return self.spec["api_key"]

    # --- creation (first run) ------------------------------------------------------------------------------
    @staticmethod
    def create(net, index, name, key_files=None):
        """`dapi init` of a new participant; key_files = (keyring, validator key) of a chain node to sign with
        that node's "validator" key instead of new keys. Returns the spec kept in localnet.json."""
        home = os.path.join(net.dir, f"p{index}-{name}", "dapi")
        os.makedirs(os.path.dirname(home), exist_ok=True)
        key = "validator" if key_files else name
        out = json.loads(_run([net.binary("dapi"), "init", "--home", home, "--chain-node", net.chain_urls[0],
                               "--key", key, "--public-url",
                               f"http://127.0.0.1:{net.base_port + PORTS_PER_PARTICIPANT * index}"]))
        with open(out["config"]) as f:
            token = re.search(r"^  token: (\S+)", f.read(), re.M).group(1)
        spec = {"name": name, "key": key, "admin_token": token, "api_key": f"sk-localnet-{name}-{secrets.token_hex(12)}"}
        if key_files:
            spec["keyring_file"], spec["validator_key_file"] = key_files
            keyring_home = os.path.dirname(os.path.dirname(key_files[0]))
            spec["address"] = _run([net.binary("inferenced"), "keys", "show", key, "-a", "--home", keyring_home]).strip()
        else:
            spec["address"] = out["address"]
        return spec

    # --- processes -----------------------------------------------------------------------------------------
    def dapi_config(self):
        key = {"name": self.spec["key"]}
        if "keyring_file" in self.spec:
            key.update(keyring_file=self.spec["keyring_file"], validator_key_file=self.spec["validator_key_file"])
        nodes = [{"id": n["id"], "host": "127.0.0.1", "inference_port": n["proxy"][0], "poc_port": n["proxy"][1],
                  "models": {n["model"]: {"args": []}}, "max_concurrent": 2 if n["real"] else 8,
                  "hardware": [{"type": "CPU", "count": 1}]} for n in self.nodes]
        return {
            "chain_node": {"url": self.chain_url},
            "key": key,
            "public_url": self.public_url,
            "servers": {"public": f"127.0.0.1:{self.public_port}", "admin": f"127.0.0.1:{self.admin_port}",
                        "mlnode_callback": f"127.0.0.1:{self.callback_port}"},
            "admin": {"token": self.spec["admin_token"]},
            "api_keys": [self.api_key],
            "log_level": "info",
            "timing": {"reconcile_interval_ms": 1000, "hardware_sync_interval_ms": 1000, "chain_retry_ms": 300},
            # Localnet validation windows are a few blocks: a small sample keeps PoC validation within them.
            "poc": {"validation_sample_size": 48},
            # Every participant runs on 127.0.0.1, which calls to participant URLs refuse by default (SSRF guard).
            "inference": {"allowed_networks": ["127.0.0.0/8"]},
            "nodes": nodes,
        }

    def mlnode_args(self, node, version):
        inf, poc = node["mlnode"]
        args = [self.net.binary("mlnode"), "start", "--version", version, "--inference-port", inf, "--poc-port", poc,
                *POC_MLNODE_ARGS, "--work-dir", self.home]
        if node["real"]:
            args += ["--backend", "llama-cpp", "--upstream", f"http://127.0.0.1:{node['upstream']}",
                     "--launch", f"{self.net.venv_python} -m llama_cpp.server",
                     "--model-file", f"{REAL_MODEL}={self.net.model_path}", "--ready-timeout-s", "120"]
        else:
            args += ["--backend", "builtin"]
        return args

    def start_mlnodes(self, version):
        for n in self.nodes:
            p = Process(f"{n['id']}-mlnode", self.mlnode_args(n, version), self.net.log_dir).start()
            self.processes[f"{n['id']}-mlnode"] = p
        prefix = os.path.join(self.home, "nginx")
        for sub in ("logs", "tmp"):
            os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf([(*n["proxy"], *n["mlnode"]) for n in self.nodes]))
        self.processes["nginx"] = Process(f"{self.name}-nginx", [nginx_binary(), "-p", prefix, "-c", conf, "-g",
                                                                 "daemon off;"], self.net.log_dir).start()

    def wait_mlnodes(self):
        for n in self.nodes:
            _wait(lambda: get_json(f"http://127.0.0.1:{n['proxy'][1]}/api/v1/state", timeout=2)[0] == 200, 60,
                  f"{n['id']} to answer through nginx", alive=self.net.check_alive)

    def start_dapi(self):
        _write_json(os.path.join(self.dapi_home, "config.yaml"), self.dapi_config(), mode=0o600)
        self.processes["dapi"] = Process(f"{self.name}-dapi", [self.net.binary("dapi"), "start", "--home",
                                                                self.dapi_home], self.net.log_dir).start()

    def wait_dapi(self):
        _wait(lambda: http_request("GET", self.public_url + "/health", timeout=2)[0] == 200, 90,
              f"{self.name}'s dapi to serve /health", alive=self.net.check_alive)

    def mlnode_state(self, node):
        status, body = get_json(f"http://127.0.0.1:{node['proxy'][1]}/api/v1/state", timeout=3)
        return body if status == 200 else None


class Localnet:
    """The network of `make run`, created in `directory` on first use and resumed from it afterwards."""

    def __init__(self, directory, build_dir, validators=1, base_port=9000, rpc_port=1317, chain_base_port=27000,
                 block_time_ms=500, epoch_length=200, schedule_params=None, out=None):
        """schedule_params: genesis schedule params over make run's (tests set e.g. the validation rate)."""
        self.dir = os.path.abspath(directory)
        self.build_dir = os.path.abspath(build_dir)
        self.log_dir = os.path.join(self.dir, "logs")
        self.out = out or sys.stdout
        self.schedule_params = dict(schedule_params or {})
        state_path = os.path.join(self.dir, STATE_FILE)
        self.state = None
        if os.path.exists(state_path):
            with open(state_path) as f:
                self.state = json.load(f)
            if self.state["validators"] != validators:
                raise LocalnetError(
                    f"{self.dir} holds a network of {self.state['validators']} validator(s), not {validators}: run "
                    f"`scripts/localnet reset` (or pass another --dir) to start a new one")
            validators, base_port, rpc_port, chain_base_port, block_time_ms, epoch_length = (
                self.state[k] for k in ("validators", "base_port", "rpc_port", "chain_base_port", "block_time_ms",
                                        "epoch_length"))
        elif os.path.isdir(self.dir) and os.listdir(self.dir):
            raise LocalnetError(f"{self.dir} is not empty but holds no {STATE_FILE} (made by an older `make run`?): "
                                f"run `scripts/localnet reset` to start a new network")
        self.validators = validators
        self.base_port = base_port
        self.rpc_port = rpc_port
        self.chain_base_port = chain_base_port
        self.block_time_ms = block_time_ms
        self.epoch_length = epoch_length
        if epoch_length <= FIRST_POC_HEIGHT:
            raise LocalnetError(f"--epoch-length must exceed {FIRST_POC_HEIGHT}")
        if validators < 1:
            raise LocalnetError("--validators must be at least 1")
        if validators == 1:
            self.chain_urls = [f"http://127.0.0.1:{rpc_port}"]
            self.comet_ports = []
        else:
            self.comet_ports = cometbft_localnet.default_ports(validators, chain_base_port)
            self.chain_urls = [f"http://127.0.0.1:{p['rpc']}" for p in self.comet_ports]
        self.chain_url = self.chain_urls[0]
        self.chain_processes = []
        self.participants = []
        self.venv_python = os.path.join(ROOT, ".venv", "bin", "python")
        self.model_path = None
        self.stopping = False

    # --- helpers -------------------------------------------------------------------------------------------
    def binary(self, name):
        p = os.path.join(self.build_dir, "bin", name)
        if not os.access(p, os.X_OK):
            raise LocalnetError(f"{name} is not built in {self.build_dir}/bin; run: make build")
        return p

    def say(self, text=""):
        print(text, file=self.out, flush=True)

    def all_processes(self):
        return self.chain_processes + [p for part in self.participants for p in part.processes.values()]

    def check_alive(self):
        for p in self.all_processes():
            if not p.alive():
                tail = "\n".join(p.log().splitlines()[-15:])
                raise LocalnetError(f"{p.name} exited with code {p.proc.returncode}; its log {p.log_path} ends:\n{tail}")

    def query(self, path, timeout=5):
        status, body = get_json(self.chain_url + path, timeout=timeout)
        if status != 200:
            raise LocalnetError(f"GET {self.chain_url}{path} -> {status}: {body}")
        return body

    def chain_home(self):
        return os.path.join(self.dir, "chain") if self.validators == 1 else os.path.join(self.dir, "cometbft")

    def cli_home(self):
        """An inferenced home whose keyring holds "validator" (and, on a solo chain, the client flags)."""
        if self.validators == 1:
            return self.chain_home()
        return cometbft_localnet.load_network(self.chain_home())["nodes"][0]["inferenced_home"]

    # --- checks before starting ----------------------------------------------------------------------------
    def preflight(self):
        for name in ("inferenced", "dapi", "mlnode"):
            self.binary(name)
        if not os.path.exists(self.venv_python):
            raise LocalnetError(f"no virtual environment at {ROOT}/.venv (llama.cpp's server): run `make setup`")
        r = subprocess.run([os.path.join(ROOT, "scripts", "real-model-path")], capture_output=True, text=True)
        if r.returncode != 0:
            raise LocalnetError(f"the real model is not installed: {r.stderr.strip()} (run `make setup`)")
        self.model_path = r.stdout.strip()
        if not os.access(nginx_binary(), os.X_OK):
            raise LocalnetError("nginx is not installed: run `make setup`")
        if self.validators > 1:
            self.cometbft = cometbft_localnet.find_cometbft()
        ports = [self.rpc_port] if self.validators == 1 else [p for d in self.comet_ports for p in d.values()]
        ports += [p for i in range(len(PARTICIPANT_NAMES))
                  for p in range(self.base_port + PORTS_PER_PARTICIPANT * i,
                                 self.base_port + PORTS_PER_PARTICIPANT * i + 15)]
        busy = [p for p in ports if not port_free(p)]
        if busy:
            raise LocalnetError(f"ports in use on 127.0.0.1: {busy} (is another `make run` running? choose others "
                                f"with --base-port/--rpc-port/--chain-base-port on first use)")

    # --- first run -----------------------------------------------------------------------------------------
    def _patch_genesis(self, path, balances=()):
        with open(path) as f:
            g = json.load(f)
        # Epochs of `epoch_length` blocks, the first PoC at FIRST_POC_HEIGHT (participants are up by then).
        g["app_state"]["epochs"]["params"].update(epoch_length=self.epoch_length,
                                                  epoch_shift=self.epoch_length - FIRST_POC_HEIGHT)
        # A sampled inference is re-run on the validator's CPU, which takes ~15 s on a loaded 2-core machine: 120
        # blocks to vote (and to finish an inference) leave room.
        g["app_state"]["schedule"]["params"].update({"inference_expiration_blocks": 120, **self.schedule_params})
        g["app_state"]["bank"]["balances"] += list(balances)
        _write_json(path, g)

    def create(self):
        os.makedirs(self.log_dir, exist_ok=True)
        specs = []
        if self.validators == 1:
            home = self.chain_home()
            _run([self.binary("inferenced"), "init", "--home", home, "--chain-id", CHAIN_ID, "--preset", "localnet"])
            specs.append(Participant.create(self, 0, "validator", (os.path.join(home, "keyring", "keys.json"),
                                                                   os.path.join(home, "config",
                                                                                "validator_key.json"))))
            for i, name in enumerate(PARTICIPANT_NAMES[1:], start=1):
                specs.append(Participant.create(self, i, name))
            balances = [{"address": s["address"], "coins": [{"denom": "nicoin", "amount": str(ALICE_FUNDS)}]}
                        for s in specs[1:]]
            self._patch_genesis(os.path.join(home, "config", "genesis.json"), balances)
        else:
            network = cometbft_localnet.create_network(self.chain_home(), self.validators, self.binary("inferenced"),
                                                       self.cometbft, self.comet_ports, chain_id=CHAIN_ID,
                                                       timeout_commit=f"{self.block_time_ms}ms")
            for node in network["nodes"]:
                for path in (os.path.join(node["inferenced_home"], "config", "genesis.json"),
                             os.path.join(node["cometbft_home"], "config", "genesis.json")):
                    self._patch_genesis(path)
            # The operators of validators 0-2 are the participants: 3 of 4 validators' weight validates epoch 1.
            for i, node in enumerate(network["nodes"][:len(PARTICIPANT_NAMES)]):
                h = node["inferenced_home"]
                specs.append(Participant.create(self, i, f"op{i}", (os.path.join(h, "keyring", "keys.json"),
                                                                    os.path.join(h, "config", "validator_key.json"))))
        self.state = {"validators": self.validators, "base_port": self.base_port, "rpc_port": self.rpc_port,
                      "chain_base_port": self.chain_base_port, "block_time_ms": self.block_time_ms,
                      "epoch_length": self.epoch_length, "participants": specs}
        _write_json(os.path.join(self.dir, STATE_FILE), self.state, mode=0o600)  # holds the admin tokens, API keys

    # --- start / stop --------------------------------------------------------------------------------------
    def start_chain(self):
        if self.validators == 1:
            self.chain_processes.append(Process("inferenced", [
                self.binary("inferenced"), "start", "--home", self.chain_home(), "--rpc-addr",
                f"127.0.0.1:{self.rpc_port}", "--block-time-ms", self.block_time_ms], self.log_dir).start())
        else:
            network = cometbft_localnet.load_network(self.chain_home())
            for node in network["nodes"]:
                self.chain_processes.append(Process(f"{node['name']}-inferenced", cometbft_localnet.inferenced_args(
                    self.binary("inferenced"), node), self.log_dir).start())
                self.chain_processes.append(Process(f"{node['name']}-cometbft", cometbft_localnet.cometbft_args(
                    self.cometbft, node), self.log_dir).start())
        _wait(lambda: all(get_json(u + "/status", timeout=2)[1]["height"] >= 1 for u in self.chain_urls), 60,
              "the chain to produce its first block", alive=self.check_alive)

    def start(self):
        """Creates the network on first use, then starts every process and waits until all answer."""
        t0 = time.monotonic()
        self.preflight()
        first = self.state is None
        if first:
            self.say(f"creating a new local network in {self.dir}")
            self.create()
        else:
            self.say(f"resuming the local network in {self.dir}")
        os.makedirs(self.log_dir, exist_ok=True)
        self.participants = [Participant(self, i, s) for i, s in enumerate(self.state["participants"])]
        self.start_chain()
        self.say(f"chain up at {self.chain_url} (height {self.query('/status')['height']}); starting "
                 f"{len(self.participants)} participants")
        version = self.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
        for p in self.participants:
            p.start_mlnodes(version)
        for p in self.participants:
            p.wait_mlnodes()
        for p in self.participants:
            p.start_dapi()
        for p in self.participants:
            p.wait_dapi()
        self.say(f"all processes up in {time.monotonic() - t0:.0f} s (height {self.query('/status')['height']})")
        return self

    def stop(self):
        """Stops every process: dapis first (they stop nothing on the ML nodes), then ML nodes (each stops its
        llama.cpp server), nginx, the chain. Returns {name: exit code}."""
        self.stopping = True
        codes = {}

        def stop_all(procs):
            threads = [threading.Thread(target=lambda p=p: codes.__setitem__(p.name, p.stop(timeout=20)))
                       for p in procs]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        stop_all([p.processes["dapi"] for p in self.participants if "dapi" in p.processes])
        stop_all([proc for p in self.participants for k, proc in p.processes.items() if k.endswith("-mlnode")])
        stop_all([p.processes["nginx"] for p in self.participants if "nginx" in p.processes])
        comet = [p for p in self.chain_processes if p.name.endswith("-cometbft")]
        stop_all(comet)  # CometBFT first: it closes its ABCI connections
        stop_all([p for p in self.chain_processes if p not in comet])
        return codes

    # --- readiness -----------------------------------------------------------------------------------------
    def progress(self):
        """(height, epoch index, phase, upcoming epoch or None)."""
        e = self.query("/inference/epoch")
        return self.query("/status")["height"], e["epoch_index"], e.get("phase", "?"), e.get("upcoming_epoch_index")

    def real_model_serving(self):
        """(participants in the current epoch's group of the real model, those of them whose real-model ML node
        serves it now); both empty before epoch 1."""
        e = self.query("/inference/epoch")
        if e["epoch_index"] < 1:
            return [], []
        status, body = get_json(f"{self.chain_url}/inference/epoch-groups/current/{REAL_MODEL}", timeout=5)
        if status != 200:
            return [], []
        addresses = {m["member_address"] for m in body["epoch_group"]["validation_weights"]}
        members = [p for p in self.participants if p.address in addresses]
        serving = []
        for p in members:
            state = p.mlnode_state(p.nodes[0]) or {}
            if state.get("state") == "INFERENCE" and state.get("model") == REAL_MODEL:
                serving.append(p.name)
        return [p.name for p in members], serving

    def wait_ready(self, timeout=600, interval=2.0):
        """Waits until an epoch has formed and the real-model node of every participant in the real model's
        group serves it, printing height, epoch and phase as they change. Returns the serving participants (a
        participant that missed the first PoC joins at the next one)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                h, epoch, phase, upcoming = self.progress()
                members, serving = self.real_model_serving()
            except (OSError, LocalnetError, KeyError) as exc:
                self.say(f"  waiting for the chain: {exc}")
                time.sleep(interval)
                continue
            line = f"  height {h:>5}  epoch {epoch}  phase {phase}"
            if upcoming is not None:
                line += f"  (PoC of epoch {upcoming} in progress)"
            elif epoch == 0:
                line += f"  (first PoC at height {FIRST_POC_HEIGHT})"
            if epoch >= 1:
                line += f"  serving {REAL_MODEL}: {', '.join(serving) or 'none yet'}"
            if line != last:
                self.say(line)
                last = line
            if members and serving == members:
                return serving
            time.sleep(interval)
        raise LocalnetError(f"the network did not become ready within {timeout} s; logs in {self.log_dir}")

    # --- what to print -------------------------------------------------------------------------------------
    def requester(self):
        """The participant whose dapi the printed commands use: the first that is not the genesis validator."""
        return self.participants[1]

    def openai_snippet(self):
        p = self.requester()
        py = python_with_openai()
        hint = "" if py else "# first: python3 -m pip install openai   (make setup installs it)\n"
        return (hint + f"{py or 'python3'} - <<'PY'\n"
                "from openai import OpenAI\n"
                f'client = OpenAI(base_url="{p.public_url}/v1", api_key="{p.api_key}")\n'
                "answer = client.chat.completions.create(\n"
                f'    model="{REAL_MODEL}",\n'
                '    messages=[{"role": "system", "content": "You are a helpful assistant."},\n'
                '              {"role": "user", "content": "What is the capital of France?"}],\n'
                "    max_tokens=64, temperature=0)\n"
                "print(answer.choices[0].message.content)\n"
                'print("id:", answer.id, "| tokens:", answer.usage.prompt_tokens, "+", answer.usage.completion_tokens,\n'
                '      "| cost:", answer.to_dict().get("cost"))\n'
                "PY")

    def curl_command(self):
        p = self.requester()
        body = json.dumps({"model": REAL_MODEL, "messages": [{"role": "user", "content": "Name three colours."}],
                           "max_tokens": 32})
        return (f"curl -s {p.public_url}/v1/chat/completions -H 'Authorization: Bearer {p.api_key}' "
                f"-H 'Content-Type: application/json' -d '{body}'")

    def instructions(self, elapsed_s):
        p = self.requester()
        lines = [
            "",
            f"The local network is ready ({elapsed_s:.0f} s). Ctrl-C stops it; `make run` again resumes it "
            f"(state in {self.dir}).",
            f"  chain:        {self.chain_url}  ({'solo node' if self.validators == 1 else f'{self.validators} CometBFT validators'}; "
            f"curl {self.chain_url}/inference/epoch)",
        ]
        for q in self.participants:
            lines.append(f"  participant {q.name:<9} dapi {q.public_url}  address {q.address}")
            lines.append(f"                         ML nodes (through nginx): {q.nodes[0]['id']} serves {REAL_MODEL} "
                         f"(llama.cpp), {q.nodes[1]['id']} serves {BUILTIN_MODEL} (builtin test model)")
        lines += [
            f"  status page:  {p.public_url}/   (every dapi serves one at /)",
            f"  logs:         {self.log_dir}/",
            "",
            f"Ask the real model through {p.name}'s dapi with the official openai client (paste into a shell):",
            self.openai_snippet(),
            "",
            "Or with curl:",
            self.curl_command(),
            "",
            "See the chain's record of an inference (executor, tokens, cost) and the requester's balance:",
            f"  curl -s {self.chain_url}/inference/inferences/<id printed above>",
            f"  curl -s {self.chain_url}/bank/balances/{p.address}",
            "",
        ]
        return "\n".join(lines)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args):
    # Ctrl-C (also when the shell started us with SIGINT ignored), SIGTERM and a closed terminal stop the network
    # cleanly; during the stop they are ignored, so that a second Ctrl-C does not cut it short.
    stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for sig in stop_signals:
        signal.signal(sig, _interrupt)
    try:
        net = Localnet(args.dir, args.build_dir, validators=args.validators, base_port=args.base_port,
                       rpc_port=args.rpc_port, chain_base_port=args.chain_base_port,
                       block_time_ms=args.block_time_ms, epoch_length=args.epoch_length)
    except LocalnetError as exc:
        print(f"localnet: {exc}", file=sys.stderr, flush=True)
        return 1
    t0 = time.monotonic()
    try:
        first = net.state is None
        net.start()
        net.say("waiting for the first epoch (the participants mine PoC, then load the models):" if first else
                "waiting for the ML nodes to serve the current epoch's models:")
        net.wait_ready(timeout=args.ready_timeout)
        net.say(net.instructions(time.monotonic() - t0))
        while True:
            net.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        for sig in stop_signals:
            signal.signal(sig, signal.SIG_IGN)
        net.say("\nstopping the local network ...")
        net.stop()
        net.say(f"stopped; `make run` resumes it (state in {net.dir})")
        return 0
    except LocalnetError as exc:
        for sig in stop_signals:
            signal.signal(sig, signal.SIG_IGN)
        print(f"localnet: {exc}", file=sys.stderr, flush=True)
        net.stop()
        return 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/localnet", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="start (or resume) the local network; Ctrl-C stops it")
    r.add_argument("--dir", default=os.path.join(ROOT, ".localnet"), help="state directory (default .localnet)")
    r.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    r.add_argument("--validators", type=int, default=1, help="1: solo chain node; N > 1: N CometBFT validators")
    r.add_argument("--base-port", type=int, default=9000, help="first port of the participants (20 each)")
    r.add_argument("--rpc-port", type=int, default=1317, help="RPC port of the solo chain node")
    r.add_argument("--chain-base-port", type=int, default=27000, help="first port of the CometBFT validators")
    r.add_argument("--block-time-ms", type=int, default=500)
    r.add_argument("--epoch-length", type=int, default=200, help="blocks per epoch (first PoC at height 40)")
    r.add_argument("--ready-timeout", type=float, default=600, help="seconds to wait for the first epoch")
    rs = sub.add_parser("reset", help="delete the state directory")
    rs.add_argument("--dir", default=os.path.join(ROOT, ".localnet"))
    args = ap.parse_args(argv)
    if args.cmd == "reset":
        shutil.rmtree(args.dir, ignore_errors=True)
        print(f"removed {args.dir}")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
