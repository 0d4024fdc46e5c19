"""Smoke run of bench/dapi_inference_bench.py --quick, so that the benchmark does not rot: the whole network
(solo chain, alice and bob with their dapis and builtin MLNodes, nginx) comes up, 20 requests per mode go direct to
an MLNode, through nginx and through alice's dapi (transfer agent, executor alice or bob), and the table is printed.
Checked: every request succeeded, the requests through the network split into forwarded and local ones as the chain
records say, each of them is FINISHED on chain, and the table and per-hop lines were printed. No timing is asserted."""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import dapi_inference_bench  # noqa: E402


def test_dapi_inference_bench_quick(capsys):
    r = dapi_inference_bench.run(["--quick"])
    out = capsys.readouterr().out
    print(out)
    for mode in ("direct", "nginx", "network"):
        assert r[mode]["requests"] == 20 and r[mode]["ok"] == 20 and not r[mode]["errors"], (mode, r[mode])
        assert r[mode]["rps"] > 0 and not math.isnan(r[mode]["p50_ms"]) and not math.isnan(r[mode]["p99_ms"])
    assert r["network_remote"]["ok"] + r["network_local"]["ok"] == 20, r
    assert r["chain"]["finished_total"] == 20 and r["chain"]["unfinished_records"] == 0, r["chain"]
    for line in ("(b) client -> mlnode", "(c) client -> nginx -> mlnode", "TA -> other executor -> mlnode",
                 "overhead per hop", "inferences/s recorded", "dapi's own latency histograms"):
        assert line in out, (line, out)
