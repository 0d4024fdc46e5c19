"""Starting and driving `dapi` (the API node) the way an operator does: `dapi init`, a config.yaml, `dapi start`,
its admin API and /metrics. A participant = a funded key + its dapi + its MLNodes (framework.mlnode.MlNode)."""
import json
import os
import re
import subprocess

from .chain import ChainNode
from .http import get_json, http_request
from .mlnode import MlNode
from .process import Process, binary, free_port, wait_until


def node_entry(node_id, mlnode, models, max_concurrent=8, hardware=None):
    """A config/admin node entry for a running MlNode (framework.mlnode) serving `models` (ids, declared order)."""
    return {"id": node_id, "host": "127.0.0.1", "inference_port": mlnode.inference_port, "poc_port": mlnode.poc_port,
            "models": {m: {"args": []} for m in models}, "max_concurrent": max_concurrent,
            "hardware": hardware or [{"type": "CPU", "count": 1}]}


class Dapi:
    """One dapi process with its own home under workdir, listening on free ports."""

    def __init__(self, procs, workdir, chain, key, name=None, chain_keys=False):
        """chain_keys: sign with `key` of the chain node's own keyring and its validator key (the genesis
        validator's participant) instead of keys made by `dapi init`."""
        self.name = name or f"dapi-{key}"
        self.home = os.path.join(workdir, self.name)
        self.chain = chain
        self.key = key
        self.procs = procs
        self.public_port = free_port()
        self.admin_port = free_port()
        self.callback_port = free_port()
        self.public_url = f"http://127.0.0.1:{self.public_port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        self.callback_url = f"http://127.0.0.1:{self.callback_port}"
        self.process = Process(self.name, [binary("dapi"), "start", "--home", self.home], workdir)
        procs.append(self.process)
        self.address = None
        self.token = None
        self.settings = {}
        self.key_settings = {"name": key}
        if chain_keys:
            self.key_settings.update(keyring_file=os.path.join(chain.home, "keyring", "keys.json"),
                                     validator_key_file=os.path.join(chain.home, "config", "validator_key.json"))

    # --- home ----------------------------------------------------------------
    def init(self):
        r = subprocess.run([binary("dapi"), "init", "--home", self.home, "--chain-node", self.chain.url, "--key",
                            self.key, "--public-url", self.public_url],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr + r.stdout
        out = json.loads(r.stdout)
        self.address = out["address"] if "keyring_file" not in self.key_settings else self.chain.address(self.key)
        with open(out["config"]) as f:
            self.token = re.search(r"^  token: (\S+)", f.read(), re.M).group(1)
        return self

    def configure(self, nodes=(), **extra):
        """Writes config.yaml (as JSON, which is YAML) with free ports, fast timings and `nodes`."""
        self.settings = {
            "chain_node": {"url": self.chain.url},
            "key": dict(self.key_settings),
            "public_url": self.public_url,
            "servers": {"public": f"127.0.0.1:{self.public_port}", "admin": f"127.0.0.1:{self.admin_port}",
                        "mlnode_callback": f"127.0.0.1:{self.callback_port}"},
            "admin": {"token": self.token},
            "log_level": "debug",
            "timing": {"reconcile_interval_ms": 1000, "hardware_sync_interval_ms": 500, "chain_retry_ms": 200},
            # Validation windows of localnet epochs are a few blocks: a small sample keeps the MLNodes' recomputation
            # within them on a loaded test machine.
            "poc": {"validation_sample_size": 48},
            # Every participant of a test runs on 127.0.0.1, which calls to participant URLs refuse by default.
            "inference": {"allowed_networks": ["127.0.0.0/8"]},
            "nodes": list(nodes),
        }
        self.settings.update(extra)
        self.write_config(self.settings)
        return self

    def write_config(self, settings):
        with open(os.path.join(self.home, "config.yaml"), "w") as f:
            json.dump(settings, f, indent=1)

    # --- process ---------------------------------------------------------------
    def start(self):
        self.process.start()
        wait_until(lambda: self.health(), timeout=60, what=f"{self.name} to serve /health")
        return self

    def stop(self):
        return self.process.stop()

    def kill9(self):
        self.process.kill9()

    def health(self):
        if not self.process.alive():
            raise AssertionError(f"{self.name} exited:\n" + self.process.log()[-3000:])
        return http_request("GET", self.public_url + "/health", timeout=2)[0] == 200

    def run_start(self, timeout=30):
        """Runs `dapi start` in the foreground (for start-up failures); returns (exit code, output)."""
        r = subprocess.run([binary("dapi"), "start", "--home", self.home], capture_output=True, text=True,
                           timeout=timeout)
        return r.returncode, r.stdout + r.stderr

    # --- admin API and metrics -------------------------------------------------
    def admin(self, method, path, body=None, token=None):
        """(status, parsed JSON or text) of an admin call with the admin token (or `token`)."""
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        status, text = http_request(method, self.admin_url + path, body=body, headers=headers, timeout=10)
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    def nodes(self):
        status, body = self.admin("GET", "/admin/v1/nodes")
        assert status == 200, body
        return {n["node"]["id"]: n for n in body["nodes"]}

    def metrics(self):
        status, text = http_request("GET", self.public_url + "/metrics", timeout=5)
        assert status == 200, text
        return text

    def metric(self, name, **labels):
        """The value of one series (0 when absent)."""
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        pattern = "^" + re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" (\S+)$"
        m = re.search(pattern, self.metrics(), re.M)
        return float(m.group(1)) if m else 0.0

    def metric_sum(self, name, **labels):
        """The sum of every series of `name` whose labels include `labels` (0 when none), e.g. all result codes of
        dapi_tx_failures_total{kind="poc_batch",code="..."}."""
        total = 0.0
        for m in re.finditer("^" + re.escape(name) + r"(?:\{(.*)\})? (\S+)$", self.metrics(), re.M):
            have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
            if all(have.get(k) == str(v) for k, v in labels.items()):
                total += float(m.group(2))
        return total


class Participant:
    """A funded key on `chain` with its dapi and `n_mlnodes` builtin-backend MLNodes at the chain's MLNode version."""

    def __init__(self, procs, workdir, chain, key, version, n_mlnodes=2, mlnode_args=(), funds="10000000nicoin",
                 chain_keys=False, name=None):
        """`version`: the chain's MLNode version (the MLNodes serve it under /<version>/...). With chain_keys the
        participant is the chain node's key `key` (e.g. the genesis validator) and is not funded again. `name`
        (default: the key) names its processes, homes and node ids."""
        self.key = key
        self.name = name or key
        self.chain = chain
        self.mlnodes = [MlNode(procs, workdir, version, list(mlnode_args), name=f"mlnode-{self.name}-{i}")
                        for i in range(n_mlnodes)]
        self.dapi = Dapi(procs, workdir, chain, key, name=f"dapi-{self.name}", chain_keys=chain_keys).init()
        self.funds = None if chain_keys else funds
        self.node_ids = [f"{self.name}-node-{i}" for i in range(n_mlnodes)]

    @property
    def address(self):
        return self.dapi.address

    def start_mlnodes(self):
        for m in self.mlnodes:
            m.start()
        return self

    def fund(self):
        """Sends the participant its funds from the genesis validator (not for chain_keys participants). Fund every
        participant before starting the dapi of the validator's participant: both sign with the validator key."""
        if self.funds:
            self.chain.send("validator", self.address, self.funds)
        return self

    def start(self, models, **config):
        """Starts the dapi with one node entry per MLNode serving `models` (fund() and start_mlnodes() first)."""
        nodes = [node_entry(nid, m, models) for nid, m in zip(self.node_ids, self.mlnodes)]
        self.dapi.configure(nodes, **config).start()
        return self


POC_MLNODE_ARGS = ("--threads", "1", "--poc-send-interval-ms", "300")


def start_network(procs, workdir, keys, models, block_ms=400, n_mlnodes=2, mlnode_args=POC_MLNODE_ARGS):
    """A solo chain with localnet epochs (30 blocks) whose first PoC starts at 30, and one participant per key, each
    a dapi with `n_mlnodes` builtin MLNodes serving `models`. The key "validator" is the genesis validator's own
    participant (it holds epoch 0's weight, so it validates the first PoC). Returns (chain node, participants)."""
    node = ChainNode(workdir, block_time_ms=block_ms).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    genesis["app_state"]["epochs"]["params"]["epoch_shift"] = 0  # first PoC at 30: everyone is up by then
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    parts = [Participant(procs, workdir, node, key, version, n_mlnodes=n_mlnodes, mlnode_args=mlnode_args,
                         chain_keys=(key == "validator")) for key in keys]
    for p in parts:
        p.fund().start_mlnodes()
    for p in parts:
        p.start(list(models))
    assert node.height() < 25, f"setup took until height {node.height()}; the first PoC starts at 30"
    return node, parts


def mlnode_state(mlnode):
    """GET /api/v1/state of an MlNode, or None when it does not answer."""
    try:
        status, body = get_json(mlnode.poc_url + "/api/v1/state", timeout=5)
    except OSError:
        return None
    return body if status == 200 else None


def validate_first_poc(node, participants, after=2, timeout=60):
    """Waits for the first PoC, has the genesis validator (epoch 0's only weight) submit a valid PoC validation of
    each participant's dapi at its validation start, and waits until `after` blocks past the epoch switch.
    Returns the /inference/epoch answer seen during that PoC (its upcoming_epoch_index is the new epoch)."""
    e = wait_until(lambda: (lambda x: x if x["upcoming_epoch_index"] is not None else None)(
        node.query("/inference/epoch")), timeout=timeout, what="the first PoC")
    s = e["stages"]
    node.wait_height(s["validation_start"])
    for who in participants:
        node.tx("inference", "submit-poc-validation", who.address, "--from", "validator")
    node.wait_height(s["set_new_validators"] + after)
    return e


def epoch_group(node, epoch, model=None):
    """The group of `epoch` (parent, or the sub-group of `model`), or None before it exists."""
    status, body = get_json(f"{node.url}/inference/epoch-groups/{epoch}" + (f"/{model}" if model else ""))
    return body["epoch_group"] if status == 200 else None


def formed_group(node, epoch):
    g = epoch_group(node, epoch)
    return g if g and g["sub_group_models"] else None


def check_epoch_group(node, parts, epoch, model, slot_nodes=()):
    """Waits for the group of `epoch`, then checks: every participant has weight > 0; each of its nodes has its
    MLNodeInfo in `model`'s sub-group; a node that mined has poc_weight = the distinct nonces of its batches on chain
    (= the chain's node_weight) > 0; a node in `slot_nodes` (POC_SLOT during this PoC) mined nothing and kept a
    poc_weight > 0. Returns the parent group."""
    parent = wait_until(lambda: formed_group(node, epoch), timeout=90, interval=0.2, what=f"epoch {epoch}'s group")
    weights = {m["member_address"]: m for m in parent["validation_weights"]}
    sub = epoch_group(node, epoch, model)
    assert sub["model_snapshot"]["id"] == model, sub
    infos = {(m["member_address"], n["node_id"]): n for m in sub["validation_weights"] for n in m["ml_nodes"]}
    for p in parts:
        member = weights.get(p.address)
        assert member and member["weight"] > 0, (epoch, p.name, parent, node.query(f"/inference/poc-validations/{epoch}"),
                                                 [(b["participant"], b["node_id"], len(b["nonces"])) for b in
                                                  node.query(f"/inference/poc-batches/{epoch}")["batches"]])
        total = 0
        for nid in p.node_ids:
            info = infos.get((p.address, nid))
            assert info is not None, f"no MLNodeInfo of {nid} in epoch {epoch}: {sub}"
            assert len(info["timeslot_allocation"]) == 2 and info["throughput"] >= 0
            body = node.query(f"/inference/poc-batches/{epoch}/{p.address}/{nid}")
            distinct = len({n for b in body["batches"] for n in b["nonces"]})
            if nid in slot_nodes:
                assert distinct == 0 and info["poc_weight"] > 0, (epoch, nid, info, distinct)
                continue
            assert info["poc_weight"] == distinct == body["node_weight"] > 0, (epoch, nid, info, distinct, body["node_weight"])
            total += info["poc_weight"]
        assert member["weight"] >= total, (member, total)
    return parent
