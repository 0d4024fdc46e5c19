"""dapi started while its chain node is down (issue 11 "chain unreachable at start → retries with a clear message"):
it stays up and keeps retrying, each attempt logged with what it tries (GET <url>/status), why it failed and what
the operator can do (start inferenced, or fix chain_node.url in config.yaml); once the chain node comes up on that
URL it proceeds normally: it registers its participant with its public URL, puts its node on the chain's hardware
record, drives its MLNode through the epoch and follows the chain block by block; its /metrics then show height,
epoch, phase, the node's state, the registration and hardware diff included and no tx failure (issue 11 item 11)."""
import json
import os
import re

from framework import wait_until
from framework.chain import ChainNode
from framework.dapi import Dapi, node_entry
from framework.mlnode import MlNode

Q7B = "Qwen/Qwen2.5-7B-Instruct"
MLNODE_VERSION = "v3.0.8"  # the chain's default current_mlnode_version (x/upgrade kDefaultMLNodeVersion)


def test_dapi_waits_for_an_unreachable_chain_then_joins_and_follows(workdir, procs):
    node = ChainNode(workdir, block_time_ms=200).init("--preset", "localnet")
    with open(os.path.join(node.home, "config", "genesis.json")) as f:
        genesis = json.load(f)
    version = genesis["app_state"].get("upgrade", {}).get("current_mlnode_version") or MLNODE_VERSION
    dapi = Dapi(procs, workdir, node, "alice").init()
    node.cli("genesis", "add-account", dapi.address, "1000000nicoin", "--home", node.home)
    mlnode = MlNode(procs, workdir, version, ["--threads", "1"], name="mlnode-alice-0").start()
    entry = node_entry("alice-node-0", mlnode, [Q7B])
    dapi.configure([entry])

    # The chain node is not running: dapi starts, keeps retrying and says why and what to do.
    dapi.process.start()
    retry = re.compile(r"waiting for the chain node: GET (\S+)/status \(attempt (\d+)\) failed: (.+?); retrying "
                       r"every (\d+) ms\. .*start inferenced .*fix chain_node\.url in (\S+config\.yaml)")
    attempts = wait_until(lambda: len(retry.findall(dapi.process.log())) >= 3 and retry.findall(dapi.process.log()),
                          timeout=30, what="three logged attempts to reach the chain node")
    url, attempt, why, every, config = attempts[-1]
    assert url == node.url and int(attempt) >= 3 and every == "200", attempts[-1]
    assert "refused" in why.lower() or "connect" in why.lower(), why
    assert config == os.path.join(dapi.home, "config.yaml"), config
    assert dapi.process.alive(), dapi.process.log()[-2000:]
    assert "following blocks" not in dapi.process.log()

    # The chain comes up on that URL: dapi proceeds without a restart.
    node.start(procs)
    wait_until(dapi.health, timeout=60, what="dapi to serve /health once the chain answers")
    assert re.search(r"chain node \S+ reachable: chain test-chain at height \d+", dapi.process.log())

    def registered():
        return any(p["address"] == dapi.address
                   for p in node.query("/inference/participants").get("participants") or [])
    wait_until(registered, timeout=30, what="the participant registration")
    p = node.query(f"/inference/participants/{dapi.address}")
    assert p.get("participant", p)["url"] == dapi.public_url, p
    wait_until(lambda: [n["local_id"] for n in node.query(f"/inference/hardware-nodes/{dapi.address}")["nodes"]]
               == ["alice-node-0"], timeout=30, what="the hardware record of alice-node-0")
    # Localnet epochs are 30 blocks of 200 ms, so the node moves between serving and PoC: either is the broker at
    # work; FAILED or UNKNOWN is not.
    wait_until(lambda: dapi.nodes()["alice-node-0"]["state"].get("status") in ("INFERENCE", "POC"), timeout=60,
               what="the broker to drive the MLNode")

    # It follows the chain block by block: its height keeps up with the chain's.
    h = node.height()
    wait_until(lambda: dapi.metric("dapi_block_height") >= h + 3, timeout=30, what="dapi to follow new blocks")
    assert dapi.process.alive()

    # /metrics (issue 11 item 11): height, epoch, phase, per-node state, what reached the chain, no tx failure.
    text = dapi.metrics()
    assert re.search(r'^dapi_phase\{phase="\w+"\} 1$', text, re.M), text
    assert re.search(r'^dapi_epoch_index \d+$', text, re.M), text
    assert re.search(r'^dapi_node_state\{node="alice-node-0",state="(INFERENCE|POC|STOPPED)"\} 1$', text, re.M), text
    assert dapi.metric("dapi_tx_messages_included_total", kind="new_participant") == 1
    assert dapi.metric("dapi_tx_messages_included_total", kind="hardware_diff") >= 1
    assert dapi.metric_sum("dapi_tx_failures_total") == 0, text
