"""Starting and driving `inferenced` the way an operator would: its CLI and its HTTP RPC."""
import json
import os
import subprocess

from .http import get_json
from .process import Process, binary, free_port, wait_until


class ChainNode:
    def __init__(self, workdir, name="node0", chain_id="test-chain", block_time_ms=100):
        self.name = name
        self.home = os.path.join(workdir, name)
        self.workdir = workdir
        self.chain_id = chain_id
        self.block_time_ms = block_time_ms
        self.rpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.rpc_port}"
        self.process = None

    # --- CLI -----------------------------------------------------------------
    def cli(self, *args, check=True, stdin=None, timeout=60):
        """Runs `inferenced ARGS`; returns (exit code, stdout, stderr); raises on failure when check."""
        cmd = [binary("inferenced"), *map(str, args)]
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}{r.stdout}")
        return r.returncode, r.stdout, r.stderr

    def cli_json(self, *args, **kw):
        code, out, err = self.cli(*args, **kw)
        return json.loads(out)

    def client_flags(self):
        return ["--home", self.home, "--node", self.url]

    def init(self, *extra):
        self.cli("init", "--home", self.home, "--chain-id", self.chain_id, *extra)
        return self

    def address(self, key):
        return self.cli("keys", "show", key, "-a", "--home", self.home)[1].strip()

    def add_key(self, name):
        return self.cli_json("keys", "add", name, "--home", self.home)["address"]

    def send(self, frm, to, amount, *extra, check=True):
        return self.cli("tx", "bank", "send", frm, to, amount, *self.client_flags(), *extra, check=check)

    def balance(self, who, denom="nicoin"):
        return int(self.cli_json("query", "bank", "balance", who, "--denom", denom, *self.client_flags())["amount"])

    # --- process -------------------------------------------------------------
    def start(self, procs=None, *extra):
        self.process = Process(self.name, [binary("inferenced"), "start", "--home", self.home, "--rpc-addr",
                                           f"127.0.0.1:{self.rpc_port}", "--block-time-ms", self.block_time_ms, *extra],
                               self.workdir).start()
        if procs is not None:
            procs.append(self.process)
        wait_until(lambda: self.height() >= 1, timeout=30, what=f"{self.name} to produce its first block")
        return self

    def status(self):
        status, body = get_json(self.url + "/status", timeout=5)
        assert status == 200, body
        return body

    def height(self):
        return self.status()["height"]

    def wait_height(self, h, timeout=60):
        return wait_until(lambda: self.height() >= h, timeout=timeout, what=f"{self.name} height {h}")

    def block(self, h):
        return get_json(f"{self.url}/blocks/{h}")

    # --- transactions and queries as a test reads them ---------------------------
    def tx(self, *args, check=True):
        """Runs `inferenced tx ARGS` against this node; returns (exit code, printed tx result or None, stderr)."""
        code, out, err = self.cli("tx", *args, *self.client_flags(), check=False)
        result = json.loads(out) if out.strip().startswith("{") else None
        if check:
            assert code == 0, (args, out, err)
        return code, result, err

    def query(self, path, expect=200):
        """GET `path` on this node's RPC; asserts the HTTP status is `expect` and returns the body."""
        status, body = get_json(self.url + path)
        assert status == expect, (path, status, body)
        return body


def event_value(result, event_type, key):
    """The value of attribute `key` of the first `event_type` event of a tx result."""
    for e in result["events"]:
        if e["type"] == event_type:
            for a in e["attributes"]:
                if a["key"] == key:
                    return a["value"]
    raise AssertionError(f"no {event_type}.{key} in {result}")


def write_json(workdir, name, obj):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def wait_final(node, pid):
    """Waits until governance proposal `pid` has left its voting period; returns the proposal."""
    def done():
        p = node.query(f"/gov/proposals/{pid}")["proposal"]
        return p if p["status"] != "PROPOSAL_STATUS_VOTING_PERIOD" else None
    return wait_until(done, timeout=60, what=f"the tally of proposal {pid}")
