"""Epoch rewards with the model-coverage bonus end to end on the solo chain (localnet epochs, docs/rewards.md).

alice (two MLNodes, one serving each genesis model) and bob (one MLNode declaring both models, so serving only its
first, the 7B model: an MLNode serves one model at a time) submit 100 nonces each in one PoC round and are validated, so they enter the epoch with equal weight; carol is a registered
participant with an MLNode but submits nothing (no weight). At the settlement stage after that epoch ends, with a
subsidy of 2,000,001 nicoin (no decay): both get a base reward of 1,000,000, alice gets exactly 10% more
(bonus 100,000, total 1,100,000), the 1 nicoin remainder goes to the community pool, carol gets nothing, and the
supply grows by exactly minted = paid + remainder. Balances are compared to the unit."""
import json
import os

from framework import get_json, wait_until
from framework.chain import ChainNode
from framework.participants import hw_node, register_participants, send_fast, wait_poc_window

QWQ = "Qwen/QwQ-32B"
Q7B = "Qwen/Qwen2.5-7B-Instruct"
BLOCK_MS = 200
SUBSIDY = 2_000_001


def supply(node):
    return int(node.query("/bank/supply/nicoin")["amount"])


def test_settlement_pays_the_coverage_bonus_and_conserves(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    genesis_file = os.path.join(node.home, "config", "genesis.json")
    with open(genesis_file) as f:
        genesis = json.load(f)
    assert genesis["app_state"]["settle"]["params"]["coverage_bonus_bps"] == 1000  # the default +10%
    genesis["app_state"]["settle"]["params"].update(
        {"initial_epoch_subsidy": str(SUBSIDY), "decay_factor_e18": "1000000000000000000"})
    # The two Qwen models only, every inference paid at finish: localnet's real CPU model and its validation
    # sampling (issue 15) are tested in localnet_*.py.
    genesis["app_state"]["models"]["models"] = [m for m in genesis["app_state"]["models"]["models"]
                                                if m["id"] in (Q7B, QWQ)]
    genesis["app_state"]["schedule"]["params"]["inference_validation_rate_ppm"] = 0
    with open(genesis_file, "w") as f:
        json.dump(genesis, f)
    node.start(procs)
    pool = node.query("/inference/settle-params")["community_pool"]

    keys = {k: node.add_key(k) for k in ("alice", "bob", "carol")}
    alice, bob, carol = keys["alice"], keys["bob"], keys["carol"]
    for addr in keys.values():
        node.send("validator", addr, "10000000nicoin")
    hardware = {"alice": [hw_node("a-1", [Q7B, QWQ], 5000), hw_node("a-2", [QWQ, Q7B], 5010)],
                "bob": [hw_node("b-1", [Q7B, QWQ], 6000)],
                "carol": [hw_node("c-1", [QWQ], 7000)]}
    register_participants(node, workdir, hardware)

    # One PoC round: equal weights for alice and bob, nothing from carol.
    e, s = wait_poc_window(node)
    epoch = e["upcoming_epoch_index"]
    r = send_fast(node, {"alice": (alice, [["inference", "submit-poc-batch", "a-1", "b1", "--nonces", "0-49"],
                                           ["inference", "submit-poc-batch", "a-2", "b1", "--nonces", "50-99"]]),
                         "bob": (bob, [["inference", "submit-poc-batch", "b-1", "b1", "--nonces", "0-99"]])},
                  all_accepted=True)
    assert all(x["code"] == 0 for v in r.values() for x in v), r
    node.wait_height(s["validation_start"])
    validator = node.address("validator")
    r = send_fast(node, {"validator": (validator, [["inference", "submit-poc-validation", p] for p in (alice, bob)])},
                  all_accepted=True)
    assert all(x["code"] == 0 for x in r["validator"]), r
    node.wait_height(s["set_new_validators"])
    parent = node.query(f"/inference/epoch-groups/{epoch}")["epoch_group"]
    assert {m["member_address"]: m["weight"] for m in parent["validation_weights"]} == {alice: 100, bob: 100}, parent
    assert parent["sub_group_models"] == sorted([Q7B, QWQ])

    # The epoch is paid at the settlement stage of the next one (its switch + 1).
    def next_epoch():
        status, body = get_json(f"{node.url}/inference/epochs/{epoch + 1}")
        return body["epoch"] if status == 200 else None
    nxt = wait_until(next_epoch, timeout=60, what=f"epoch {epoch + 1} to start")
    settle_height = nxt["stages"]["settlement"]
    assert settle_height == nxt["stages"]["set_new_validators"] + 1
    node.wait_height(settle_height - 2)
    assert node.height() < settle_height, "missed the block before settlement"
    node.query(f"/inference/settle/{epoch}", expect=404)  # not yet
    before = {k: node.balance(a) for k, a in (("alice", alice), ("bob", bob), ("carol", carol), ("pool", pool))}
    supply_before = supply(node)

    node.wait_height(settle_height)
    body = node.query(f"/inference/settle/{epoch}")
    st, amounts = body["settlement"], {a["participant"]: a for a in body["amounts"]}
    print(f"epoch {epoch} settled at {st['settled_height']}: {st}")
    assert st["settled_height"] == settle_height
    assert st["subsidy"] == str(SUBSIDY) and st["total_weight"] == "200" and st["models"] == 2
    a, b = amounts[alice], amounts[bob]
    assert (a["weight"], a["base_reward"], a["bonus"], a["total"], a["covers_all_models"]) == \
        (100, "1000000", "100000", "1100000", True), a
    assert (b["weight"], b["base_reward"], b["bonus"], b["total"], b["covers_all_models"]) == \
        (100, "1000000", "0", "1000000", False), b
    assert int(a["total"]) * 10 == int(b["total"]) * 11  # exactly 10% more, to the unit
    assert carol not in amounts
    c = node.query(f"/inference/settle/{epoch}/{carol}")["amount"]
    assert (c["weight"], c["base_reward"], c["bonus"], c["total"]) == (0, "0", "0", "0"), c
    assert node.query(f"/inference/settle/{epoch}/{alice}")["amount"] == a

    # Conservation: minted = paid + remainder, and it is exactly what balances and supply gained.
    paid, remainder, minted = int(st["paid"]), int(st["remainder"]), int(st["minted"])
    assert paid == 2_100_000 and remainder == 1 and minted == paid + remainder == SUBSIDY + int(st["bonus_total"])
    after = {k: node.balance(addr) for k, addr in (("alice", alice), ("bob", bob), ("carol", carol), ("pool", pool))}
    assert after["alice"] - before["alice"] == 1_100_000
    assert after["bob"] - before["bob"] == 1_000_000
    assert after["carol"] == before["carol"]
    assert after["pool"] - before["pool"] == remainder
    assert supply(node) - supply_before == minted

    # The event is in the settlement block.
    status, block = node.block(settle_height)
    assert status == 200
    settled = [{x["key"]: x["value"] for x in ev["attributes"]} for ev in block["events"] if ev["type"] == "epoch_settled"]
    assert settled == [{"epoch_index": str(epoch), "subsidy": str(SUBSIDY), "paid": "2100000", "bonus_total": "100000",
                        "remainder": "1", "minted": "2100001"}], settled
