"""Partial upgrades on chain through the CLI of the upgrade seed (`tx inference partial-upgrade HEIGHT VERSION JSON
--title --summary --deposit --from`): a malformed version or JSON is refused at submission; a proposal whose height is
past when it executes fails and changes nothing; two passed upgrades (proposed out of order) switch
/inference/mlnode-version exactly at their heights, in height order, with `mlnode_version_changed` in exactly those
blocks. The version at a height is observed live: a query bracketed by two /status calls that report the same
committed height shows the state of that height."""
from framework.chain import ChainNode, event_value, wait_final

BLOCK_MS = 200


def propose_upgrade(node, height, version, binaries=""):
    _, r, _ = node.tx("inference", "partial-upgrade", height, version, binaries, "--title", f"MLNode {version}",
                      "--summary", "side-by-side upgrade", "--deposit", "10000nicoin", "--from", "validator")
    pid = int(event_value(r, "submit_proposal", "proposal_id"))
    node.tx("gov", "vote", pid, "yes", "--from", "validator")
    return pid


def version_changes(node, h):
    """The mlnode_version_changed events of block h as dicts."""
    status, block = node.block(h)
    assert status == 200, block
    return [{a["key"]: a["value"] for a in e["attributes"]} for e in block["events"]
            if e["type"] == "mlnode_version_changed"]


def observe_versions(node, until):
    """Polls the version until height `until` is committed; returns {height: version} for every height observed
    with a query bracketed by the same committed height (and asserts all observations of a height agree)."""
    seen = {}
    while True:
        before = node.height()
        v = node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"]
        after = node.height()
        if before == after:
            assert seen.setdefault(before, v) == v, (before, seen[before], v)
        if after >= until:
            return seen


def test_partial_upgrade_switches_mlnode_version_at_height(workdir, procs):
    node = ChainNode(workdir, block_time_ms=BLOCK_MS).init("--preset", "localnet")
    node.start(procs)
    assert node.query("/inference/mlnode-version")["mlnode_version"] == {"current_mlnode_version": "v3.0.8"}
    assert node.cli_json("query", "inference", "mlnode-version", *node.client_flags())["mlnode_version"][
        "current_mlnode_version"] == "v3.0.8"
    voting_period = node.query("/gov/params")["params"]["voting_period"]
    balance = node.balance("validator")

    # 1. Malformed version / JSON: refused at submission (code 18), nothing proposed, deposit untouched.
    for version, binaries, what in (("3.0.9", "", "node_version"), ("v3.0", "", "node_version"),
                                    ("v3.0.9/../x", "", "node_version"), ("v3.0.9", "[1]", "api_binaries_json"),
                                    ("v3.0.9", "{oops", "api_binaries_json")):
        code, r, err = node.tx("inference", "partial-upgrade", node.height() + 100, version, binaries, "--title", "bad",
                               "--deposit", "10000nicoin", "--from", "validator", check=False)
        assert code != 0 and r["code"] == 18 and what in r["log"] and "MsgCreatePartialUpgrade" in r["log"], (r, err)
    assert node.query("/gov/proposals")["proposals"] == []
    assert node.balance("validator") == balance

    # 2. A past height (2) and a height that is future at submission but past at execution: both proposals pass
    #    the vote and fail at execution; no record, version unchanged.
    past = propose_upgrade(node, 2, "v3.0.9")
    late = propose_upgrade(node, node.height() + 3, "v3.0.9")
    for pid in (past, late):
        p = wait_final(node, pid)
        assert p["status"] == "PROPOSAL_STATUS_FAILED", p
        assert "is not in the future" in p["failed_reason"], p
    assert node.query("/inference/partial-upgrades")["partial_upgrades"] == []
    assert node.query("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"] == "v3.0.8"

    # 3. Two upgrades, the later one proposed first; both pass.
    h1 = node.height() + voting_period + 25
    h2 = h1 + 6
    binaries = '{"api_binaries": {"linux/amd64": "https://example.invalid/dapi-v2.zip"}}'
    p2 = propose_upgrade(node, h2, "v3.2.0-rc1", binaries)
    p1 = propose_upgrade(node, h1, "v3.1.0")
    for pid in (p2, p1):
        p = wait_final(node, pid)
        assert p["status"] == "PROPOSAL_STATUS_PASSED", p
    assert node.height() < h1 - 3, "proposals passed too late for the observation window"
    pending = node.cli_json("query", "inference", "partial-upgrades", "--status", "pending",
                            *node.client_flags())["partial_upgrades"]
    assert [(u["height"], u["node_version"], u["api_binaries_json"]) for u in pending] == [
        (h1, "v3.1.0", ""), (h2, "v3.2.0-rc1", binaries)], pending
    assert node.query("/inference/mlnode-version")["next_upgrade"]["height"] == h1

    seen = observe_versions(node, h2 + 2)
    expected = {h: ("v3.0.8" if h < h1 else "v3.1.0" if h < h2 else "v3.2.0-rc1") for h in seen}
    assert seen == expected, (h1, h2, seen)
    # Exactly one block before and at each switch must have been observed.
    for h in (h1 - 1, h1, h2 - 1, h2):
        assert h in seen, (h, sorted(seen))
    print(f"observed versions at heights {min(seen)}..{max(seen)}; switches at {h1} and {h2}")

    # The event is in the switch blocks and in no other block around them.
    for h in range(h1 - 2, h2 + 3):
        changes = version_changes(node, h)
        if h == h1:
            assert changes == [{"old": "v3.0.8", "new": "v3.1.0", "height": str(h1)}], changes
        elif h == h2:
            assert changes == [{"old": "v3.1.0", "new": "v3.2.0-rc1", "height": str(h2)}], changes
        else:
            assert changes == [], (h, changes)

    applied = node.query("/inference/partial-upgrades?status=applied")["partial_upgrades"]
    assert [(u["height"], u["previous_mlnode_version"]) for u in applied] == [(h1, "v3.0.8"), (h2, "v3.1.0")]
    assert node.query(f"/inference/partial-upgrades/{h2}")["partial_upgrade"]["status"] == "applied"
    assert node.query("/inference/mlnode-version") == {
        "mlnode_version": {"current_mlnode_version": "v3.2.0-rc1"}, "next_upgrade": None}
    assert node.balance("validator") == balance  # every deposit returned (passed and failed proposals)
