"""Four validators under real CometBFT: transactions flow through every node at once for 100+ blocks, and all
four report the same app hash at every height (which is also the AppHash in CometBFT's next header)."""
from framework.cometbft import Network, Traffic

TARGET_HEIGHT = 110


def test_four_validators_agree_for_100_blocks(workdir, procs):
    net = Network(workdir, 4).start(procs)
    recipients = [net[i].add_key("recipient") for i in range(4)]
    # node i sends to the recipient key made in node i+1's keyring
    with Traffic(net.validators, recipients[1:] + recipients[:1]) as traffic:
        net.wait_height(TARGET_HEIGHT, timeout=600)
    assert not traffic.errors, traffic.errors[:5]
    assert all(n >= 5 for n in traffic.sent.values()), traffic.sent  # every node carried traffic

    # Everybody sees every transfer.
    net.wait_caught_up()
    for i, r in enumerate(recipients):
        want = traffic.sent[net[(i - 1) % 4].name]
        for v in net.validators:
            assert v.balance(r) == want, (v.name, r, want)

    top = min(net.heights())
    compared = net.assert_same_app_hashes(top)
    assert compared >= 100
    net.assert_headers_carry_app_hashes(range(1, top), node=net[2])
    blocks_with_txs = sum(1 for h in range(1, top + 1) if net[0].block(h)[1]["num_txs"] > 0)
    print(f"{compared} heights with identical app hashes on 4 validators; {sum(traffic.sent.values())} txs "
          f"in {blocks_with_txs} blocks; sent per node {traffic.sent}")
