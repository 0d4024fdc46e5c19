"""Solo chain node end to end: blocks advance, a bank send moves funds, bad txs are refused with clear codes
and change nothing, and a node killed with SIGKILL restarts with the same history and keeps going."""
import base64
import os

from framework import post_json, http_request, wait_until
from framework.chain import ChainNode


def signed_send(node, frm, to, amount, sequence=None):
    args = ["tx", "bank", "send", frm, to, amount, *node.client_flags(), "--generate-only"]
    if sequence is not None:
        args += ["--sequence", str(sequence)]
    return node.cli_json(*args)["tx"]


def test_solo_node_lifecycle(workdir, procs):
    node = ChainNode(workdir).init()
    assert oct(os.stat(os.path.join(node.home, "keyring", "keys.json")).st_mode & 0o777) == "0o600"
    node.start(procs)
    h0 = node.height()
    node.wait_height(h0 + 3)

    validator = node.address("validator")
    bob = node.add_key("bob")
    v_before = node.balance(validator)
    assert node.balance(bob) == 0

    # A bank send through the CLI: signs, broadcasts, waits for the block.
    code, out, err = node.send("validator", bob, "12345nicoin")
    assert code == 0, err
    assert node.balance(bob) == 12345
    assert node.balance(validator) == v_before - 12345

    # Bad transactions get a clear non-zero code and change nothing.
    v_mid = node.balance(validator)
    good = base64.b64decode(signed_send(node, "validator", bob, "5nicoin"))
    bad_sig = good[:-1] + bytes([good[-1] ^ 1])  # the 64-byte signature is the last field
    cases = {
        "bad signature": (bad_sig, 4, "signature verification failed"),
        "wrong sequence": (base64.b64decode(signed_send(node, "validator", bob, "5nicoin", sequence=77)), 32,
                           "sequence mismatch"),
        "malformed bytes": (b"\x0a\xff\x01garbage", 2, "parse error"),
        "oversize tx": (b"\x0a" + os.urandom(1 << 20 | 100), 21, "too large"),
    }
    for name, (raw, want_code, want_text) in cases.items():
        status, body = post_json(node.url + "/txs", {"tx": base64.b64encode(raw).decode()})
        assert status == 200, (name, body)
        assert body["code"] == want_code, (name, body)
        assert want_text in body["log"], (name, body)
    # A string field holding invalid UTF-8 (one byte of bob's address): refused every time, and protobuf's own
    # complaint reaches the node's log once, not once per tx (a stranger could otherwise flood the log).
    at = good.find(bob.encode())
    assert at > 0
    bad_utf8 = good[:at + 5] + b"\xff" + good[at + 6:]
    for _ in range(200):
        status, body = post_json(node.url + "/txs", {"tx": base64.b64encode(bad_utf8).decode()})
        assert status == 200 and body["code"] != 0, body
    utf8_lines = [l for l in node.process.log().splitlines() if "invalid UTF-8" in l]
    assert 1 <= len(utf8_lines) <= 2, utf8_lines
    # Request-level errors are HTTP errors with a message.
    status, body = post_json(node.url + "/txs", {"tx": "%%%"})
    assert status == 400 and "base64" in body["error"]["message"]
    status, text = http_request("POST", node.url + "/txs", body=b"{not json")
    assert status == 400
    status, text = http_request("POST", node.url + "/txs", body=b"x" * (9 << 20))
    assert status == 413
    node.wait_height(node.height() + 2)
    assert node.balance(validator) == v_mid
    assert node.balance(bob) == 12345

    # The good tx still works afterwards (nothing consumed its sequence).
    status, body = post_json(node.url + "/txs", {"tx": base64.b64encode(good).decode()})
    assert body["code"] == 0, body
    wait_until(lambda: node.balance(bob) == 12350, what="the good tx to land")

    # kill -9 mid-run, restart: same app hash at every old height, then it keeps going.
    node.wait_height(node.height() + 2)
    top = node.height()
    before = {h: node.block(h)[1]["app_hash"] for h in range(1, top + 1)}
    node.process.kill9()
    node.start(procs)
    after_restart = node.height()
    assert after_restart >= top
    for h, app_hash in before.items():
        status, block = node.block(h)
        assert status == 200, (h, block)
        assert block["app_hash"] == app_hash, f"app hash changed at height {h}"
    node.wait_height(after_restart + 3)
    assert node.balance(bob) == 12350
    # Clean shutdown on SIGTERM.
    assert node.process.stop() == 0
