#!/usr/bin/env python3
"""Transactions per second through a 1-validator CometBFT network vs solo mode, same machine, same client.

Both runs: the same pre-signed bank sends (abci_txgen, built into <build>/bin; 100 accounts, sequences in order), posted to
the node's HTTP RPC (POST /txs) by 8 client threads, each owning some accounts and posting their txs in sequence
order; the clock stops when the last tx is in a committed block. Solo: the embedded producer, one block every
200 ms. CometBFT: `inferenced start --abci` + `cometbft start`, timeout_commit 200 ms; POST /txs goes through
broadcast_tx_sync -> CheckTx over ABCI, and blocks through PrepareProposal/ProcessProposal/FinalizeBlock/Commit.
Prints both rates and the ratio CometBFT/solo; asserts nothing.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import cometbft_localnet  # noqa: E402

ACCOUNTS = int(os.environ.get("ABCI_BENCH_ACCOUNTS", "100"))
TXS_PER_ACCOUNT = int(os.environ.get("ABCI_BENCH_TXS_PER_ACCOUNT", "40"))
CLIENT_THREADS = 8
BLOCK_TIME = "200ms"
CHAIN_ID = "bench-chain"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def run_load(url, txs):
    """Posts every account's txs in order from CLIENT_THREADS threads; returns (tx/s, failures)."""
    start_height = http("GET", url + "/status")[1]["height"]
    total = sum(len(t) for t in txs)
    failures = []

    def worker(accounts):
        for i in accounts:
            for tx in txs[i]:
                status, body = http("POST", url + "/txs", {"tx": tx})
                if status != 200 or body.get("code") != 0:
                    failures.append(body)

    threads = [threading.Thread(target=worker, args=(range(k, len(txs), CLIENT_THREADS),))
               for k in range(CLIENT_THREADS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    included, h = 0, start_height
    while included < total - len(failures):
        status, block = http("GET", f"{url}/blocks/{h + 1}")
        if status == 200:
            h += 1
            included += sum(1 for t in block["txs"] if t["code"] == 0)
        else:
            time.sleep(0.02)
        if time.monotonic() - t0 > 600:
            raise TimeoutError(f"only {included} of {total} txs included after 600 s")
    elapsed = time.monotonic() - t0
    for t in threads:
        t.join()
    return included / elapsed, failures, h - start_height


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    build = os.path.abspath(os.environ.get("INFERENCE_BUILD_DIR", os.path.join(ROOT, "build", "release")))
    inferenced = os.path.join(build, "bin", "inferenced")
    txgen = os.path.join(build, "bin", "abci_txgen")
    for b in (inferenced, txgen):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} is not built; run: make build")
    try:
        cometbft = cometbft_localnet.find_cometbft()
    except FileNotFoundError as e:
        sys.exit(str(e))
    gen = json.loads(subprocess.run([txgen, CHAIN_ID, str(ACCOUNTS), str(TXS_PER_ACCOUNT)], capture_output=True,
                                    text=True, check=True).stdout)
    balances = [{"address": a, "coins": [{"denom": "nicoin", "amount": "1000000000"}]} for a in gen["addresses"]]
    total = ACCOUNTS * TXS_PER_ACCOUNT
    work = tempfile.mkdtemp(prefix="abci-bench-")
    results = {}
    try:
        # --- solo --------------------------------------------------------------------------------------------
        home = os.path.join(work, "solo")
        subprocess.run([inferenced, "init", "--home", home, "--chain-id", CHAIN_ID], check=True, capture_output=True)
        gpath = os.path.join(home, "config", "genesis.json")
        g = json.load(open(gpath))
        g["app_state"]["bank"]["balances"] += balances
        json.dump(g, open(gpath, "w"))
        port = free_port()
        log = open(os.path.join(work, "solo.log"), "wb")
        solo = subprocess.Popen([inferenced, "start", "--home", home, "--rpc-addr", f"127.0.0.1:{port}",
                                 "--block-time-ms", BLOCK_TIME.rstrip("ms"), "--log-level", "warn"],
                                stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait(lambda: http("GET", url + "/status")[1]["height"] >= 1, 30, "the solo node")
            results["solo"] = run_load(url, gen["txs"])
        finally:
            stop([solo])

        # --- CometBFT, 1 validator -------------------------------------------------------------------------------
        ports = [{"comet_rpc": free_port(), "p2p": free_port(), "abci": free_port(), "rpc": free_port()}]
        net = cometbft_localnet.create_network(os.path.join(work, "comet"), 1, inferenced, cometbft, ports,
                                               chain_id=CHAIN_ID, timeout_commit=BLOCK_TIME, log_level="error",
                                               extra_balances=balances)
        node = net["nodes"][0]
        procs = [subprocess.Popen(cometbft_localnet.inferenced_args(inferenced, node, "warn"),
                                  stdout=open(os.path.join(work, "comet-inferenced.log"), "wb"),
                                  stderr=subprocess.STDOUT),
                 subprocess.Popen(cometbft_localnet.cometbft_args(cometbft, node),
                                  stdout=open(os.path.join(work, "comet-cometbft.log"), "wb"),
                                  stderr=subprocess.STDOUT)]
        url = f"http://127.0.0.1:{node['ports']['rpc']}"
        try:
            wait(lambda: http("GET", url + "/status")[1]["height"] >= 2, 60, "the CometBFT node")
            results["cometbft"] = run_load(url, gen["txs"])
        finally:
            stop(procs[1:])
            stop(procs[:1])
    except Exception:
        print(f"benchmark failed; logs kept in {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)

    for mode, (tps, failures, blocks) in results.items():
        print(f"{mode:9s} {tps:8.1f} tx/s  ({total} bank sends in {blocks} blocks, {len(failures)} refused"
              + (f", first: {failures[0]}" if failures else "") + ")")
    print(f"ratio cometbft/solo: {results['cometbft'][0] / results['solo'][0]:.2f} "
          f"(block time {BLOCK_TIME} in both; {CLIENT_THREADS} client threads; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
