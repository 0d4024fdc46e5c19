#!/usr/bin/env python3
"""An N-validator CometBFT network of `inferenced` nodes on this machine.

    scripts/localnet cometbft create --validators 4 [--dir .localnet/cometbft] [--base-port 27000]
    scripts/localnet cometbft start|stop|status [--dir ...]

Layout of --dir:
    network.json                    ports, homes and node ids of every node
    nodeI/inferenced/               `inferenced` home (genesis.json shared by all nodes, keyring with "validator")
    nodeI/cometbft/                 CometBFT home (priv_validator_key.json = the node's validator key)
    nodeI/inferenced.log, nodeI/cometbft.log, nodeI/*.pid   written by `start`

How the two genesis files agree: every node runs `inferenced init`, which makes an account key and an ed25519
consensus key; one genesis is then built with all N validators (power 100 each, operator = the node's
"validator" account, which is funded) and written to every node. CometBFT's genesis.json carries the same
chain id, time and validators, and `app_state` is the app_state of our genesis; each node's
priv_validator_key.json is its consensus key, so the keys CometBFT signs with are the keys in our genesis.

The same functions are used by the functional tests (tests/functional/framework/cometbft.py).
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def find_cometbft():
    for cand in (shutil.which("cometbft"), os.path.expanduser("~/go/bin/cometbft"), "/root/go/bin/cometbft"):
        if cand and os.access(cand, os.X_OK):
            return cand
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("go") else ""
    cand = os.path.join(gopath, "bin", "cometbft") if gopath else ""
    if cand and os.access(cand, os.X_OK):
        return cand
    raise FileNotFoundError("cometbft not found (PATH, ~/go/bin); install it with: make setup")


def _run(args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}{r.stdout}")
    return r.stdout


def _rfc3339(unix_ms):
    t = datetime.datetime.fromtimestamp(unix_ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{unix_ms % 1000:03d}000000Z"


def set_toml(path, settings):
    """Sets `key = value` lines in CometBFT's config.toml; settings maps "section.key" (or "key" for the top
    level) to a Python value. Every key must already exist in the file, so a typo fails loudly."""
    lines = open(path).read().split("\n")
    section = ""
    seen = set()
    for i, line in enumerate(lines):
        m = re.match(r"^\[([^\]]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([A-Za-z0-9_\-]+)\s*=", line)
        if not m:
            continue
        full = f"{section}.{m.group(1)}" if section else m.group(1)
        if full in settings:
            v = settings[full]
            text = ("true" if v else "false") if isinstance(v, bool) else (str(v) if isinstance(v, int) else json.dumps(v))
            lines[i] = f"{m.group(1)} = {text}"
            seen.add(full)
    missing = set(settings) - seen
    if missing:
        raise KeyError(f"{path}: no such keys: {sorted(missing)}")
    open(path, "w").write("\n".join(lines))


def default_ports(n, base_port):
    return [{"comet_rpc": base_port + 10 * i, "p2p": base_port + 10 * i + 1, "abci": base_port + 10 * i + 2,
             "rpc": base_port + 10 * i + 3} for i in range(n)]


def create_network(directory, n, inferenced, cometbft, ports, chain_id="inference-localnet",
                   timeout_commit="300ms", power=100, log_level="info", funds="1000000000000000nicoin",
                   extra_balances=()):
    """Creates homes for n validators under `directory` and returns the network description.
    extra_balances: more genesis balances, each {"address": ..., "coins": [{"denom": ..., "amount": ...}]}."""
    if os.path.exists(os.path.join(directory, "network.json")):
        raise FileExistsError(f"{directory} already holds a network; remove it first")
    os.makedirs(directory, exist_ok=True)
    nodes = []
    for i in range(n):
        name = f"node{i}"
        inf_home = os.path.join(directory, name, "inferenced")
        cmt_home = os.path.join(directory, name, "cometbft")
        _run([inferenced, "init", "--home", inf_home, "--chain-id", chain_id, "--preset", "localnet",
              "--validator-funds", funds, "--validator-power", power])
        _run([cometbft, "init", "--home", cmt_home])
        node_id = _run([cometbft, "show-node-id", "--home", cmt_home]).strip()
        nodes.append({"name": name, "inferenced_home": inf_home, "cometbft_home": cmt_home, "node_id": node_id,
                      "ports": ports[i]})

    # One genesis with every node's validator and funded operator account.
    genesis = json.load(open(os.path.join(nodes[0]["inferenced_home"], "config", "genesis.json")))
    validators, balances = [], []
    for node in nodes:
        g = json.load(open(os.path.join(node["inferenced_home"], "config", "genesis.json")))
        v = dict(g["validators"][0], name=node["name"])
        validators.append(v)
        balances += g["app_state"]["bank"]["balances"]
        key = json.load(open(os.path.join(node["inferenced_home"], "config", "validator_key.json")))
        assert key["pub_key"] == v["pub_key"], "validator_key.json does not match genesis"
        node["operator_address"] = v["operator_address"]
        node["consensus_pub_key"] = v["pub_key"]
        node["consensus_address"] = hashlib.sha256(base64.b64decode(v["pub_key"])).hexdigest()[:40].upper()
        # CometBFT signs with the same ed25519 key (its 64-byte private value is seed || public key).
        priv = {"address": node["consensus_address"],
                "pub_key": {"type": "tendermint/PubKeyEd25519", "value": key["pub_key"]},
                "priv_key": {"type": "tendermint/PrivKeyEd25519", "value": key["priv_key"]}}
        path = os.path.join(node["cometbft_home"], "config", "priv_validator_key.json")
        with open(path, "w") as f:
            json.dump(priv, f, indent=2)
        os.chmod(path, 0o600)
    genesis["validators"] = validators
    genesis["app_state"]["bank"]["balances"] = balances + list(extra_balances)

    comet_genesis = json.load(open(os.path.join(nodes[0]["cometbft_home"], "config", "genesis.json")))
    comet_genesis.update({
        "genesis_time": _rfc3339(genesis["genesis_time_unix_ms"]),
        "chain_id": chain_id,
        "initial_height": "1",
        "validators": [{"address": node["consensus_address"],
                        "pub_key": {"type": "tendermint/PubKeyEd25519", "value": v["pub_key"]},
                        "power": str(v["power"]), "name": v["name"]} for node, v in zip(nodes, validators)],
        "app_hash": "",
        "app_state": genesis["app_state"],
    })
    peers = [f"{node['node_id']}@127.0.0.1:{node['ports']['p2p']}" for node in nodes]
    for i, node in enumerate(nodes):
        with open(os.path.join(node["inferenced_home"], "config", "genesis.json"), "w") as f:
            json.dump(genesis, f, indent=2)
        with open(os.path.join(node["cometbft_home"], "config", "genesis.json"), "w") as f:
            json.dump(comet_genesis, f, indent=2)
        p = node["ports"]
        set_toml(os.path.join(node["cometbft_home"], "config", "config.toml"), {
            "moniker": node["name"],
            "proxy_app": f"tcp://127.0.0.1:{p['abci']}",
            "log_level": log_level,
            "rpc.laddr": f"tcp://127.0.0.1:{p['comet_rpc']}",
            "rpc.max_body_bytes": 4000000,
            "p2p.laddr": f"tcp://127.0.0.1:{p['p2p']}",
            "p2p.persistent_peers": ",".join(peer for j, peer in enumerate(peers) if j != i),
            "p2p.addr_book_strict": False,
            "p2p.allow_duplicate_ip": True,
            "consensus.timeout_commit": timeout_commit,
            "consensus.timeout_propose": "2s",
            "consensus.create_empty_blocks": True,
        })
    network = {"chain_id": chain_id, "nodes": nodes}
    with open(os.path.join(directory, "network.json"), "w") as f:
        json.dump(network, f, indent=2)
    return network


def load_network(directory):
    path = os.path.join(directory, "network.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no network in {directory}; create one with: scripts/localnet cometbft create")
    return json.load(open(path))


def inferenced_args(inferenced, node, log_level="info"):
    p = node["ports"]
    return [inferenced, "start", "--home", node["inferenced_home"], "--rpc-addr", f"127.0.0.1:{p['rpc']}",
            "--abci", f"tcp://127.0.0.1:{p['abci']}", "--comet-rpc", f"http://127.0.0.1:{p['comet_rpc']}",
            "--log-level", log_level]


def cometbft_args(cometbft, node):
    return [cometbft, "start", "--home", node["cometbft_home"]]


# --- command line -------------------------------------------------------------------------------------------

def _pidfile(directory, node, what):
    return os.path.join(directory, node["name"], f"{what}.pid")


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _read_pid(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def cmd_start(directory, inferenced, cometbft):
    network = load_network(directory)
    for node in network["nodes"]:
        for what, args in (("inferenced", inferenced_args(inferenced, node)), ("cometbft", cometbft_args(cometbft, node))):
            pid = _read_pid(_pidfile(directory, node, what))
            if pid and _alive(pid):
                print(f"{node['name']} {what} already running (pid {pid})")
                continue
            log = open(os.path.join(directory, node["name"], f"{what}.log"), "ab")
            proc = subprocess.Popen([str(a) for a in args], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            open(_pidfile(directory, node, what), "w").write(str(proc.pid))
    print(f"started {len(network['nodes'])} validators of chain {network['chain_id']}:")
    cmd_status(directory)


def cmd_stop(directory):
    network = load_network(directory)
    pids = []
    for node in network["nodes"]:
        for what in ("cometbft", "inferenced"):  # CometBFT first: it stops cleanly; then the app
            pid = _read_pid(_pidfile(directory, node, what))
            if pid and _alive(pid):
                os.kill(pid, signal.SIGTERM)
                pids.append((node["name"], what, pid))
    deadline = time.monotonic() + 20
    for name, what, pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            print(f"{name} {what} (pid {pid}) did not stop in time; killing it")
            os.kill(pid, signal.SIGKILL)
    for node in network["nodes"]:
        for what in ("cometbft", "inferenced"):
            try:
                os.remove(_pidfile(directory, node, what))
            except FileNotFoundError:
                pass
    print(f"stopped {len(pids)} processes")


def cmd_status(directory):
    import urllib.request
    network = load_network(directory)
    for node in network["nodes"]:
        p = node["ports"]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{p['rpc']}/status", timeout=2) as r:
                s = json.loads(r.read())
            state = f"height {s['height']} app_hash {s['app_hash'][:16]}..."
        except Exception as exc:  # not running or starting
            state = f"not answering ({exc.__class__.__name__})"
        print(f"  {node['name']}: RPC http://127.0.0.1:{p['rpc']}  CometBFT RPC http://127.0.0.1:{p['comet_rpc']}"
              f"  {state}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["create", "start", "stop", "status"])
    ap.add_argument("--dir", default=os.path.join(ROOT, ".localnet", "cometbft"))
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--validators", type=int, default=4)
    ap.add_argument("--base-port", type=int, default=27000)
    ap.add_argument("--chain-id", default="inference-localnet")
    ap.add_argument("--timeout-commit", default="300ms")
    a = ap.parse_args()
    inferenced = os.path.join(os.path.abspath(a.build_dir), "bin", "inferenced")
    if a.command in ("create", "start") and not os.access(inferenced, os.X_OK):
        sys.exit(f"inferenced is not built in {a.build_dir}; run: make build")
    if a.command == "create":
        net = create_network(a.dir, a.validators, inferenced, find_cometbft(),
                             default_ports(a.validators, a.base_port), a.chain_id, a.timeout_commit)
        print(f"created {len(net['nodes'])} validators in {a.dir}; start them with: scripts/localnet cometbft start")
    elif a.command == "start":
        cmd_start(a.dir, inferenced, find_cometbft())
    elif a.command == "stop":
        cmd_stop(a.dir)
    else:
        cmd_status(a.dir)


if __name__ == "__main__":
    main()
