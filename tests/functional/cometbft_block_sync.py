"""A validator stopped for a while (clean stop) while the other three go on; restarted, it catches up with
CometBFT's block sync (FinalizeBlock + Commit for every missed block) and agrees on every app hash."""
from framework import wait_until
from framework.cometbft import Network, Traffic

MISSED_BLOCKS = 30


def test_stopped_validator_catches_up_by_block_sync(workdir, procs):
    net = Network(workdir, 4).start(procs)
    others, late = net.validators[:3], net[3]
    recipients = [v.add_key("recipient") for v in others]
    with Traffic(others, recipients) as traffic:
        net.wait_height(5)
        stopped_at = late.height()
        assert late.stop() == (0, 0)  # CometBFT, then the app: both exit cleanly
        net.wait_height(stopped_at + MISSED_BLOCKS, nodes=others, timeout=300)

        late.start(procs)
        target = max(net.heights(others))
        wait_until(lambda: late.height() >= target, timeout=300, interval=0.2, what="the late validator to catch up")
    assert not traffic.errors, traffic.errors[:5]

    net.wait_caught_up()

    log = late.comet_process.log().lower()
    assert "module=blocksync" in log and "switch to consensus" in log, "no block sync in the restarted CometBFT"
    top = min(net.heights())
    assert top >= stopped_at + MISSED_BLOCKS
    net.assert_same_app_hashes(top)
    for r in recipients:
        assert len({v.balance(r) for v in net.validators}) == 1
    print(f"stopped at {stopped_at}, caught up {target - stopped_at} blocks by block sync; all agree up to {top}")
