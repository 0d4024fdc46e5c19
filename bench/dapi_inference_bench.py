#!/usr/bin/env python3
"""Chat completions through the network vs straight to the ML node, in one run (issue 12, must-show 6).

One solo chain (blocks every --block-ms) with two participants on the builtin mlnode backend: alice (1 MLNode) and
bob (2 MLNodes) each run a dapi; both mine the first PoC and the genesis validator validates them, so both serve the
model in epoch 1 (epochs are long: no second PoC during the run). Then, with the same fixed prompt, small max_tokens,
non-streaming (--stream: streamed), N concurrent clients (one process and one keep-alive connection each), after a
warm-up:
  (b) direct   POST to bob's first MLNode;
  (c) nginx    the same MLNode behind nginx (deploy/nginx/mlnode-proxy.conf.template, as operators deploy it);
               (b) and (c) alternate in 5 slices, so that a change in the machine's load hits both;
  (a) network  POST to alice's dapi (transfer agent, API key; alice pays). The chain's executor query picks bob
               (about 2/3 of the requests: his dapi is reached with signed headers and runs them on his MLNodes)
               or alice (her dapi runs them on her MLNode). Each answer's chain record says which: the table shows
               both groups, "TA -> executor -> mlnode" (bob) and "TA = executor -> mlnode" (alice).
Prints requests/s and p50/p99 latency of each, the overhead per hop in ms (differences of p50 and of p99), and
the inferences recorded on chain per second: MsgFinishInference records counted with the chain's
/inference/inference-counts query over the blocks of the measured interval (block timestamps give the seconds).
Asserts nothing about speed; run() returns the numbers (tests/functional/bench_dapi_inference_quick.py checks that
every request of --quick succeeded).

Usage: python3 bench/dapi_inference_bench.py [--build-dir build/release] [--seconds 10 | --requests N] [--quick]
       [--block-ms 200] [--concurrency 8] [--max-tokens 16] [--stream]   (about 1 minute with the defaults; run_all.sh
       runs it with the defaults)

Measured 2026-11-30 on the 2-core "Intel Xeon Processor" VM shared with other builds (load average ~12), defaults:
  path                                     ok  errors    req/s   p50 ms   p99 ms
  (b) client -> mlnode                  17819       0   1764.9     2.30    24.94
  (c) client -> nginx -> mlnode         22371       0   2226.2     2.05    21.97
  (a) client -> dapi, all                 404       0     39.6   219.12   307.90
      TA -> other executor -> mlnode      251       0     24.6   220.40   308.19  (share of the same load)
      TA = executor -> mlnode             153       0     15.0   217.17   307.90  (share of the same load)
  overhead per hop: nginx p50 -0.25 / p99 -2.97 ms (noise: the Python clients share the cores); dapi as TA + executor
  +214.87 / +282.95 ms; forward TA -> another participant's dapi +3.23 / +0.29 ms; until the block holding
  MsgStartInference p50 130.73 ms, from it to the answer p50 68.42 ms; 37.6 inferences/s recorded on chain (clients
  saw 39.6 answers/s). With --block-ms 100: dapi p50 127 ms, 59.7 req/s; --block-ms 500: p50 520 ms, 16.6 req/s.
  --stream: direct p50 6.2 ms (first chunk 2.3 ms), dapi p50 224 ms (first chunk 219 ms), 39.5 req/s.
  dapi's own histograms (a later run, same settings, mean): alice's whole TA request 197.5 ms, of which the call to
  bob's dapi 21.1 ms; bob's executor handling 18.9 ms, of which the call to its MLNode 4.0 ms.
  So a completion through dapi costs about one block (the transfer agent forwards only once MsgStartInference is in
  a block), and 8 clients get at most 8 / block time answers per second; the hops themselves cost a few ms.
"""
import argparse
import concurrent.futures
import http.client
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "functional"))

KEY = "sk-bench-alice-0123456789"
ROUNDS = 5  # direct and nginx alternate in this many slices of --seconds / ROUNDS each
PREFERRED_MODEL = "Qwen/Qwen2.5-7B-Instruct"
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three colours."}]


# ------------------------------------------------------------------------------------------------ load
def _client(args):
    """One client process: `count` requests (or until `deadline`, wall clock) on one keep-alive connection,
    starting at `start` (wall clock, shared by all clients). Returns [(seconds, status, id or None, wall clock
    when sent, seconds to the first body bytes)]."""
    port, path, body, headers, start, count, deadline, want_id, stream = args
    out = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    time.sleep(max(0.0, start - time.time()))
    while (count is None or len(out) < count) and (deadline is None or time.time() < deadline):
        sent = time.time()
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body, headers)
            resp = conn.getresponse()
            data = resp.read1(65536) if stream else b""  # the first bytes of the body (SSE: the first chunk)
            first = time.perf_counter() - t0
            data += resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, data, first = f"{type(e).__name__}: {e}", b"", 0.0
        elapsed = time.perf_counter() - t0
        rid = None
        if stream and status == 200 and not data.rstrip().endswith(b"data: [DONE]"):
            status = "stream without [DONE]"
        if want_id and status == 200:
            try:
                rid = json.loads(data.split(b"data: ", 2)[1] if stream else data)["id"]
            except (ValueError, KeyError, TypeError, IndexError):
                status = "200 without an id"
        out.append((elapsed, status, rid, sent, first))
    conn.close()
    return out


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load(pool, concurrency, port, path, body, headers, requests=None, seconds=None, want_id=False, stream=False):
    """Runs `concurrency` clients at once: `requests` in all (split evenly) or for `seconds`. Returns
    (samples [(seconds, status, id, sent at, first bytes after)], wall seconds from the common start to the last
    answer)."""
    start = time.time() + 0.3  # every client is connected and waiting by then
    per = None if requests is None else [requests // concurrency + (i < requests % concurrency)
                                         for i in range(concurrency)]
    deadline = None if seconds is None else start + seconds
    jobs = [(port, path, body, headers, start, None if per is None else per[i], deadline, want_id, stream)
            for i in range(concurrency)]
    # A client that died would leave map() waiting forever: bound it (each request times out after 60 s).
    limit = (seconds or 0) + 60 + (0 if requests is None else requests * 2)
    results = list(pool.map(_client, jobs, timeout=limit))
    wall = time.time() - start
    return [s for r in results for s in r], wall


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def summary(samples, wall):
    ok = sorted(s[0] for s in samples if s[1] == 200)
    errors = {}
    for s in samples:
        if s[1] != 200:
            errors[str(s[1])] = errors.get(str(s[1]), 0) + 1
    first = sorted(s[4] for s in samples if s[1] == 200)
    return {"requests": len(samples), "ok": len(ok), "errors": errors, "rps": len(ok) / wall if wall > 0 else 0.0,
            "p50_ms": percentile(ok, 50) * 1000, "p99_ms": percentile(ok, 99) * 1000, "wall_s": wall,
            "first_p50_ms": percentile(first, 50) * 1000, "first_p99_ms": percentile(first, 99) * 1000}


# ------------------------------------------------------------------------------------------------ network
def start_network(procs, workdir, block_ms, mlnode_args):
    """Chain + alice (1 MLNode) + bob (2 MLNodes), both validated in the first PoC; returns when every MLNode
    serves the model in epoch 1. Returns (chain node, model, alice, bob)."""
    from framework import wait_until
    from framework.chain import ChainNode
    from framework.dapi import Participant, mlnode_state, node_entry, validate_first_poc

    first_poc = max(25, 15000 // block_ms)  # about 15 s: every process is up by then (asserted below)
    node = ChainNode(workdir, block_time_ms=block_ms).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    # One long epoch after the first PoC: no PoC (only POC_SLOT nodes serve then) during the measurement.
    epoch_length = 100000
    params = genesis["app_state"]["epochs"]["params"]
    params.update(epoch_length=epoch_length, epoch_shift=epoch_length - first_poc)
    # The PoC stages last at least as long as with 200 ms blocks: MLNodes post their batches every 300 ms.
    stretch = max(1, math.ceil(200 / block_ms))
    for k in ("poc_stage_duration", "poc_exchange_duration", "poc_validation_delay", "poc_validation_duration",
              "model_loading_duration"):
        params[k] *= stretch
    # No sampled re-runs by validators: they would share the two cores with the measured path.
    genesis["app_state"].get("schedule", {}).get("params", {})["inference_validation_rate_ppm"] = 0
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    models = [m["id"] for m in genesis["app_state"]["models"]["models"]]
    model = PREFERRED_MODEL if PREFERRED_MODEL in models else models[0]
    node.start(procs)
    log(f"chain started (model {model}); starting alice and bob")
    version = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    alice = Participant(procs, workdir, node, "alice", version, n_mlnodes=1, mlnode_args=mlnode_args,
                        funds="10000000000000nicoin")
    bob = Participant(procs, workdir, node, "bob", version, n_mlnodes=2, mlnode_args=mlnode_args)
    for p, key in ((alice, KEY), (bob, "sk-bench-bob-0123456789")):
        p.fund().start_mlnodes()
        nodes = [node_entry(nid, m, [model], max_concurrent=16) for nid, m in zip(p.node_ids, p.mlnodes)]
        p.dapi.configure(nodes, api_keys=[key], log_level="info").start()
    height = node.height()
    log(f"participants up at height {height}; waiting for the first PoC at {first_poc}")
    assert height < first_poc - 3, f"setup took until height {height}; the first PoC starts at {first_poc}"

    validate_first_poc(node, (alice, bob), after=2)
    log("epoch 1 began")
    members = node.query(f"/inference/epoch-groups/current/{model}")["epoch_group"]["validation_weights"]
    assert sorted(m["member_address"] for m in members) == sorted([alice.address, bob.address]), members
    wait_until(lambda: all((mlnode_state(m) or {}).get("state") == "INFERENCE" for m in alice.mlnodes + bob.mlnodes),
               timeout=60, what="every MLNode serving the model")
    return node, model, version, alice, bob


LATENCY_SERIES = [  # (dapi, histogram, labels, what)
    ("alice", "dapi_inference_request_seconds", {"role": "transfer_agent"}, "alice's dapi: whole request (TA)"),
    ("alice", "dapi_inference_upstream_seconds", {"hop": "executor", "stage": "total"},
     "alice's dapi: call to bob's dapi (TA -> executor)"),
    ("bob", "dapi_inference_request_seconds", {"role": "executor"}, "bob's dapi: a forwarded request (executor)"),
    ("bob", "dapi_inference_upstream_seconds", {"hop": "mlnode", "stage": "total"}, "bob's dapi: call to its MLNode"),
    ("alice", "dapi_inference_upstream_seconds", {"hop": "mlnode", "stage": "total"},
     "alice's dapi: call to its MLNode (TA = executor)"),
]


def histogram_totals(dapi, name):
    """{frozenset(labels): (sum seconds, count)} of one histogram on a dapi's /metrics ({} when it has none)."""
    out = {}
    try:
        text = dapi.metrics()
    except (OSError, AssertionError):
        return out
    for line in text.splitlines():
        for part in ("sum", "count"):
            prefix = f"{name}_{part}"
            if not line.startswith(prefix) or line[len(prefix):len(prefix) + 1] not in ("{", " "):
                continue
            series, _, value = line[len(prefix):].rpartition(" ")
            labels = frozenset(tuple(kv.split("=", 1)) for kv in series.strip("{}").replace('"', "").split(",") if kv)
            total = list(out.get(labels, (0.0, 0.0)))
            total[0 if part == "sum" else 1] = float(value)
            out[labels] = tuple(total)
    return out


def latency_snapshot(dapis):
    """(sum, count) of every LATENCY_SERIES entry now."""
    snap = []
    for who, name, labels, _ in LATENCY_SERIES:
        snap.append(histogram_totals(dapis[who], name).get(frozenset(labels.items()), (0.0, 0.0)))
    return snap


def counts(node, model, frm=0, to=None):
    q = f"/inference/inference-counts/{model}?from={frm}" + (f"&to={to}" if to is not None else "")
    return node.query(q)


def block_time_ms(node, h):
    return node.query(f"/blocks/{h}")["time_unix_ms"]


def wait_settled(node, model, timeout=120):
    """Waits until every started inference of `model` is finished on chain; returns the height then."""
    from framework import wait_until

    def settled():
        h = node.height()
        c = counts(node, model, 0, h)
        return h if c["finished"] == c["started"] else None
    return wait_until(settled, timeout=timeout, interval=0.1, what="every started inference to finish on chain")


# ------------------------------------------------------------------------------------------------ main
def run(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir",
                    default=os.environ.get("INFERENCE_BUILD_DIR", os.path.join(ROOT, "build", "release")))
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per mode")
    ap.add_argument("--requests", type=int, default=None, help="a fixed number of requests per mode instead")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--stream", action="store_true", help="streamed (SSE) completions; adds time to the first chunk")
    ap.add_argument("--block-ms", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="smoke run: 20 requests per mode, tiny warm-up")
    args = ap.parse_args(argv)
    if args.quick:
        args.requests = args.requests or 20
    os.environ["INFERENCE_BUILD_DIR"] = os.path.abspath(args.build_dir)

    from framework import post_json
    from framework.mlnode import MlNode, MlProxy
    from framework.dapi import POC_MLNODE_ARGS

    measure = {"requests": args.requests} if args.requests else {"seconds": args.seconds}
    warmup = {"requests": args.concurrency * (1 if args.quick else 4)}
    procs = []
    results = {}
    started = time.monotonic()
    pool = None
    with tempfile.TemporaryDirectory(prefix="dapi-inference-bench-") as workdir:
        try:
            node, model, version, alice, bob = start_network(procs, workdir, args.block_ms,
                                                             (*POC_MLNODE_ARGS, "--log-level", "warn"))
            setup_s = time.monotonic() - started
            body = json.dumps({"model": model, "messages": MESSAGES, "max_tokens": args.max_tokens,
                               **({"stream": True} if args.stream else {})})
            json_headers = {"Content-Type": "application/json"}
            target = bob.mlnodes[0]
            # nginx as deploy/ renders it, in front of bob's first MLNode as the "new" version (the "old" one is
            # never started: no request goes to it).
            unused_old = MlNode(procs, workdir, "v0.0.0-unused", name="mlnode-unused-old")
            proxy = MlProxy(procs, workdir, unused_old, target, default="new").start()
            path = f"/{version}/v1/chat/completions" if version else "/v1/chat/completions"
            status, answer = post_json(target.inference_url + path, dict(json.loads(body), stream=False))
            assert status == 200 and answer["usage"]["completion_tokens"] > 0, (status, answer)
            # Client processes (not threads: the GIL would add its own latency to sub-millisecond answers). Made
            # after every server process started: the framework starts those with a preexec_fn, which is unsafe
            # once this process has threads (the pool's manager thread). Spawned, not forked: a worker inherits
            # neither the framework's signal handlers nor its list of process groups to kill.
            pool = concurrent.futures.ProcessPoolExecutor(args.concurrency,
                                                          mp_context=multiprocessing.get_context("spawn"))
            list(pool.map(time.sleep, [0.5] * args.concurrency, timeout=120))  # starts every worker

            log("network ready; measuring")

            # Direct and through nginx alternate in ROUNDS slices, so that a change in the machine's load (other
            # work on the same cores) does not fall on one of them only.
            rounds = 1 if args.requests else ROUNDS
            slice_ = {"requests": args.requests} if args.requests else {"seconds": args.seconds / rounds}
            ports = {"direct": target.inference_port, "nginx": proxy.inference_port}
            gathered = {m: ([], 0.0) for m in ports}
            def go(port, p, headers, **kw):
                return load(pool, args.concurrency, port, p, body, headers, stream=args.stream, **kw)

            for m, port in ports.items():
                go(port, path, json_headers, **warmup)
            for _ in range(rounds):
                for m, port in ports.items():
                    samples, wall = go(port, path, json_headers, **slice_)
                    gathered[m] = (gathered[m][0] + samples, gathered[m][1] + wall)
            for m, (samples, wall) in gathered.items():
                results[m] = summary(samples, wall)
                log(f"{m}: {results[m]}")

            # Through the network: warm up, let those inferences settle, then measure between two heights.
            dapi_headers = dict(json_headers, Authorization=f"Bearer {KEY}")
            go(alice.dapi.public_port, "/v1/chat/completions", dapi_headers, **warmup)
            h0 = wait_settled(node, model)
            dapis = {"alice": alice.dapi, "bob": bob.dapi}
            latency_before = latency_snapshot(dapis)
            before = counts(node, model, 0, h0)
            samples, wall = go(alice.dapi.public_port, "/v1/chat/completions", dapi_headers, want_id=True, **measure)
            h1 = node.height()
            latency_after = latency_snapshot(dapis)
            # Mean seconds and count over the measured load of each histogram of the request path.
            results["server_side"] = [
                ((a[0] - b[0]) / (a[1] - b[1]) if a[1] > b[1] else float("nan"), int(a[1] - b[1]))
                for a, b in zip(latency_after, latency_before)]
            h_settled = wait_settled(node, model)
            during = counts(node, model, h0 + 1, h1)
            after = counts(node, model, 0, h_settled)
            t0, t1, t_settled = (block_time_ms(node, h) for h in (h0, h1, h_settled))
            results["network"] = summary(samples, wall)
            # Which executor ran each answered request (its chain record).
            by_executor = {bob.address: [], alice.address: []}
            unfinished = 0
            block_ms = {}
            to_block, from_block = [], []  # seconds from sending to the block with MsgStartInference, and after
            for sample in samples:
                elapsed, status, rid, sent, _ = sample
                if status != 200:
                    continue
                rec = node.query(f"/inference/inferences/{rid}")["inference"]
                unfinished += rec["status"] != "FINISHED"
                by_executor.setdefault(rec["executor"], []).append(sample)
                h = rec["start_height"]
                if h not in block_ms:
                    block_ms[h] = block_time_ms(node, h)
                to_block.append(block_ms[h] / 1000 - sent)
                from_block.append(sent + elapsed - block_ms[h] / 1000)
            results["start_block"] = {
                "to_p50_ms": percentile(sorted(to_block), 50) * 1000,
                "to_p99_ms": percentile(sorted(to_block), 99) * 1000,
                "after_p50_ms": percentile(sorted(from_block), 50) * 1000,
                "after_p99_ms": percentile(sorted(from_block), 99) * 1000}
            results["network_remote"] = summary(by_executor[bob.address], wall)
            results["network_local"] = summary(by_executor[alice.address], wall)
            results["chain"] = {
                "finished_during": during["finished"], "started_during": during["started"],
                "interval_s": (t1 - t0) / 1000, "blocks": h1 - h0,
                "finished_total": after["finished"] - before["finished"],
                "settle_s": (t_settled - t0) / 1000, "unfinished_records": unfinished,
            }
            results["setup_s"] = setup_s
        except BaseException:
            for p in procs:
                p.dump_log(tail=40)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                p.kill9()
    results["total_s"] = time.monotonic() - started
    report(results, args)
    return results


def report(r, args):
    how = f"{args.requests} requests" if args.requests else f"{args.seconds:.0f} s"
    print(f"dapi_inference_bench: builtin backend, {args.concurrency} concurrent clients (processes, keep-alive), "
          f"{'streamed' if args.stream else 'non-streaming'}, max_tokens {args.max_tokens}, fixed prompt; "
          f"{how} per mode after a warm-up; "
          f"solo chain, blocks every {args.block_ms} ms")
    rows = [("(b) client -> mlnode", "direct"), ("(c) client -> nginx -> mlnode", "nginx"),
            ("(a) client -> dapi, all", "network"),
            ("    TA -> other executor -> mlnode", "network_remote"),
            ("    TA = executor -> mlnode", "network_local")]
    first = f" {'1st p50':>8} {'1st p99':>8}" if args.stream else ""
    print(f"{'path':36} {'ok':>6} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}{first}")
    for label, k in rows:
        s = r[k]
        note = "  (share of the same load)" if k.startswith("network_") else ""
        first = f" {s['first_p50_ms']:8.2f} {s['first_p99_ms']:8.2f}" if args.stream else ""
        print(f"{label:36} {s['ok']:6d} {sum(s['errors'].values()):7d} {s['rps']:8.1f} {s['p50_ms']:8.2f} "
              f"{s['p99_ms']:8.2f}{first}{note}")
        if s["errors"]:
            print(f"{'':36} errors: {s['errors']}")

    def hop(label, a, b):
        print(f"  {label:66} p50 {r[a]['p50_ms'] - r[b]['p50_ms']:+9.2f}   p99 {r[a]['p99_ms'] - r[b]['p99_ms']:+9.2f}")
    print("overhead per hop, ms (difference of p50s and of p99s):")
    hop("nginx in front of the mlnode            (c) - (b)", "nginx", "direct")
    hop("dapi as TA + executor, incl. start tx   (a local) - (b)", "network_local", "direct")
    hop("forward TA -> another participant's dapi (a remote) - (a local)", "network_remote", "network_local")
    hop("whole network path                      (a remote) - (b)", "network_remote", "direct")
    sb = r["start_block"]
    print(f"  of the network path: until the block holding MsgStartInference          p50 {sb['to_p50_ms']:9.2f}   "
          f"p99 {sb['to_p99_ms']:9.2f}")
    print(f"                       from that block to the answer                      p50 {sb['after_p50_ms']:9.2f}   "
          f"p99 {sb['after_p99_ms']:9.2f}")
    print("dapi's own latency histograms over the measured load (/metrics, mean of sum/count):")
    for (_, _, _, what), (mean, n) in zip(LATENCY_SERIES, r["server_side"]):
        print(f"  {what:66} mean {mean * 1000:9.2f} ms  ({n} requests)")
    c = r["chain"]
    rate = c["finished_during"] / c["interval_s"] if c["interval_s"] > 0 else 0.0
    print(f"on chain: {c['finished_during']} inferences finished in blocks {c['blocks']} blocks / "
          f"{c['interval_s']:.1f} s of the load = {rate:.1f} inferences/s recorded "
          f"(clients saw {r['network']['rps']:.1f} answers/s); all {c['finished_total']} finished "
          f"{c['settle_s']:.1f} s after the load began; records not FINISHED: {c['unfinished_records']}")
    print(f"ratios: direct/network req/s {r['direct']['rps'] / max(r['network']['rps'], 1e-9):.1f}x, "
          f"nginx/direct req/s {r['nginx']['rps'] / max(r['direct']['rps'], 1e-9):.2f}, "
          f"recorded/answered {rate / max(r['network']['rps'], 1e-9):.2f}; "
          f"setup {r['setup_s']:.0f} s, whole bench {r['total_s']:.0f} s")


if __name__ == "__main__":
    run()
