"""One validator under real CometBFT: blocks advance, a bank send goes through POST /txs -> broadcast_tx_sync ->
CheckTx -> a block, queries answer from app state (our RPC and CometBFT's abci_query), CometBFT's headers carry
our app hashes, block events stream from FinalizeBlock/Commit, and both processes stop cleanly."""
import base64
import json
import socket
import urllib.request

from framework import post_json, wait_until
from framework.cometbft import Network


def test_single_validator(workdir, procs):
    net = Network(workdir, 1).start(procs)
    v = net[0]
    status = v.status()
    assert status["mode"] == "cometbft"
    h0 = v.height()
    v.wait_height(h0 + 3)
    assert v.comet_height() >= h0 + 3

    # A bank send through the CLI: signed locally, POST /txs on our RPC, forwarded to CometBFT.
    validator = v.address("validator")
    bob = v.add_key("bob")
    before = v.balance(validator)
    code, out, err = v.send("validator", bob, "4321nicoin")
    assert code == 0, err + out
    result = json.loads(out)
    assert result["code"] == 0
    assert v.balance(bob) == 4321
    assert v.balance(validator) == before - 4321
    # CometBFT indexed the same tx, with our events (its indexer runs just after the commit).
    tx = wait_until(lambda: v.comet("tx", hash="0x" + result["hash"]), timeout=10, what="CometBFT's tx index")
    assert int(tx["height"]) == result["height"]
    assert tx["tx_result"]["code"] == 0
    assert any(e["type"] == "tx" for e in tx["tx_result"]["events"])

    # Queries: our RPC and CometBFT's abci_query (ABCI Query) agree; abci_info reports the committed height.
    q = v.comet("abci_query", path=f"/bank/balances/{bob}")["response"]
    assert q["code"] == 0
    assert json.loads(base64.b64decode(q["value"]))["balances"] == [{"amount": "4321", "denom": "nicoin"}]
    missing = v.comet("abci_query", path="/no/such/path")["response"]
    assert missing["code"] != 0 and "unknown query path" in missing["log"]
    info = v.comet("abci_info")["response"]
    assert int(info["last_block_height"]) >= result["height"]

    # CheckTx runs in our app: a bad signature is refused with its code and never reaches a block.
    raw = base64.b64decode(v.cli_json("tx", "bank", "send", "validator", bob, "5nicoin", *v.client_flags(),
                                      "--generate-only")["tx"])
    bad = raw[:-1] + bytes([raw[-1] ^ 1])
    status_code, body = post_json(v.url + "/txs", {"tx": base64.b64encode(bad).decode()})
    assert status_code == 200 and body["code"] == 4 and "signature" in body["log"], body
    # The good one goes through, and the same bytes again are a mempool duplicate or already committed.
    status_code, body = post_json(v.url + "/txs", {"tx": base64.b64encode(raw).decode()})
    assert body["code"] == 0, body
    wait_until(lambda: v.balance(bob) == 4326, what="the second send to land")

    # CometBFT's header at h+1 carries our app hash after h, for every height so far.
    top = v.height()
    net.assert_headers_carry_app_hashes(range(1, top))

    # Block events (server-sent events) come from FinalizeBlock and are published after Commit.
    start = v.height() + 1
    with urllib.request.urlopen(f"{v.url}/events/blocks?from={start}", timeout=30) as stream:
        events = []
        for line in stream:
            line = line.decode().strip()
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == 3:
                    break
    assert [e["height"] for e in events] == [start, start + 1, start + 2]
    assert all(e["app_hash"] == v.app_hash(e["height"]) for e in events)

    # Clean shutdown: CometBFT, then the app, both exit 0.
    assert v.stop() == (0, 0)

    # Restart: Info reports the last commit and CometBFT goes on from there (no InitChain).
    v.start(procs)
    v.wait_height(v.height() + 2)
    assert v.app.log().count("abci: InitChain") == 1

    # A broken stream on a connection that speaks ABCI is fatal: clear log, the app exits non-zero, and
    # CometBFT (which stops when its app goes) follows; a supervisor restarts both.
    with socket.create_connection(("127.0.0.1", v.spec["ports"]["abci"]), timeout=10) as s:
        s.sendall(bytes.fromhex("060a040a026869" "021200"))  # Echo "hi", Flush
        assert s.recv(100).startswith(bytes.fromhex("0612040a026869"))  # Echo "hi" back
        s.sendall(bytes.fromhex("ffffffffffffffffff02"))  # a length prefix over 64 bits
        wait_until(lambda: not v.app.alive(), timeout=15, what="inferenced to exit")
    assert v.app.proc.returncode == 1
    log = v.app.log()
    assert "ABCI protocol error on connection" in log and "frame length prefix overflows 64 bits" in log
    assert "stopped because the ABCI connection failed" in log
    # CometBFT must notice that its app is gone and begin to stop on its own. Its own shutdown can then hang when a
    # proposal arrives while it stops (a CometBFT v0.38 behaviour, seen under load); a supervisor kills it then.
    wait_until(lambda: "connection terminated. Did the application crash?" in v.comet_process.log(), timeout=30,
               what="CometBFT to notice that its app is gone")
    try:
        wait_until(lambda: not v.comet_process.alive(), timeout=30, what="CometBFT to stop after its app")
    except TimeoutError:
        assert "Stopping Node" in v.comet_process.log(), "CometBFT noticed the dead app but did not begin to stop"
        v.comet_process.kill9()
