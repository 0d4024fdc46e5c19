"""dapi's broker and PoC libraries against two real ML nodes (no chain): the reconciler takes both nodes through
INFERENCE (epoch model, merged args) -> POC_GENERATE (node index/count of the participant) -> POC_VALIDATE ->
INFERENCE with the next epoch's model; the PoC callbacks become MsgSubmitPocBatch with the node id and disjoint
nonce ranges; another participant's validation of the batches becomes MsgSubmitPocValidation without fraud."""
import json
import os
import subprocess

from framework import binary, get_json
from framework.mlnode import MlNode
from framework.process import build_dir


def probe_binary():
    try:
        return binary("dapi_broker_probe")
    except FileNotFoundError:
        return os.path.join(build_dir(), "src", "api", "dispatch", "dapi_broker_probe")


def test_broker_takes_two_mlnodes_through_an_epoch(procs, workdir):
    nodes = [MlNode(procs, workdir, "v3.0.8", ["--threads", "1", "--poc-send-interval-ms", "300"],
                    name=f"mlnode-{i}").start() for i in range(2)]
    specs = [f"gpu-{i}=127.0.0.1:{n.inference_port}:{n.poc_port}" for i, n in enumerate(nodes)]
    run = subprocess.run([probe_binary(), "v3.0.8", *specs], capture_output=True, text=True, timeout=300)
    print(run.stderr[-4000:])
    assert run.returncode == 0, run.stdout[-4000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])

    phases = {p["phase"]: p for p in summary["phases"]}
    assert [p["phase"] for p in summary["phases"]] == ["INFERENCE", "POC_GENERATE", "POC_VALIDATE",
                                                       "INFERENCE_NEXT_EPOCH"]
    assert all(p["reached"] for p in summary["phases"])
    for node in phases["INFERENCE"]["nodes"]:
        assert node["status"] == "INFERENCE" and node["model"] == "model-a" and node["failure"] == "", node
    for node in phases["POC_GENERATE"]["nodes"]:
        assert node["status"] == "POC" and node["pow"] == "GENERATING", node
    for node in phases["POC_VALIDATE"]["nodes"]:
        assert node["pow"] == "VALIDATING", node
    for node in phases["INFERENCE_NEXT_EPOCH"]["nodes"]:
        assert node["status"] == "INFERENCE" and node["model"] == "model-b", node
    assert summary["merged_args"] == ["--dtype", "half", "--max-model-len", "4096"]

    # The ML nodes were really told: state and loaded args as they report them.
    for n in nodes:
        status, state = get_json(n.poc_url + "/api/v1/state")
        assert status == 200 and state["state"] == "INFERENCE" and state.get("model") == "model-b", state

    batches = summary["batches"]
    assert {b["node_id"] for b in batches} == {"gpu-0", "gpu-1"}
    assert all(b["poc_start"] == 120 and b["creator"] == summary["participant_a"] for b in batches)
    assert len({b["batch_id"] for b in batches}) == len(batches)
    assert not summary["nonce_overlap_between_nodes"]
    assert summary["nonces_in_node_ranges"], "node i of 2 mines nonces i, i+2, ..."

    assert all(j["ok"] for j in summary["validation_jobs"]), summary["validation_jobs"]
    validations = summary["validations"]
    assert validations, "the validated callback arrived"
    for v in validations:
        assert v["participant"] == summary["participant_a"] and v["creator"] == "gonka1validator"
        assert not v["fraud_detected"] and v["n_invalid"] == 0 and v["sample_size"] > 0, v
    print(f"{len(batches)} batches, {sum(b['nonces'] for b in batches)} nonces; "
          f"validation of {validations[0]['sample_size']} nonces: no fraud")
