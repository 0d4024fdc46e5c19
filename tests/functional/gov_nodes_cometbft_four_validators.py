"""Governance, the model registry and hardware diffs on a 4-validator CometBFT network: a model proposal passes
with the votes of three validators and is visible on all four; a proposal voted no changes nothing; a direct
MsgRegisterModel from an ordinary account is rejected; a hardware diff naming unknown models is rejected on every
node while a valid one is stored everywhere."""
from framework import wait_until
from framework.chain import event_value, write_json
from framework.cometbft import Network

MODEL = {
    "id": "Qwen/Qwen3-8B", "units_of_compute_per_token": 321, "context_window": 16384, "quantization": "bf16",
    "hf_repo": "Qwen/Qwen3-8B", "hf_commit": "b968826d9c46dd6066d109eabc6255188de91218",
    "model_args": ["--max-model-len", "16384"], "v_ram": 24, "throughput_per_nonce": 5000,
    "validation_threshold": {"value": 95814, "exponent": -5},
}


def wait_final(node, pid):
    def done():
        p = node.query(f"/gov/proposals/{pid}")["proposal"]
        return p if p["status"] != "PROPOSAL_STATUS_VOTING_PERIOD" else None
    return wait_until(done, timeout=120, what=f"the tally of proposal {pid}")


def model_ids(node):
    return [m["id"] for m in node.query("/inference/governance/models")["models"]]


def test_gov_and_hardware_on_four_validators(workdir, procs):
    net = Network(workdir, 4).start(procs)
    net.wait_height(3)
    model_file = write_json(workdir, "model.json", MODEL)

    # Passed by three of four equal validators (75% of the power), submitted through node 1.
    _, r, _ = net[1].tx("gov", "submit-proposal", "register-model", "--model-file", model_file, "--title", "Add",
                        "--summary", "s", "--deposit", "10000nicoin", "--from", "validator")
    passed = int(event_value(r, "submit_proposal", "proposal_id"))
    _, r, _ = net[2].tx("gov", "submit-proposal", "register-model", "Qwen/VotedNo", "--model-file", model_file,
                        "--title", "No", "--summary", "s", "--deposit", "10000nicoin", "--from", "validator")
    voted_no = int(event_value(r, "submit_proposal", "proposal_id"))
    for i in range(3):
        net[i].tx("gov", "vote", passed, "yes", "--from", "validator")
        net[i].tx("gov", "vote", voted_no, "no", "--from", "validator")
    assert wait_final(net[3], passed)["status"] == "PROPOSAL_STATUS_PASSED"
    assert wait_final(net[3], voted_no)["status"] == "PROPOSAL_STATUS_REJECTED"
    net.wait_height(max(net.heights()) + 1)
    for v in net.validators:
        assert "Qwen/Qwen3-8B" in model_ids(v), v.name
        assert "Qwen/VotedNo" not in model_ids(v), v.name
        assert v.query("/inference/governance/models/Qwen/Qwen3-8B")["model"]["throughput_per_nonce"] == 5000

    # A direct MsgRegisterModel from an ordinary account is rejected.
    alice = net[0].add_key("alice")
    net[0].send("validator", alice, "1000000nicoin")
    code, r, _ = net[0].tx("inference", "register-model", "Qwen/Direct", "--model-file", model_file, "--from", "alice",
                           check=False)
    assert code != 0 and r["code"] == 4, r

    # Hardware diffs: node 0's validator registers as a participant; unknown models are listed and nothing is stored.
    net[0].tx("inference", "submit-new-participant", "http://127.0.0.1:9000", "--from", "validator")
    me = net[0].address("validator")
    bad = write_json(workdir, "bad.json", {"new_or_modified": [
        {"local_id": "gpu-1", "models": ["Qwen/Nope-1", "Qwen/QwQ-32B", "Qwen/Nope-2"], "host": "127.0.0.1",
         "inference_port": 5000, "poc_port": 5001}]})
    code, r, _ = net[0].tx("inference", "submit-hardware-diff", bad, "--from", "validator", check=False)
    assert code != 0 and "Qwen/Nope-1" in r["log"] and "Qwen/Nope-2" in r["log"], r
    good = write_json(workdir, "good.json", {"new_or_modified": [
        {"local_id": "gpu-1", "models": ["Qwen/QwQ-32B", "Qwen/Qwen3-8B"], "host": "127.0.0.1",
         "inference_port": 5000, "poc_port": 5001}]})
    net[0].tx("inference", "submit-hardware-diff", good, "--from", "validator")
    net.wait_height(max(net.heights()) + 1)
    for v in net.validators:
        nodes = v.query(f"/inference/hardware-nodes/{me}")["nodes"]
        assert [n["local_id"] for n in nodes] == ["gpu-1"], (v.name, nodes)
        assert nodes[0]["models"] == ["Qwen/QwQ-32B", "Qwen/Qwen3-8B"]
    top = min(net.heights())
    net.assert_same_app_hashes(top)
