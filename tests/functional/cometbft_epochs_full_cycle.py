"""Two full epochs on a 4-validator CometBFT network, one validator kill -9ed and restarted mid-epoch (issue 13,
must-show 2; localnet epochs: 30 blocks, batches [P+1, P+8], validations [P+9, P+13], switch P+17).

Validators 0-2 register as participants with their own consensus keys (the key proof signed by the CLI from the
home's validator_key.json) and declare MLNodes for the two genesis models; validator 3 stays a plain genesis
validator. Epoch A: the three submit PoC batches, validator 3 is kill -9ed (app and CometBFT) in the middle of the
PoC, the other genesis validators validate the participants, validator 3 restarts and catches up; at the switch
the participants become the validator set. Between the epochs an inference for the 7B model creates demand, so the
pre-PoC selection gives one 7B node POC_SLOT; during epoch B's PoC that node serves an inference while the others
mine and the members of epoch A validate. Epoch A is settled, a partial upgrade passes governance and switches the
MLNode version at its height. At the end all four nodes have the same app hash at every height."""
import threading

from framework import wait_until
from framework.chain import event_value, wait_final, write_json
from framework.cometbft import Network
from framework.participants import hw_node, send_fast

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"
HARDWARE = [[hw_node("g1", [Q7B], 5000), hw_node("g2", [QWQ], 5010)],
            [hw_node("g1", [Q7B], 6000)],
            [hw_node("g1", [QWQ], 7000)]]


def epoch_info(v):
    return v.query("/inference/epoch")


def wait_batch_window(v, after=0):
    """An upcoming epoch whose batch window is open with at least 4 blocks left, PoC start > `after`."""
    def ready():
        e = epoch_info(v)
        s = e["stages"]
        if e["upcoming_epoch_index"] is None or s["poc_start"] <= after:
            return None
        return (e["upcoming_epoch_index"], s) if s["poc_start"] < v.height() <= s["poc_exchange_end"] - 4 else None
    return wait_until(ready, timeout=120, what="an open PoC batch window")


def submit(v, txs):
    """Sends `txs` from v's "validator" key back to back; returns the committed results (CheckTx refusals too)."""
    return send_fast(v, {"validator": (v.address("validator"), txs)})["validator"]


def submit_all(per_node):
    """{validator: [tx args...]}: every validator's txs at once (windows are a few blocks long); asserts that all
    were committed with code 0."""
    results = {}

    def run(v, txs):
        results[v.name] = submit(v, txs)
    threads = [threading.Thread(target=run, args=(v, txs)) for v, txs in per_node.items() if txs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = {name: [(x.get("code"), x.get("log")) for x in r if x.get("code") != 0] for name, r in results.items()}
    assert not any(failed.values()), failed
    assert len(results) == len([t for t in per_node.values() if t]), "a submitter thread failed"
    return results


def test_two_epochs_with_poc_selection_inference_settlement_upgrade_and_a_crash(workdir, procs):
    net = Network(workdir, 4).start(procs)
    participants, plain = net.validators[:3], net[3]
    addr = {v.name: v.address("validator") for v in net.validators}
    for i, v in enumerate(participants):
        v.tx("inference", "submit-new-participant", f"http://{v.name}.example:8000", "--from", "validator")
        v.tx("inference", "submit-hardware-diff",
             write_json(workdir, f"{v.name}-hw.json", {"new_or_modified": HARDWARE[i]}), "--from", "validator")
    p = net[0].query(f"/inference/participants/{addr['node1']}")["participant"]
    assert p["url"] == "http://node1.example:8000", p

    # ---- Epoch A: PoC by the three participants; validator 3 crashes in the middle and comes back.
    epoch_a, s = wait_batch_window(net[0])
    nonces = {"node0": [("g1", "0-99"), ("g2", "100-159")], "node1": [("g1", "0-79")], "node2": [("g1", "0-69")]}
    submit_all({v: [["inference", "submit-poc-batch", node, "a", "--nonces", rng] for node, rng in nonces[v.name]]
                for v in participants})
    down_at = plain.height()
    plain.kill9()
    net.wait_height(s["validation_start"], nodes=participants)
    # Genesis validators 0-2 hold 300 of 400: more than half of the weight.
    submit_all({v: [["inference", "submit-poc-validation", addr[p.name]] for p in participants] for v in participants})
    plain.start(procs)
    assert plain.height() >= down_at - 1
    net.wait_height(s["set_new_validators"] + 1, timeout=180)
    assert epoch_info(net[0])["epoch_index"] == epoch_a
    parent = net[0].query(f"/inference/epoch-groups/{epoch_a}")["epoch_group"]
    weights = {m["member_address"]: m["weight"] for m in parent["validation_weights"]}
    assert weights == {addr["node0"]: 160, addr["node1"]: 80, addr["node2"]: 70}, weights
    # The participants are the validator set now (CometBFT's view of it).
    wait_until(lambda: len(net[0].comet("validators")["validators"]) == 3, timeout=30,
               what="CometBFT's validator set to become the three participants")

    # ---- Demand for the 7B model before epoch B's PoC: an inference from node0 executed by node1's g1.
    p_next = s["next_poc_start"]
    net.wait_height(p_next - 12)
    _, started, _ = net[0].tx("inference", "start-inference", "inf-a", Q7B, addr["node1"], "g1", "--max-tokens", "400",
                              "--prompt", "hello", "--from", "validator")
    assert started["code"] == 0, started
    _, finished, _ = net[1].tx("inference", "finish-inference", "inf-a", "--prompt-tokens", "100",
                               "--completion-tokens", "200", "--response", "world", "--from", "validator")
    assert finished["code"] == 0, finished
    assert net[0].height() < p_next - 1, "the inference missed the demand window"

    # ---- A partial upgrade voted by the members of epoch A (executes during epoch B).
    voting_period = net[0].query("/gov/params")["params"]["voting_period"]
    upgrade_height = net[0].height() + voting_period + 30
    _, r, _ = net[0].tx("inference", "partial-upgrade", upgrade_height, "v3.1.0", "", "--title", "MLNode v3.1.0",
                        "--summary", "side by side", "--deposit", "10000nicoin", "--from", "validator")
    pid = int(event_value(r, "submit_proposal", "proposal_id"))
    for v in participants:
        v.tx("gov", "vote", pid, "yes", "--from", "validator")

    # ---- Epoch B: the pre-PoC selection gave one 7B node POC_SLOT; it serves while the others mine.
    epoch_b, s = wait_batch_window(net[0], after=s["poc_start"])
    assert epoch_b == epoch_a + 1
    slots = net[0].query(f"/inference/poc-slots/{epoch_a}")["poc_slots"]
    assert len(slots) == 1 and slots[0]["model_id"] == Q7B, slots
    owner = next(v for v in participants if addr[v.name] == slots[0]["participant"])
    slot_node = slots[0]["node_id"]
    ex = net[0].query(f"/inference/executor?model={Q7B}&seed=7")
    assert ex["poc_slot_only"] is True and (ex["participant"], ex["node_id"]) == (addr[owner.name], slot_node), ex
    _, st, _ = net[2].tx("inference", "start-inference", "inf-b", Q7B, addr[owner.name], slot_node, "--max-tokens", "100",
                         "--from", "validator")
    assert st["code"] == 0, st
    _, fin, _ = owner.tx("inference", "finish-inference", "inf-b", "--prompt-tokens", "20", "--completion-tokens", "30",
                         "--from", "validator")
    assert fin["code"] == 0, fin
    batches = {v: [["inference", "submit-poc-batch", node, "b", "--nonces", rng] for node, rng in nonces[v.name]
                   if not (v is owner and node == slot_node)] for v in participants}
    submit_all(batches)
    miners = [v for v in participants if batches[v]]
    net.wait_height(s["validation_start"])
    # The members of epoch A validate every participant that mined.
    submit_all({v: [["inference", "submit-poc-validation", addr[p.name]] for p in miners] for v in participants})
    net.wait_height(s["set_new_validators"] + 2, timeout=180)
    assert epoch_info(net[0])["epoch_index"] == epoch_b
    g7 = net[0].query(f"/inference/epoch-groups/{epoch_a}/{Q7B}")["epoch_group"]
    assert g7["real_throughput_vector"][1] == 50, g7  # only the POC_SLOT node's tokens
    parent_b = net[0].query(f"/inference/epoch-groups/{epoch_b}")["epoch_group"]
    weights_b = {(m["member_address"], n["node_id"]): n["poc_weight"] for m in parent_b["validation_weights"]
                 for n in m["ml_nodes"]}
    preserved = {"node0": {"g1": 100}, "node1": {"g1": 80}}[owner.name][slot_node]
    assert weights_b[(addr[owner.name], slot_node)] == preserved, weights_b  # kept without mining
    settled = net[0].query(f"/inference/settle/{epoch_a}")["settlement"]
    assert int(settled["paid"]) > 0 and int(settled["minted"]) == int(settled["paid"]) + int(settled["remainder"]), settled

    # ---- The upgrade switches the version at its height.
    assert wait_final(net[0], pid)["status"] == "PROPOSAL_STATUS_PASSED"
    net.wait_height(upgrade_height, timeout=180)
    version = net[0].query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    assert version == "v3.1.0", version

    # ---- Same app hash on all four nodes at every height (validator 3 included, after its crash).
    net.wait_caught_up(timeout=180)
    top = min(net.heights())
    print(f"epochs {epoch_a}, {epoch_b}; slot {owner.name}/{slot_node}; compared app hashes of {top} heights")
    net.assert_same_app_hashes(top)
    assert plain.alive()
