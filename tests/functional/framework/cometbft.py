"""A network of `inferenced` validators under real CometBFT on 127.0.0.1 (label `cometbft`).

The homes, genesis files and config are made by scripts/cometbft_localnet.py (the same code behind
`scripts/localnet cometbft create`), with free ports; each validator is an `inferenced start --abci` process
plus a `cometbft start` process, both managed as framework Processes (killed when the test ends).
"""
import json
import threading
import os
import sys
import urllib.parse

from .chain import ChainNode
from .http import get_json
from .process import Process, binary, free_port, wait_until

_SCRIPTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts"))
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)
import cometbft_localnet  # noqa: E402


def cometbft_binary():
    return cometbft_localnet.find_cometbft()


class Validator(ChainNode):
    """One validator: the CLI and RPC helpers of ChainNode plus the two processes and CometBFT's RPC."""

    def __init__(self, network, spec):
        super().__init__(network.workdir, name=spec["name"], chain_id=network.chain_id)
        self.network = network
        self.spec = spec
        self.home = spec["inferenced_home"]
        self.rpc_port = spec["ports"]["rpc"]
        self.url = f"http://127.0.0.1:{self.rpc_port}"
        self.comet_url = f"http://127.0.0.1:{spec['ports']['comet_rpc']}"
        self.app = None  # Process: inferenced
        self.comet_process = None  # Process: cometbft

    # --- processes -------------------------------------------------------------
    def start(self, procs=None, *extra):
        self.app = Process(f"{self.name}-inferenced",
                           cometbft_localnet.inferenced_args(binary("inferenced"), self.spec), self.workdir).start()
        self.process = self.app
        self.comet_process = Process(f"{self.name}-cometbft",
                                     cometbft_localnet.cometbft_args(cometbft_binary(), self.spec),
                                     self.workdir).start()
        if procs is not None:
            procs += [self.app, self.comet_process]
        wait_until(lambda: get_json(self.url + "/status", timeout=2)[0] == 200, timeout=30,
                   what=f"{self.name} RPC")
        return self

    def kill9(self):
        """kill -9 of the app and of its CometBFT, app first (CometBFT would stop anyway once its app is gone)."""
        self.app.kill9()
        self.comet_process.kill9()

    def stop(self):
        """Clean stop: CometBFT first (it closes its ABCI connections), then the app. Returns both exit codes."""
        return self.comet_process.stop(), self.app.stop()

    def alive(self):
        return self.app is not None and self.app.alive() and self.comet_process.alive()

    def dump_logs(self):
        for p in (self.app, self.comet_process):
            if p:
                p.dump_log()

    # --- CometBFT RPC ----------------------------------------------------------
    def comet(self, method, **params):
        """GET CometBFT's JSON-RPC `method`; returns the result object (raises on an error answer)."""
        def arg(v):  # URI form of CometBFT's RPC: strings quoted, numbers and 0x-hex bytes bare
            return json.dumps(v) if isinstance(v, str) and not v.startswith("0x") else v
        query = urllib.parse.urlencode({k: arg(v) for k, v in params.items()})
        status, body = get_json(f"{self.comet_url}/{method}" + (f"?{query}" if query else ""), timeout=10)
        if status != 200 or "result" not in body:
            raise RuntimeError(f"{self.name} CometBFT {method} -> {status}: {body}")
        return body["result"]

    def comet_height(self):
        return int(self.comet("status")["sync_info"]["latest_block_height"])

    def app_hash(self, h):
        """Our app hash after block h (from the node's block store)."""
        status, block = self.block(h)
        assert status == 200, (self.name, h, block)
        return block["app_hash"]


class Network:
    def __init__(self, workdir, validators, chain_id="test-chain", timeout_commit="200ms", log_level="info"):
        self.workdir = workdir
        self.chain_id = chain_id
        ports = [{"comet_rpc": free_port(), "p2p": free_port(), "abci": free_port(), "rpc": free_port()}
                 for _ in range(validators)]
        spec = cometbft_localnet.create_network(os.path.join(workdir, "net"), validators, binary("inferenced"),
                                                cometbft_binary(), ports, chain_id=chain_id,
                                                timeout_commit=timeout_commit, log_level=log_level)
        self.validators = [Validator(self, s) for s in spec["nodes"]]

    def __getitem__(self, i):
        return self.validators[i]

    def start(self, procs):
        for v in self.validators:
            v.start(procs)
        self.wait_height(2, timeout=60)
        return self

    def wait_height(self, h, nodes=None, timeout=120):
        for v in nodes or self.validators:
            v.wait_height(h, timeout=timeout)

    def wait_caught_up(self, timeout=120):
        """Every node reaches one block past the highest height any node has now, so each sees every tx
        that any node has already reported as included."""
        self.wait_height(max(self.heights()) + 1, timeout=timeout)

    def heights(self, nodes=None):
        return [v.height() for v in nodes or self.validators]

    def assert_same_app_hashes(self, upto, nodes=None):
        """Every node has the same app hash at every height 1..upto, and it is the AppHash CometBFT put in the
        next block's header. Returns the number of heights compared."""
        nodes = nodes or self.validators
        for h in range(1, upto + 1):
            hashes = {v.name: v.app_hash(h) for v in nodes}
            assert len(set(hashes.values())) == 1, f"app hashes differ at height {h}: {hashes}"
        return upto

    def assert_headers_carry_app_hashes(self, heights, node=None):
        node = node or self.validators[0]
        for h in heights:
            header = node.comet("block", height=h + 1)["block"]["header"]
            assert header["app_hash"] == node.app_hash(h), f"header {h + 1} app_hash != our app hash after {h}"


class Traffic:
    """Background bank sends, one thread per validator: 1nicoin at a time from the validator's own key through
    its own RPC, each waiting for inclusion. Use as a context manager; `sent` counts successes per node."""

    def __init__(self, validators, recipients):
        self.stop_event = threading.Event()
        self.sent = {v.name: 0 for v in validators}
        self.errors = []
        self.threads = [threading.Thread(target=self._loop, args=(v, to), daemon=True)
                        for v, to in zip(validators, recipients)]

    def _loop(self, v, to):
        while not self.stop_event.is_set():
            code, out, err = v.send("validator", to, "1nicoin", check=False)
            if code == 0:
                self.sent[v.name] += 1
            elif not self.stop_event.is_set():
                self.errors.append(f"{v.name}: {err}{out}")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(120)
        return False
