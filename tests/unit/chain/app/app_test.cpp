#include "chain/app/app.h"

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "chain/store/memory_store.h"
#include "chain/x/auth/auth.h"
#include "common/events.h"

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

TEST(AppQueryHeight, AnswersFromTheStateAtAKeptHeightAndRefusesOthers) {
  // Issue 13 fault 9: ?height=N answered the latest state. Now it is N's state, or kInvalidHeight.
  store::MemoryStore store(/*history=*/2);
  app::App app{store};
  auto alice = test::make_account(1), bob = test::make_account(2);
  ASSERT_TRUE(app.init_chain(test::make_genesis({alice}, 1000)));
  auto block = [&](const std::vector<std::string>& txs) {
    app.finalize_block(test::block_at(app.info().height + 1), txs);
    app.commit();
  };
  block({});                                // 1: bob has nothing
  block({test::send_tx(alice, bob, 100)});  // 2: bob 100
  block({});                                // 3
  block({test::send_tx(alice, bob, 20)});   // 4: bob 120
  auto balance_at = [&](const std::string& height, uint64_t* answered = nullptr) {
    std::map<std::string, std::string> params;
    if (!height.empty()) params["height"] = height;
    return app.query("/bank/balances/" + bob.bech32, params, answered);
  };
  auto amount = [](const common::Result<nlohmann::json>& r) -> std::string {
    const auto& b = r->at("balances");
    return b.empty() ? "0" : b[0].at("amount").get<std::string>();
  };
  uint64_t answered = 0;
  auto latest = balance_at("", &answered);
  ASSERT_TRUE(latest);
  EXPECT_EQ(amount(latest), "120");
  EXPECT_EQ(answered, 4u);
  EXPECT_EQ(amount(balance_at("0")), "120");
  auto at2 = balance_at("2", &answered);
  ASSERT_TRUE(at2) << at2.error().message;
  EXPECT_EQ(amount(at2), "100");
  EXPECT_EQ(answered, 2u);
  EXPECT_EQ(amount(balance_at("3")), "100");
  for (std::string bad : {"1", "5", "99999999999999999999", "18446744073709551616", "-1", "0x2", "", "2 "}) {
    if (bad.empty()) continue;
    auto r = balance_at(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, codes::kInvalidHeight) << bad;
  }
  auto old = balance_at("1");
  EXPECT_NE(old.error().message.find("answers heights 2 to 4"), std::string::npos) << old.error().message;
  EXPECT_NE(balance_at("5").error().message.find("not committed yet; the latest height is 4"),
            std::string::npos);
  // The epoch query computes its phase at the height answered, not at a height it has no state for.
  auto epoch = app.query("/inference/epoch", {{"height", "3"}});
  ASSERT_TRUE(epoch) << epoch.error().message;
  EXPECT_EQ(epoch->at("block_height"), 3u);
}

TEST_F(AppTest, MessagesMustBeCanonicallyEncodedToo) {
  block({});
  inference::bank::MsgSend msg;
  msg.set_from_address(alice.bech32);
  msg.set_to_address(bob.bech32);
  auto* c = msg.add_amount();
  c->set_denom("nicoin");
  c->set_amount("5");
  const std::string canonical = msg.SerializeAsString();
  // Unknown field 9 appended; the signer signs these bytes, so only the canonical-encoding rule can refuse
  // them.
  for (const std::string& value :
       {canonical + std::string("\x48\x01", 2), std::string("\x48\x01", 2) + canonical}) {
    auto tx = common::tx::build_signed_tx({{std::string(x::bank::kMsgSendUrl), value}}, "", 0, alice.key,
                                          alice.sequence, test::kChainId);
    auto r = app.check_tx(tx);
    EXPECT_EQ(r.code, codes::kTxDecode) << r.log;
    EXPECT_NE(r.log.find("not canonically encoded"), std::string::npos) << r.log;
  }
  auto ok = common::tx::build_signed_tx({{std::string(x::bank::kMsgSendUrl), canonical}}, "", 0, alice.key,
                                        alice.sequence, test::kChainId);
  EXPECT_EQ(app.check_tx(ok).code, 0u);
}

TEST_F(AppTest, EachSenderHasABoundedShareOfTheMempool) {
  // Issue 13 fault 7 (node part): one sender could fill the mempool. Now at most N txs / B bytes wait per
  // sender.
  block({test::send_tx(alice, bob, 100)});  // bob gets an account, so he can send too
  auto carol = test::make_account(3);
  app.set_mempool_limits({/*max_txs_per_sender=*/3, /*max_bytes_per_sender=*/1 << 20});
  std::vector<std::string> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(test::send_tx(alice, carol, 1));
    EXPECT_EQ(app.check_tx(waiting.back()).code, 0u) << i;
  }
  auto over = app.check_tx(test::send_tx(alice, carol, 1));
  EXPECT_EQ(over.code, codes::kMempoolFull);
  EXPECT_NE(over.log.find("already has 3 txs"), std::string::npos) << over.log;
  alice.sequence -= 1;  // the refused tx consumed nothing
  // Another sender is not affected.
  EXPECT_EQ(app.check_tx(test::send_tx(bob, carol, 1)).code, 0u);
  bob.sequence -= 1;
  // After a block the sender's share is free again (its waiting txs were included).
  block(waiting);
  auto again = test::send_tx(alice, carol, 1);
  EXPECT_EQ(app.check_tx(again).code, 0u);

  // The byte budget: txs adding up to more than B bytes wait for the next block.
  block({again});
  const std::string probe = test::send_tx(alice, carol, 1);
  alice.sequence -= 1;
  app.set_mempool_limits({100, 2 * probe.size() + 10});
  EXPECT_EQ(app.check_tx(test::send_tx(alice, carol, 1)).code, 0u);
  EXPECT_EQ(app.check_tx(test::send_tx(alice, carol, 1)).code, 0u);
  auto bytes_over = app.check_tx(test::send_tx(alice, carol, 1));
  EXPECT_EQ(bytes_over.code, codes::kMempoolFull) << bytes_over.log;
}

TEST(AppGenesis, EveryGenesisReaderRejectsUnknownKeys) {
  // Issue 13 fault 11: a misspelled schedule param in genesis was silently ignored (the default stayed).
  auto alice = test::make_account(1);
  struct Case {
    nlohmann::json app_state;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{{"schedule", {{"params", {{"inference_expiration_blockz", 5}}}}}}, "inference_expiration_blockz"},
      {{{"schedule", {{"parms", nlohmann::json::object()}}}}, "\"parms\" in app_state.schedule"},
      {{{"epochs", {{"params", nlohmann::json::object()}, {"extra", 1}}}}, "\"extra\" in app_state.epochs"},
      {{{"gov", {{"paramz", nlohmann::json::object()}}}}, "\"paramz\" in app_state.gov"},
      {{{"bank", {{"balance", nlohmann::json::array()}}}}, "\"balance\" in app_state.bank"},
      {{{"bank",
         {{"balances", {{{"address", alice.bech32}, {"coins", nlohmann::json::array()}, {"x", 1}}}}}}},
       "\"x\" in app_state.bank.balances[]"},
      {{{"models", {{"model", nlohmann::json::array()}}}}, "\"model\" in app_state.models"},
      {{{"nodes", {{"participant", nlohmann::json::array()}}}}, "\"participant\" in app_state.nodes"},
      {{{"schedul", nlohmann::json::object()}}, "section \"schedul\" for no module"},
  };
  for (const auto& c : cases) {
    store::MemoryStore store;
    app::App app{store};
    auto g = test::make_genesis({alice}, 1000);
    for (const auto& [k, v] : c.app_state.items()) g.app_state[k] = v;
    auto r = app.init_chain(g);
    ASSERT_FALSE(r) << c.app_state.dump();
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
  // The known spelling still works.
  store::MemoryStore store;
  app::App app{store};
  auto g = test::make_genesis({alice}, 1000);
  g.app_state["schedule"] = {{"params", {{"inference_expiration_blocks", 5}}}};
  EXPECT_TRUE(app.init_chain(g));

  // The genesis file itself.
  auto file = g.to_json();
  EXPECT_TRUE(app::Genesis::from_json(file));
  file["max_tx_byte"] = 5;
  auto bad = app::Genesis::from_json(file);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unknown key \"max_tx_byte\""), std::string::npos)
      << bad.error().message;
  file.erase("max_tx_byte");
  file["validators"][0]["powr"] = 1;
  EXPECT_FALSE(app::Genesis::from_json(file));
}

TEST_F(AppTest, TxEventsUseTheSharedEventNames) {
  block({});
  auto r = block({test::send_tx(alice, bob, 3)});
  ASSERT_EQ(r.tx_results.size(), 1u);
  ASSERT_FALSE(r.tx_results[0].events.empty());
  EXPECT_EQ(r.tx_results[0].events.front().type, common::events::kTx);
  for (const auto& e : r.tx_results[0].events) {
    bool known = false;
    for (const char* name : common::events::kAll) known = known || e.type == name;
    EXPECT_TRUE(known) << e.type;
  }
}
