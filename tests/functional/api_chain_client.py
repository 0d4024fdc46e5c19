"""dapi's chain client against a real solo chain node: api_chain (through the chain_client_probe tool) follows
blocks over the event stream, signs and broadcasts two bank sends back to back with one local sequence, waits
for their inclusion and reads the balance change; the node's own RPC confirms every number."""
import json
import os
import subprocess

from framework.chain import ChainNode
from framework.process import binary


def probe_binary():
    return binary("chain_client_probe")


def validator_private_key(node):
    with open(os.path.join(node.home, "keyring", "keys.json")) as f:
        keys = json.load(f)["keys"]
    return next(k["private_key"] for k in keys if k["name"] == "validator")


def test_chain_client_follows_blocks_and_sends_txs(workdir, procs):
    node = ChainNode(workdir, chain_id="t", block_time_ms=200).init("--preset", "localnet").start(procs)
    bob = node.add_key("bob")
    validator = node.address("validator")

    r = subprocess.run([probe_binary(), node.url, bob, "1000"], input=validator_private_key(node) + "\n",
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    out = json.loads(r.stdout)

    assert out["chain_id"] == "t"
    assert out["sender"] == validator
    assert out["tx_codes"] == [0, 0]
    assert out["balance_before"] == 0
    assert out["balance_after"] == 2000
    assert node.balance(bob) == 2000
    # Blocks arrived in order, without gaps or duplicates, from the height after the start, up to both txs.
    heights = out["followed_heights"]
    assert heights == list(range(out["start_height"] + 1, out["start_height"] + 1 + len(heights)))
    assert heights[-1] == out["last_delivered_height"] >= max(out["tx_heights"])
    assert set(out["tx_hashes"]) <= set(out["followed_tx_hashes"])
    for h, tx_hash in zip(out["tx_heights"], out["tx_hashes"]):
        assert tx_hash in [t["hash"] for t in node.block(h)[1]["txs"]]
    account = node.query(f"/auth/accounts/{validator}")
    assert int(account["sequence"]) == out["sender_sequence"]
    assert out["mlnode_version"] == node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
    assert out["governance_models"] == len(node.query("/inference/governance/models")["models"])
