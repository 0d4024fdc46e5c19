"""Governance and the model registry end to end through the CLI: a model registered by a proposal that the genesis
validator votes for appears in /inference/governance/models with every field intact; a proposal without votes and a
proposal voted no change nothing and return the deposit; a direct MsgRegisterModel from an ordinary account is
rejected; a proposal holding an invalid message is refused at submission; a Cosmos-style proposal file removes a
model."""
from framework.chain import ChainNode, event_value, wait_final, write_json

MODEL = {
    "id": "Qwen/Qwen3-8B",
    "units_of_compute_per_token": 321,
    "context_window": 16384,
    "quantization": "bf16",
    "hf_repo": "Qwen/Qwen3-8B",
    "hf_commit": "b968826d9c46dd6066d109eabc6255188de91218",
    "model_args": ["--max-model-len", "16384", "--enable-chunked-prefill"],
    "v_ram": 24,
    "throughput_per_nonce": 5000,
    "validation_threshold": {"value": 95814, "exponent": -5},
}
GENESIS_MODELS = ["HuggingFaceTB/SmolLM2-135M-Instruct", "Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"]


def model_ids(node):
    return [m["id"] for m in node.query("/inference/governance/models")["models"]]


def test_model_registry_through_governance(workdir, procs):
    node = ChainNode(workdir).init("--preset", "localnet")
    node.start(procs)
    validator = node.address("validator")
    alice = node.add_key("alice")
    node.send("validator", alice, "1000000nicoin")
    assert model_ids(node) == GENESIS_MODELS
    params = node.query("/gov/params")["params"]
    assert params["min_deposit"] == [{"denom": "nicoin", "amount": "10000"}]

    model_file = write_json(workdir, "model.json", MODEL)

    # 1. A proposal voted yes by the genesis validator (all the voting power) passes and registers the model.
    v_before = node.balance("validator")
    _, r, _ = node.tx("gov", "submit-proposal", "register-model", "--model-file", model_file, "--title", "Add Qwen3-8B",
                      "--summary", "a new model", "--deposit", "10000nicoin", "--from", "validator")
    pid = int(event_value(r, "submit_proposal", "proposal_id"))
    assert node.balance("validator") == v_before - 10000  # escrowed
    node.tx("gov", "vote", pid, "yes", "--from", "validator")
    p = wait_final(node, pid)
    assert p["status"] == "PROPOSAL_STATUS_PASSED", p
    assert p["final_tally"]["yes"] == "100", p
    expected = dict(MODEL, proposed_by=validator)
    models = {m["id"]: m for m in node.query("/inference/governance/models")["models"]}
    assert models["Qwen/Qwen3-8B"] == expected
    assert node.query("/inference/governance/models/Qwen/Qwen3-8B")["model"] == expected
    assert node.query("/inference/governance/models/Qwen%2FQwen3-8B")["model"] == expected
    assert node.cli_json("query", "inference", "governance-model", "Qwen/Qwen3-8B", *node.client_flags())["model"] == expected
    assert node.balance("validator") == v_before  # deposit returned
    tally = node.cli_json("query", "gov", "tally", pid, *node.client_flags())
    assert tally["final"] is True and tally["tally"]["total_power"] == "100"

    # 2. A proposal nobody votes on and 3. a proposal voted no: both rejected, nothing changes, deposits return.
    a_before = node.balance(alice)
    _, r, _ = node.tx("gov", "submit-proposal", "register-model", "Qwen/NoVotes", "--model-file", model_file,
                      "--title", "nobody votes", "--deposit", "10000nicoin", "--from", "alice")
    no_votes = int(event_value(r, "submit_proposal", "proposal_id"))
    _, r, _ = node.tx("gov", "submit-proposal", "register-model", "Qwen/VotedNo", "--units-of-compute-per-token", "10",
                      "--context-window", "4096", "--hf-repo", "Qwen/Qwen3-8B", "--hf-commit", MODEL["hf_commit"],
                 "--v-ram", "8", "--throughput-per-nonce", "100", "--validation-threshold", "0.9",
                 '--model-args=["--dtype","auto"]', "--title", "voted no", "--deposit", "10000nicoin", "--from", "alice")
    voted_no = int(event_value(r, "submit_proposal", "proposal_id"))
    assert node.balance(alice) == a_before - 20000
    node.tx("gov", "vote", voted_no, "no", "--from", "validator")
    # Alice has no voting power: her vote is refused.
    code, r, _ = node.tx("gov", "vote", voted_no, "yes", "--from", "alice", check=False)
    assert code != 0 and "no voting power" in r["log"], r
    for pid, reason in ((no_votes, "no quorum"), (voted_no, "threshold not reached")):
        p = wait_final(node, pid)
        assert p["status"] == "PROPOSAL_STATUS_REJECTED", p
        assert reason in p["failed_reason"], p
        assert p["deposit_burned"] is False
    assert model_ids(node) == GENESIS_MODELS + ["Qwen/Qwen3-8B"]
    assert node.balance(alice) == a_before
    rejected = node.cli_json("query", "gov", "proposals", "--status", "rejected", *node.client_flags())["proposals"]
    assert sorted(p["id"] for p in rejected) == [no_votes, voted_no]

    # 4. A direct MsgRegisterModel from an ordinary account is rejected, whatever authority it names.
    code, r, _ = node.tx("inference", "register-model", "Qwen/Direct", "--model-file", model_file, "--from", "alice",
                         check=False)
    assert code != 0 and r["code"] == 4 and "governance proposal" in r["log"], r
    code, r, _ = node.tx("inference", "register-model", "Qwen/Direct", "--model-file", model_file, "--authority", alice,
                         "--from", "alice", check=False)
    assert code != 0 and r["code"] == 4 and "invalid authority" in r["log"], r
    # 5. A proposal with an invalid model is refused at submission, and the deposit stays with the proposer.
    code, r, _ = node.tx("gov", "submit-proposal", "register-model", "Qwen/Bad", "--model-file", model_file,
                         "--hf-commit", "main", "--title", "bad", "--deposit", "10000nicoin", "--from", "alice", check=False)
    assert code != 0 and r["code"] == 18 and "hf_commit" in r["log"], r
    node.wait_height(node.height() + 2)
    assert "Qwen/Direct" not in model_ids(node) and "Qwen/Bad" not in model_ids(node)
    assert node.balance(alice) == a_before

    # 6. A proposal file in the Cosmos shape ({"@type": ...} messages) removes the model again.
    gov = node.query("/gov/authority")["address"]
    proposal = write_json(workdir, "remove.json", {
        "title": "Remove Qwen3-8B", "summary": "no longer served", "deposit": "10000nicoin",
        "messages": [{"@type": "/inference.inference.MsgRemoveModel", "authority": gov, "id": "Qwen/Qwen3-8B"}]})
    _, r, _ = node.tx("gov", "submit-proposal", proposal, "--from", "validator")
    pid = int(event_value(r, "submit_proposal", "proposal_id"))
    node.tx("gov", "vote", pid, "yes", "--from", "validator")
    assert wait_final(node, pid)["status"] == "PROPOSAL_STATUS_PASSED"
    assert model_ids(node) == GENESIS_MODELS
