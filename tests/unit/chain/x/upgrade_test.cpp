#include "chain/x/upgrade/upgrade.h"

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "chain/x/gov/gov.h"

using namespace chain;

namespace {

constexpr uint64_t kUpgradeFunds = 1'000'000;
constexpr uint64_t kUpgradeVotingPeriod = 5;

common::tx::TxMessage create_upgrade(uint64_t height, const std::string& version,
                                     const std::string& json = "",
                                     const std::string& authority = test::gov_address()) {
  x::upgrade::MsgCreatePartialUpgrade msg;
  msg.set_authority(authority);
  msg.set_height(height);
  msg.set_node_version(version);
  msg.set_api_binaries_json(json);
  return test::tx_message(x::upgrade::kMsgCreatePartialUpgradeUrl, msg);
}

std::string submit_proposal(test::TestAccount& from, const std::vector<common::tx::TxMessage>& messages) {
  inference::gov::MsgSubmitProposal msg;
  msg.set_proposer(from.bech32);
  msg.set_title("partial upgrade");
  for (const auto& m : messages) {
    auto* any = msg.add_messages();
    any->set_type_url(m.type_url);
    any->set_value(m.value);
  }
  auto* c = msg.add_deposit();
  c->set_denom("nicoin");
  c->set_amount("10000");
  return test::sign_tx(from, {test::tx_message(x::gov::kMsgSubmitProposalUrl, msg)});
}

std::string vote_yes(test::TestAccount& from, uint64_t id) {
  inference::gov::MsgVote msg;
  msg.set_proposal_id(id);
  msg.set_voter(from.bech32);
  msg.set_option(inference::gov::VOTE_OPTION_YES);
  return test::sign_tx(from, {test::tx_message(x::gov::kMsgVoteUrl, msg)});
}

// One genesis validator (alice, all the voting power); bob is funded without power.
class UpgradeTest : public ::testing::Test {
 protected:
  static app::Genesis genesis() {
    auto g = test::make_genesis({test::make_account(1), test::make_account(2)}, kUpgradeFunds);
    g.app_state["gov"] = {{"params",
                           {{"voting_period", kUpgradeVotingPeriod},
                            {"quorum_bps", 3340},
                            {"threshold_bps", 5000},
                            {"veto_threshold_bps", 3340},
                            {"min_deposit", {{{"denom", "nicoin"}, {"amount", "10000"}}}}}}};
    return g;
  }
  void SetUp() override {
    alice = test::make_account(1);
    bob = test::make_account(2);
    chain = std::make_unique<test::TestChain>(genesis());
    chain->block();
  }
  std::string version() { return x::upgrade::current_mlnode_version(chain->state()); }
  // Submits a proposal holding `messages`, votes yes; returns the proposal id. The proposal executes in
  // EndBlock of its voting_end_height.
  uint64_t propose(const std::vector<common::tx::TxMessage>& messages) {
    auto out = chain->deliver(submit_proposal(alice, messages));
    EXPECT_EQ(out.code, 0u) << out.log;
    auto ids = test::TestChain::event_values(out.events, "submit_proposal", "proposal_id");
    EXPECT_EQ(ids.size(), 1u);
    uint64_t id = ids.empty() ? 0 : std::stoull(ids[0]);
    out = chain->deliver(vote_yes(alice, id));
    EXPECT_EQ(out.code, 0u) << out.log;
    return id;
  }
  x::gov::Proposal proposal(uint64_t id) { return *x::gov::get_proposal(chain->state(), id); }
  // One block; returns its begin/end-block events.
  std::vector<types::Event> next_block() { return chain->block().events; }
  void run_until(uint64_t height) {
    while (chain->height() < height) chain->block();
  }
  nlohmann::json q(const std::string& path, std::map<std::string, std::string> params = {}) {
    auto r = chain->app.query(path, std::move(params));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : nlohmann::json();
  }

  test::TestAccount alice, bob;
  std::unique_ptr<test::TestChain> chain;
};

}  // namespace

TEST(UpgradeVersion, AcceptsVersionsWithOptionalSuffix) {
  for (const char* v :
       {"v3.0.8", "v0.0.0", "v10.20.300", "v3.1.0-rc1", "v3.1.0-rc.1-cuda12", "v999999999.0.1"}) {
    EXPECT_TRUE(x::upgrade::validate_node_version(v)) << v;
  }
}

TEST(UpgradeVersion, RejectsMalformedVersionsWithAClearReason) {
  for (const char* v : {"", "3.0.8", "V3.0.8", "v3.0", "v3", "v3.0.8.1", "v03.0.8", "v3.0.08", "v3.0.8-",
                        "v3.0.8+meta", "v3.0.8/../x", "v3.0.8 ", "v3.0.8-r c", "v3..8", "va.b.c",
                        "v1234567890.0.0", "v3.0.8-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    auto st = x::upgrade::validate_node_version(v);
    ASSERT_FALSE(st) << v;
    EXPECT_EQ(st.error().code, codes::kInvalidRequest);
    EXPECT_NE(st.error().message.find("node_version"), std::string::npos) << st.error().message;
  }
}

TEST(UpgradeVersion, ApiBinariesJsonMustBeEmptyOrAnObject) {
  EXPECT_TRUE(x::upgrade::validate_api_binaries_json(""));
  EXPECT_TRUE(
      x::upgrade::validate_api_binaries_json(R"({"api_binaries": {"linux/amd64": "https://x/y.zip"}})"));
  for (const char* j : {"[]", "\"x\"", "1", "{", "{\"a\":}", "null", "{} {}"}) {
    EXPECT_FALSE(x::upgrade::validate_api_binaries_json(j)) << j;
  }
  EXPECT_FALSE(x::upgrade::validate_api_binaries_json(
      "{\"a\": \"" + std::string(x::upgrade::kMaxApiBinariesJsonBytes, 'x') + "\"}"));
  // Height 0 and a message with neither field are refused; a binaries-only upgrade is fine.
  EXPECT_FALSE(x::upgrade::validate_partial_upgrade(0, "v3.0.9", ""));
  EXPECT_FALSE(x::upgrade::validate_partial_upgrade(10, "", ""));
  EXPECT_TRUE(x::upgrade::validate_partial_upgrade(10, "", "{}"));
}

TEST_F(UpgradeTest, GenesisDefaultIsV308AndGenesisCanSetItAndScheduleUpgrades) {
  EXPECT_EQ(version(), "v3.0.8");
  EXPECT_EQ(q("/inference/mlnode-version")["mlnode_version"]["current_mlnode_version"], "v3.0.8");

  auto g = genesis();
  g.app_state["upgrade"] = {{"current_mlnode_version", "v3.0.6"},
                            {"partial_upgrades", {{{"height", 3}, {"node_version", "v3.0.8"}}}}};
  test::TestChain c(g);
  c.block();
  EXPECT_EQ(x::upgrade::current_mlnode_version(c.state()), "v3.0.6");
  c.block();
  EXPECT_EQ(x::upgrade::current_mlnode_version(c.state()), "v3.0.6");
  auto r = c.block();
  EXPECT_EQ(x::upgrade::current_mlnode_version(c.state()), "v3.0.8");
  EXPECT_EQ(test::TestChain::event_values(r.events, "mlnode_version_changed", "old"),
            std::vector<std::string>{"v3.0.6"});

  for (const auto& bad : {nlohmann::json{{"current_mlnode_version", "3.0.8"}},
                          nlohmann::json{{"partial_upgrades", {{{"height", 0}, {"node_version", "v1.0.0"}}}}},
                          nlohmann::json{{"partial_upgrades", {{{"height", 5}, {"node_version", "vx"}}}}},
                          nlohmann::json{{"partial_upgrades",
                                          {{{"height", 5}, {"node_version", "v1.0.0"}},
                                           {{"height", 5}, {"node_version", "v1.0.1"}}}}},
                          nlohmann::json{{"current_version", "v3.0.8"}}}) {
    auto bg = genesis();
    bg.app_state["upgrade"] = bad;
    store::MemoryStore store;
    app::App a(store);
    auto res = a.init_chain(bg);
    EXPECT_FALSE(res) << bad.dump();
    if (!res) {
      EXPECT_NE(res.error().message.find("genesis upgrade"), std::string::npos) << res.error().message;
    }
  }
}

TEST_F(UpgradeTest, DirectMessageFromAnAccountIsRejectedWhateverAuthorityItNames) {
  auto out = chain->deliver(test::sign_tx(bob, {create_upgrade(100, "v3.0.9")}));
  EXPECT_EQ(out.code, codes::kUnauthorized);
  EXPECT_NE(out.log.find("governance proposal"), std::string::npos) << out.log;
  chain->sync(bob);
  out = chain->deliver(test::sign_tx(bob, {create_upgrade(100, "v3.0.9", "", bob.bech32)}));
  EXPECT_EQ(out.code, codes::kUnauthorized);
  EXPECT_NE(out.log.find("invalid authority"), std::string::npos) << out.log;
  EXPECT_TRUE(x::upgrade::get_partial_upgrades(chain->state()).empty());
}

TEST_F(UpgradeTest, MalformedVersionOrJsonIsRefusedAtSubmission) {
  uint64_t before = x::bank::balance(chain->state(), alice.address, "nicoin");
  for (const auto& msg :
       {create_upgrade(100, "3.0.9"), create_upgrade(100, "v3.0"), create_upgrade(100, "v3.0.9", "[1]"),
        create_upgrade(0, "v3.0.9"), create_upgrade(100, "", "")}) {
    auto out = chain->deliver(submit_proposal(alice, {msg}));
    EXPECT_EQ(out.code, codes::kInvalidRequest) << out.log;
    EXPECT_NE(out.log.find("MsgCreatePartialUpgrade"), std::string::npos) << out.log;
    chain->sync(alice);
  }
  EXPECT_TRUE(x::gov::get_proposals(chain->state()).empty());
  EXPECT_EQ(x::bank::balance(chain->state(), alice.address, "nicoin"), before);
}

TEST_F(UpgradeTest, PastHeightFailsAtExecutionAndChangesNothing) {
  // Height 3 is already past at submission; height now+2 is in the future at submission but not at execution.
  uint64_t soon = chain->height() + 2;
  uint64_t past = propose({create_upgrade(3, "v3.0.9")});
  uint64_t late = propose({create_upgrade(soon, "v3.0.9")});
  run_until(proposal(late).voting_end_height());
  for (uint64_t id : {past, late}) {
    auto p = proposal(id);
    EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_FAILED);
    EXPECT_NE(p.failed_reason().find("is not in the future"), std::string::npos) << p.failed_reason();
  }
  EXPECT_TRUE(x::upgrade::get_partial_upgrades(chain->state()).empty());
  EXPECT_EQ(version(), "v3.0.8");
}

TEST_F(UpgradeTest, VersionChangesExactlyAtTheUpgradeHeightWithTheEventInThatBlock) {
  uint64_t id = propose({create_upgrade(30, "v3.1.0", R"({"api_binaries": {}})")});
  uint64_t end = proposal(id).voting_end_height();
  run_until(end);
  ASSERT_EQ(proposal(id).status(), inference::gov::PROPOSAL_STATUS_PASSED) << proposal(id).failed_reason();
  auto pending = q("/inference/partial-upgrades", {{"status", "pending"}})["partial_upgrades"];
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["height"], 30);
  EXPECT_EQ(pending[0]["proposed_height"], end);
  EXPECT_EQ(q("/inference/mlnode-version")["next_upgrade"]["node_version"], "v3.1.0");
  while (chain->height() < 29) {
    auto events = next_block();
    EXPECT_TRUE(test::TestChain::event_values(events, "mlnode_version_changed", "new").empty());
    EXPECT_EQ(version(), "v3.0.8") << "at height " << chain->height();
  }
  auto events = next_block();  // height 30
  EXPECT_EQ(version(), "v3.1.0");
  EXPECT_EQ(test::TestChain::event_values(events, "mlnode_version_changed", "old"),
            std::vector<std::string>{"v3.0.8"});
  EXPECT_EQ(test::TestChain::event_values(events, "mlnode_version_changed", "new"),
            std::vector<std::string>{"v3.1.0"});
  EXPECT_EQ(test::TestChain::event_values(events, "mlnode_version_changed", "height"),
            std::vector<std::string>{"30"});
  EXPECT_EQ(test::TestChain::event_values(events, "partial_upgrade_applied", "api_binaries_json"),
            std::vector<std::string>{R"({"api_binaries": {}})"});
  events = next_block();
  EXPECT_TRUE(test::TestChain::event_values(events, "mlnode_version_changed", "new").empty());
  // Kept as history.
  auto all = q("/inference/partial-upgrades")["partial_upgrades"];
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["status"], "applied");
  EXPECT_EQ(all[0]["previous_mlnode_version"], "v3.0.8");
  EXPECT_EQ(q("/inference/partial-upgrades/30")["partial_upgrade"]["status"], "applied");
  EXPECT_TRUE(q("/inference/mlnode-version")["next_upgrade"].is_null());
  EXPECT_FALSE(chain->app.query("/inference/partial-upgrades/31", {}));
  EXPECT_FALSE(chain->app.query("/inference/partial-upgrades/x", {}));
  EXPECT_FALSE(chain->app.query("/inference/partial-upgrades", {{"status", "done"}}));
}

TEST_F(UpgradeTest, SeveralUpgradesApplyInHeightOrderAndASameHeightProposalReplacesThePendingOne) {
  // Proposed out of order in one proposal, plus one binaries-only upgrade that leaves the version alone.
  uint64_t id =
      propose({create_upgrade(40, "v3.2.0"), create_upgrade(30, "v3.1.0"), create_upgrade(35, "", "{}")});
  run_until(proposal(id).voting_end_height());
  ASSERT_EQ(proposal(id).status(), inference::gov::PROPOSAL_STATUS_PASSED) << proposal(id).failed_reason();
  // Replace the one at 40 with another version.
  uint64_t id2 = propose({create_upgrade(40, "v3.2.1")});
  run_until(proposal(id2).voting_end_height());
  ASSERT_EQ(proposal(id2).status(), inference::gov::PROPOSAL_STATUS_PASSED);
  auto list = q("/inference/partial-upgrades")["partial_upgrades"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["height"], 30);
  EXPECT_EQ(list[1]["height"], 35);
  EXPECT_EQ(list[2]["height"], 40);
  EXPECT_EQ(list[2]["node_version"], "v3.2.1");

  std::vector<std::string> changes;
  std::vector<uint64_t> at;
  while (chain->height() < 45) {
    auto events = next_block();
    for (const auto& v : test::TestChain::event_values(events, "mlnode_version_changed", "new")) {
      changes.push_back(v);
      at.push_back(chain->height());
    }
    std::string expected = chain->height() < 30 ? "v3.0.8" : chain->height() < 40 ? "v3.1.0" : "v3.2.1";
    EXPECT_EQ(version(), expected) << "at height " << chain->height();
  }
  EXPECT_EQ(changes, (std::vector<std::string>{"v3.1.0", "v3.2.1"}));
  EXPECT_EQ(at, (std::vector<uint64_t>{30, 40}));
  EXPECT_EQ(q("/inference/partial-upgrades", {{"status", "applied"}})["partial_upgrades"].size(), 3u);
}
