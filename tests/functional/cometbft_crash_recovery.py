"""Crash recovery under real CometBFT, 4 validators under load.

1. kill -9 of one validator's app and of its CometBFT mid-run: the other three keep producing blocks; on restart
   CometBFT's handshake (Info) finds where the app stopped, and the node catches up with the same app hash as the
   others at every height.
2. Replay: the same validator's app state is rolled back to an older copy (as after a restore from backup) and
   both are killed again; on restart Info reports the old height, CometBFT replays the blocks it has stored
   (FinalizeBlock + Commit each) and the app arrives at exactly the app hashes CometBFT recorded.
"""
import os
import re
import shutil

from framework.cometbft import Network, Traffic


def replay_lines(validator):
    return re.findall(r"ABCI Replay Blocks.*appHeight=(\d+) storeHeight=(\d+)", validator.comet_process.log())


def test_kill9_validator_replays_and_catches_up(workdir, procs):
    net = Network(workdir, 4).start(procs)
    survivors, victim = net.validators[:3], net[3]
    recipients = [v.add_key("recipient") for v in survivors]
    state_dir = os.path.join(victim.home, "data", "state")
    backup = os.path.join(workdir, "victim-state-backup")
    with Traffic(survivors, recipients) as traffic:
        net.wait_height(8)
        code, _, err = victim.send("validator", recipients[0], "1000nicoin")
        assert code == 0, err
        down_at = victim.height()
        victim.kill9()  # app first, then its CometBFT: no clean shutdown of either

        # 3 of 4 validators (300 of 400 power) still make blocks.
        net.wait_height(down_at + 15, nodes=survivors, timeout=180)
        victim.start(procs)
        restarted_at = victim.height()
        assert restarted_at >= down_at - 1  # nothing committed was lost
        net.wait_height(max(net.heights(survivors)) + 3, timeout=300)

        # Phase 2: keep a copy of the app state (closed cleanly), run on, then crash and restore the copy.
        backup_height = victim.height()  # the copy may hold one more block, committed while stopping
        assert victim.stop() == (0, 0)
        shutil.copytree(state_dir, backup)
        victim.start(procs)
        net.wait_height(max(net.heights(survivors)) + 10, timeout=300)
        victim.kill9()
        shutil.rmtree(state_dir)
        shutil.copytree(backup, state_dir)
        victim.start(procs)
        net.wait_height(max(net.heights(survivors)) + 5, timeout=300)
    assert not traffic.errors, traffic.errors[:5]

    net.wait_caught_up()
    top = min(net.heights())
    net.assert_same_app_hashes(top)
    net.assert_headers_carry_app_hashes(range(top - 5, top), node=victim)
    for v in net.validators:  # survivor i sent to recipients[i]; the victim's 1000 went to recipients[0]
        assert v.balance(recipients[0]) == traffic.sent[survivors[0].name] + 1000, v.name

    app_height, store_height = map(int, replay_lines(victim)[-1])
    assert backup_height <= app_height <= backup_height + 1, (app_height, backup_height)
    assert store_height >= app_height + 5, (app_height, store_height)  # ran 10 blocks past the copy
    print(f"kill -9 at height {down_at}, restarted at {restarted_at}; after restoring the app state of height "
          f"{app_height}, CometBFT replayed {store_height - app_height} stored blocks into it; all 4 agree on "
          f"every app hash up to {top}")
