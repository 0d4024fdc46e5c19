#include "chain/app/app.h"

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "chain/store/memory_store.h"
#include "chain/x/auth/auth.h"

using namespace chain;

namespace {
class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice = test::make_account(1);
    bob = test::make_account(2);
    ASSERT_TRUE(app.init_chain(test::make_genesis({alice}, 1000)));
  }
  app::FinalizeResult block(const std::vector<std::string>& txs) {
    auto r = app.finalize_block(test::block_at(app.info().height + 1), txs);
    app.commit();
    return r;
  }
  uint64_t bal(const test::TestAccount& a) { return x::bank::balance(store, a.address, "nicoin"); }

  store::MemoryStore store;
  app::App app{store};
  test::TestAccount alice, bob;
};
}  // namespace

TEST_F(AppTest, GenesisFundsAccountsAndCommitsWithFirstBlock) {
  EXPECT_EQ(store.last_commit().height, 0u);
  block({});
  EXPECT_EQ(store.last_commit().height, 1u);
  EXPECT_EQ(bal(alice), 1000u);
  EXPECT_EQ(x::bank::supply(store, "nicoin"), 1000u);
}

TEST_F(AppTest, SendMovesFundsAndBumpsSequence) {
  block({});
  std::string tx = test::send_tx(alice, bob, 300);
  EXPECT_EQ(app.check_tx(tx).code, 0u);
  auto r = block({tx});
  ASSERT_EQ(r.tx_results.size(), 1u);
  EXPECT_EQ(r.tx_results[0].code, 0u) << r.tx_results[0].log;
  EXPECT_EQ(bal(alice), 700u);
  EXPECT_EQ(bal(bob), 300u);
  EXPECT_EQ(x::auth::get_account(store, alice.address)->sequence(), 1u);
}

TEST_F(AppTest, CheckTxRejectsBadInputWithClearCodes) {
  block({});
  // Wrong sequence.
  alice.sequence = 5;
  auto r = app.check_tx(test::send_tx(alice, bob, 1));
  EXPECT_EQ(r.code, codes::kWrongSequence);
  EXPECT_NE(r.log.find("expected 0, got 5"), std::string::npos);
  alice.sequence = 0;
  // Bad signature: flip a byte of the signature.
  std::string tx = test::send_tx(alice, bob, 1);
  inference::tx::Tx parsed;
  parsed.ParseFromString(tx);
  std::string sig = parsed.signature();
  sig[5] ^= 1;
  parsed.set_signature(sig);
  EXPECT_EQ(app.check_tx(parsed.SerializeAsString()).code, codes::kUnauthorized);
  // Wrong chain id.
  alice.sequence = 0;
  EXPECT_EQ(app.check_tx(test::send_tx(alice, bob, 1, "other-chain")).code, codes::kUnauthorized);
  // Malformed bytes and oversize.
  EXPECT_EQ(app.check_tx("garbage").code, codes::kTxDecode);
  EXPECT_EQ(app.check_tx(std::string(2 << 20, 'x')).code, codes::kTxTooLarge);
  // Unfunded signer.
  auto carol = test::make_account(3);
  EXPECT_EQ(app.check_tx(test::send_tx(carol, bob, 1)).code, codes::kUnknownAddress);
}

TEST_F(AppTest, CheckStateTracksPendingSequencesAndResetsAfterCommit) {
  block({});
  std::string t0 = test::send_tx(alice, bob, 1);
  std::string t1 = test::send_tx(alice, bob, 1);
  EXPECT_EQ(app.check_tx(t0).code, 0u);
  EXPECT_EQ(app.check_tx(t1).code, 0u);
  EXPECT_EQ(app.check_tx(t1).code, codes::kWrongSequence);  // duplicate
  block({t0});
  EXPECT_EQ(app.check_tx(t1).code, 0u);  // recheck after commit
}

TEST_F(AppTest, FailedMessageLeavesNoEffectButConsumesSequence) {
  block({});
  std::string too_much = test::send_tx(alice, bob, 5000);
  std::string ok = test::send_tx(alice, bob, 10);
  auto r = block({too_much, ok});
  EXPECT_EQ(r.tx_results[0].code, codes::kInsufficientFunds);
  EXPECT_NE(r.tx_results[0].log.find("insufficient funds"), std::string::npos);
  EXPECT_EQ(r.tx_results[1].code, 0u);
  EXPECT_EQ(bal(alice), 990u);
  EXPECT_EQ(bal(bob), 10u);
  // Replaying the failed tx is impossible: its sequence is spent.
  auto replay = block({too_much});
  EXPECT_EQ(replay.tx_results[0].code, codes::kWrongSequence);
}

TEST_F(AppTest, SenderMustBeSigner) {
  block({});
  inference::bank::MsgSend msg;
  msg.set_from_address(bob.bech32);
  msg.set_to_address(alice.bech32);
  auto* c = msg.add_amount();
  c->set_denom("nicoin");
  c->set_amount("1");
  std::string tx = common::tx::build_signed_tx({{"/inference.bank.MsgSend", msg.SerializeAsString()}}, "", 0,
                                               alice.key, 0, test::kChainId);
  EXPECT_EQ(app.check_tx(tx).code, codes::kUnauthorized);
}

TEST_F(AppTest, QueriesReadCommittedState) {
  block({test::send_tx(alice, bob, 7)});
  auto r = app.query("/bank/balances/" + bob.bech32, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)["balances"][0]["amount"], "7");
  EXPECT_EQ(app.query("/auth/accounts/" + alice.bech32, {}).value()["sequence"], "1");
  EXPECT_FALSE(app.query("/bank/balances/nonsense", {}));
  EXPECT_EQ(app.query("/nope", {}).error().code, codes::kUnknownRequest);
}

TEST_F(AppTest, RestartResumesFromCommittedState) {
  block({test::send_tx(alice, bob, 7)});
  app::App reopened(store);
  EXPECT_EQ(reopened.chain_id(), test::kChainId);
  EXPECT_EQ(reopened.info().height, 1u);
  EXPECT_EQ(reopened.check_tx(test::send_tx(alice, bob, 1)).code, 0u);
}
