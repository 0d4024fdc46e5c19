#include "chain/x/nodes/nodes.h"

#include <gtest/gtest.h>

#include <map>

#include "app/test_chain.h"
#include "chain/x/models/models.h"
#include "common/bytes.h"
#include "common/participant_key.h"

using namespace chain;
using x::nodes::HardwareNode;

namespace {

constexpr const char* k7B = "Qwen/Qwen2.5-7B-Instruct";
constexpr const char* k32B = "Qwen/QwQ-32B";

HardwareNode node(const std::string& id, std::vector<std::string> models, uint32_t port = 8080) {
  HardwareNode n;
  n.set_local_id(id);
  n.set_status(inference::inference::HARDWARE_NODE_STATUS_INFERENCE);
  for (auto& m : models) n.add_models(m);
  auto* hw = n.add_hardware();
  hw->set_type("NVIDIA H100 80GB");
  hw->set_count(2);
  n.set_host("10.0.0.5");
  n.set_inference_port(port);
  n.set_poc_port(port + 1);
  return n;
}

common::ed25519::KeyPair validator_key_pair(uint8_t seed) {
  return *common::ed25519::from_seed(std::string(32, static_cast<char>(seed)));
}

std::string validator_key(uint8_t seed) {
  return validator_key_pair(seed).public_key;
}

x::nodes::MsgSubmitNewParticipant register_msg(const test::TestAccount& from, const std::string& url,
                                               uint8_t seed) {
  x::nodes::MsgSubmitNewParticipant msg;
  msg.set_creator(from.bech32);
  msg.set_url(url);
  msg.set_validator_public_key(validator_key(seed));
  msg.set_validator_key_signature(
      common::participant_key::sign(validator_key_pair(seed), test::kChainId, from.bech32));
  return msg;
}

std::string register_tx(test::TestAccount& signer, const x::nodes::MsgSubmitNewParticipant& msg) {
  return test::sign_tx(signer, {test::tx_message(x::nodes::kMsgSubmitNewParticipantUrl, msg)});
}

// Registers with validator key `seed`, proving its possession.
std::string register_tx(test::TestAccount& from, const std::string& url, uint8_t seed) {
  return register_tx(from, register_msg(from, url, seed));
}

x::nodes::MsgSubmitHardwareDiff diff_msg(const test::TestAccount& creator, std::vector<HardwareNode> nodes,
                                         std::vector<std::string> removed = {}) {
  x::nodes::MsgSubmitHardwareDiff msg;
  msg.set_creator(creator.bech32);
  for (auto& n : nodes) *msg.add_new_or_modified() = n;
  for (auto& r : removed) msg.add_removed(r);
  return msg;
}

std::string diff_tx(test::TestAccount& signer, const x::nodes::MsgSubmitHardwareDiff& msg) {
  return test::sign_tx(signer, {test::tx_message(x::nodes::kMsgSubmitHardwareDiffUrl, msg)});
}

std::string diff_tx(test::TestAccount& from, std::vector<HardwareNode> nodes,
                    std::vector<std::string> removed = {}) {
  return diff_tx(from, diff_msg(from, std::move(nodes), std::move(removed)));
}

std::vector<std::string> local_ids(const std::vector<HardwareNode>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.push_back(n.local_id());
  return out;
}

class NodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice = test::make_account(1);
    bob = test::make_account(2);
    carol = test::make_account(3);
    auto g = test::make_genesis({alice, bob, carol}, 1'000'000);
    store::MemoryStore scratch;
    g.app_state["models"] = app::App(scratch).default_app_state("testnet")["models"];  // the two Qwen models
    chain = std::make_unique<test::TestChain>(g);
    chain->block();
    ok(register_tx(alice, "http://alice.example:9000", 1));
    ok(register_tx(bob, "https://bob.example", 2));
  }
  void ok(const std::string& tx) {
    auto out = chain->deliver(tx);
    ASSERT_EQ(out.code, 0u) << out.log;
  }
  app::TxOutcome fail(const std::string& tx, uint32_t code, const std::string& text) {
    auto out = chain->deliver(tx);
    EXPECT_EQ(out.code, code) << out.log;
    EXPECT_NE(out.log.find(text), std::string::npos) << "log: " << out.log;
    for (auto* a : {&alice, &bob, &carol}) chain->sync(*a);
    return out;
  }
  std::vector<HardwareNode> nodes_of(const test::TestAccount& a) {
    return x::nodes::get_hardware_nodes(chain->state(), a.address);
  }
  std::vector<std::string> nodes_for(const std::string& model) {
    std::vector<std::string> out;
    for (const auto& ref : x::nodes::get_nodes_for_model(chain->state(), model)) {
      std::string who = ref.participant == alice.address ? "alice:"
                        : ref.participant == bob.address ? "bob:"
                                                         : "?:";
      out.push_back(who + ref.node.local_id());
    }
    return out;
  }

  test::TestAccount alice, bob, carol;
  std::unique_ptr<test::TestChain> chain;
};

}  // namespace

// ---- participants

TEST_F(NodesTest, NewParticipantIsStoredAndCanUpdateItsUrlAndKey) {
  auto p = x::nodes::get_participant(chain->state(), alice.address);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->url(), "http://alice.example:9000");
  EXPECT_EQ(p->validator_public_key(), validator_key(1));
  EXPECT_EQ(p->status(), inference::inference::PARTICIPANT_STATUS_ACTIVE);
  uint64_t joined = p->join_height();
  ok(register_tx(alice, "https://alice.example", 9));
  p = x::nodes::get_participant(chain->state(), alice.address);
  EXPECT_EQ(p->url(), "https://alice.example");
  EXPECT_EQ(p->validator_public_key(), validator_key(9));
  EXPECT_EQ(p->join_height(), joined);
  // The old key is free again; the new one is taken.
  ok(register_tx(carol, "http://carol.example", 1));
  EXPECT_EQ(x::nodes::get_participants(chain->state()).size(), 3u);
}

TEST_F(NodesTest, NewParticipantFailures) {
  fail(register_tx(carol, "ftp://carol.example", 3), codes::kInvalidRequest, "http:// or https://");
  fail(register_tx(carol, "http://", 3), codes::kInvalidRequest, "has no host");
  fail(register_tx(carol, "http://carol example", 3), codes::kInvalidRequest, "without spaces");
  auto short_key = register_msg(carol, "http://carol.example", 3);
  short_key.set_validator_public_key(std::string(31, 'k'));
  fail(register_tx(carol, short_key), codes::kInvalidPubKey, "32-byte");
  fail(register_tx(carol, "http://carol.example", 2), codes::kValidatorKeyTaken,
       "already registered by participant " + bob.bech32);
  fail(register_tx(carol, register_msg(bob, "http://x.example", 7)), codes::kUnauthorized,
       "is not the signer");
  EXPECT_FALSE(x::nodes::get_participant(chain->state(), carol.address));
  EXPECT_EQ(x::nodes::get_participant(chain->state(), bob.address)->url(), "https://bob.example");
}

TEST_F(NodesTest, RegistrationMustProveThePossessionOfTheValidatorKey) {
  // Issue 13 fault 5: anyone could bind anyone's validator key. Carol claims key 5 without holding it.
  auto msg = register_msg(carol, "http://carol.example", 5);
  msg.clear_validator_key_signature();
  auto out = fail(register_tx(carol, msg), codes::kUnauthorized, "validator_key_signature does not verify");
  EXPECT_NE(out.log.find("inference/participant-validator-key"), std::string::npos) << out.log;
  // A signature by another key, over another address, or for another chain does not do either.
  msg.set_validator_key_signature(
      common::participant_key::sign(validator_key_pair(6), test::kChainId, carol.bech32));
  fail(register_tx(carol, msg), codes::kUnauthorized, "does not verify");
  msg.set_validator_key_signature(
      common::participant_key::sign(validator_key_pair(5), test::kChainId, bob.bech32));
  fail(register_tx(carol, msg), codes::kUnauthorized, "does not verify");
  msg.set_validator_key_signature(
      common::participant_key::sign(validator_key_pair(5), "other-chain", carol.bech32));
  fail(register_tx(carol, msg), codes::kUnauthorized, "does not verify");
  msg.set_validator_key_signature(std::string(65, 's'));
  fail(register_tx(carol, msg), codes::kInvalidRequest, "64-byte");
  EXPECT_FALSE(x::nodes::get_participant(chain->state(), carol.address));
  // Even with a valid proof, a key bound to another participant is refused (alice holds key 1).
  fail(register_tx(carol, "http://carol.example", 1), codes::kValidatorKeyTaken,
       "already registered by participant " + alice.bech32);
  ok(register_tx(carol, "http://carol.example", 5));
  EXPECT_EQ(x::nodes::get_participant(chain->state(), carol.address)->validator_public_key(),
            validator_key(5));
}

// ---- hardware diff

TEST_F(NodesTest, ValidDiffIsStoredSortedByLocalId) {
  ok(diff_tx(alice, {node("gpu-2", {k32B}), node("gpu-1", {k7B, k32B})}));
  auto nodes = nodes_of(alice);
  EXPECT_EQ(local_ids(nodes), (std::vector<std::string>{"gpu-1", "gpu-2"}));
  auto expected = node("gpu-1", {k7B, k32B});
  expected.set_added_seq(1);  // added second
  EXPECT_EQ(nodes[0].SerializeAsString(), expected.SerializeAsString());
  EXPECT_TRUE(nodes_of(bob).empty());
}

TEST_F(NodesTest, TheChainNumbersNodesInTheOrderTheyWereAddedAndIgnoresTheSendersNumber) {
  // Pre-PoC selection takes a participant's nodes in the order they were added (ARCHITECTURE §7.5).
  auto forged = node("a", {k7B});
  forged.set_added_seq(0);
  ok(diff_tx(alice, {node("z", {k7B}), node("m", {k7B})}));
  forged.set_added_seq(99);  // the sender's value is ignored
  ok(diff_tx(alice, {forged}));
  auto modified = node("z", {k32B});
  ok(diff_tx(alice, {modified}, {"m"}));   // a modified node keeps its number; removal frees none
  ok(diff_tx(alice, {node("m", {k7B})}));  // re-added: a new number
  std::map<std::string, uint64_t> seq;
  for (const auto& n : nodes_of(alice)) seq[n.local_id()] = n.added_seq();
  EXPECT_EQ(seq, (std::map<std::string, uint64_t>{{"a", 2}, {"m", 3}, {"z", 0}}));
  EXPECT_EQ(x::nodes::get_participant(chain->state(), alice.address)->nodes_added(), 4u);
}

TEST_F(NodesTest, RejectsUnknownModelsListingEveryIdAndStoresNothing) {
  ok(diff_tx(alice, {node("gpu-1", {k7B})}));
  auto before = nodes_of(alice);
  auto out = fail(diff_tx(alice, {node("gpu-1", {k7B, "Qwen/X"}), node("gpu-2", {k32B}),
                                  node("gpu-3", {"foo", "Qwen/X"}), node("gpu-4", {"bar"})}),
                  codes::kUnknownModel, "hardware diff rejected");
  EXPECT_NE(out.log.find("unknown model \"Qwen/X\" in nodes \"gpu-1\", \"gpu-3\""), std::string::npos)
      << out.log;
  EXPECT_NE(out.log.find("unknown model \"foo\" in node \"gpu-3\""), std::string::npos) << out.log;
  EXPECT_NE(out.log.find("unknown model \"bar\" in node \"gpu-4\""), std::string::npos) << out.log;
  EXPECT_NE(out.log.find("registered models: Qwen/QwQ-32B, Qwen/Qwen2.5-7B-Instruct"), std::string::npos)
      << out.log;
  auto after = nodes_of(alice);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0].SerializeAsString(), before[0].SerializeAsString());
  EXPECT_EQ(nodes_for(k32B), std::vector<std::string>{});
}

TEST_F(NodesTest, ModifyReplacesTheNodeAndRemovalDeletesIt) {
  ok(diff_tx(alice, {node("gpu-1", {k7B}), node("gpu-2", {k7B})}));
  auto modified = node("gpu-1", {k32B}, 9000);
  modified.set_status(inference::inference::HARDWARE_NODE_STATUS_STOPPED);
  ok(diff_tx(alice, {modified}, {"gpu-2"}));
  auto nodes = nodes_of(alice);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].SerializeAsString(), modified.SerializeAsString());
  EXPECT_EQ(nodes_for(k7B), std::vector<std::string>{});
  EXPECT_EQ(nodes_for(k32B), std::vector<std::string>{"alice:gpu-1"});
  ok(diff_tx(alice, {}, {"gpu-1"}));
  EXPECT_TRUE(nodes_of(alice).empty());
  EXPECT_TRUE(nodes_for(k32B).empty());
}

TEST_F(NodesTest, AnotherAccountCannotChangeThisParticipantsNodes) {
  ok(diff_tx(alice, {node("gpu-1", {k7B})}));
  // Bob signs a diff that names alice as creator: rejected before anything runs.
  auto stolen = diff_msg(alice, {node("gpu-1", {k32B})}, {});
  fail(diff_tx(bob, stolen), codes::kUnauthorized, "can only change its own nodes");
  fail(diff_tx(bob, diff_msg(alice, {}, {"gpu-1"})), codes::kUnauthorized, "can only change its own nodes");
  // Bob's own diff with the same local id touches only bob's nodes.
  ok(diff_tx(bob, {node("gpu-1", {k32B})}));
  // Bob cannot remove alice's node through its own diff either: the id is looked up among bob's nodes.
  fail(diff_tx(bob, {}, {"gpu-2"}), codes::kNotFound, "has no node \"gpu-2\"");
  EXPECT_EQ(nodes_of(alice)[0].SerializeAsString(), node("gpu-1", {k7B}).SerializeAsString());
  EXPECT_EQ(nodes_for(k7B), std::vector<std::string>{"alice:gpu-1"});
  EXPECT_EQ(nodes_for(k32B), std::vector<std::string>{"bob:gpu-1"});
}

TEST_F(NodesTest, UnregisteredParticipantCannotSubmitADiff) {
  fail(diff_tx(carol, {node("gpu-1", {k7B})}), codes::kNotFound, "submit MsgSubmitNewParticipant first");
  EXPECT_TRUE(nodes_of(carol).empty());
}

TEST_F(NodesTest, RemovingUnknownNodesIsRejectedListingThem) {
  ok(diff_tx(alice, {node("gpu-1", {k7B})}));
  fail(diff_tx(alice, {node("gpu-5", {k7B})}, {"gpu-1", "gpu-8", "gpu-9"}), codes::kNotFound,
       "has no node \"gpu-8\", \"gpu-9\" to remove");
  EXPECT_EQ(local_ids(nodes_of(alice)), std::vector<std::string>{"gpu-1"});
}

TEST_F(NodesTest, StatelessDiffChecks) {
  auto bad_port = node("gpu-1", {k7B}, 0);
  auto bad_host = node("gpu-1", {k7B});
  bad_host.set_host("http://10.0.0.5");
  auto dup_model = node("gpu-1", {k7B, k7B});
  auto bad_status = node("gpu-1", {k7B});
  bad_status.set_status(static_cast<inference::inference::HardwareNodeStatus>(42));
  auto no_hw_count = node("gpu-1", {k7B});
  no_hw_count.mutable_hardware(0)->set_count(0);
  auto bad_id = node("gpu 1", {k7B});
  fail(diff_tx(alice, std::vector<HardwareNode>{}), codes::kInvalidRequest, "empty hardware diff");
  fail(diff_tx(alice, {bad_port}), codes::kInvalidRequest, "inference_port");
  fail(diff_tx(alice, {bad_host}), codes::kInvalidRequest, "host");
  fail(diff_tx(alice, {dup_model}), codes::kInvalidRequest, "listed twice");
  fail(diff_tx(alice, {bad_status}), codes::kInvalidRequest, "unknown status");
  fail(diff_tx(alice, {no_hw_count}), codes::kInvalidRequest, "hardware count");
  fail(diff_tx(alice, {bad_id}), codes::kInvalidRequest, "local_id");
  fail(diff_tx(alice, {node("a", {k7B}), node("a", {k32B})}), codes::kInvalidRequest, "appears twice");
  fail(diff_tx(alice, {node("a", {k7B})}, {"a"}), codes::kInvalidRequest,
       "both in new_or_modified and in removed");
  fail(diff_tx(alice, {}, {"a", "a"}), codes::kInvalidRequest, "appears twice in removed");
  EXPECT_TRUE(nodes_of(alice).empty());
}

TEST_F(NodesTest, NodeCountIsLimitedPerParticipant) {
  std::vector<HardwareNode> many;
  for (size_t i = 0; i < x::nodes::kMaxNodesPerParticipant; ++i)
    many.push_back(node("n" + std::to_string(i), {k7B}));
  ok(diff_tx(alice, many));
  fail(diff_tx(alice, {node("one-more", {k7B})}), codes::kTooManyNodes, "the limit is 256");
  ok(diff_tx(alice, {node("one-more", {k7B})}, {"n0"}));  // replacing within the limit is fine
  EXPECT_EQ(nodes_of(alice).size(), x::nodes::kMaxNodesPerParticipant);
}

TEST_F(NodesTest, GetNodesForModelSpansParticipantsInSortedOrder) {
  ok(diff_tx(bob, {node("b-2", {k7B}), node("b-1", {k32B, k7B})}));
  ok(diff_tx(alice, {node("a-1", {k7B})}));
  std::vector<std::string> want7b = alice.address < bob.address
                                        ? std::vector<std::string>{"alice:a-1", "bob:b-1", "bob:b-2"}
                                        : std::vector<std::string>{"bob:b-1", "bob:b-2", "alice:a-1"};
  EXPECT_EQ(nodes_for(k7B), want7b);
  EXPECT_EQ(nodes_for(k32B), std::vector<std::string>{"bob:b-1"});
  EXPECT_TRUE(nodes_for("Qwen/Unknown").empty());
  EXPECT_TRUE(nodes_for("").empty());
}

// ---- queries and JSON

TEST_F(NodesTest, QueriesAnswerParticipantsNodesAndNodesForModel) {
  ok(diff_tx(alice, {node("gpu-1", {k7B, k32B})}));
  auto q = [&](const std::string& path) {
    auto r = chain->app.query(path, {});
    EXPECT_TRUE(r) << path << ": " << (r ? "" : r.error().message);
    return r ? *r : nlohmann::json();
  };
  auto participants = q("/inference/participants")["participants"];
  ASSERT_EQ(participants.size(), 2u);
  auto alice_json = q("/inference/participants/" + alice.bech32)["participant"];
  EXPECT_EQ(alice_json["url"], "http://alice.example:9000");
  EXPECT_EQ(alice_json["status"], "ACTIVE");
  EXPECT_EQ(alice_json["validator_public_key"], common::to_base64(validator_key(1)));
  auto hw = q("/inference/hardware-nodes/" + alice.bech32);
  ASSERT_EQ(hw["nodes"].size(), 1u);
  EXPECT_EQ(hw["nodes"][0]["status"], "INFERENCE");
  EXPECT_EQ(hw["nodes"][0]["models"], nlohmann::json({k7B, k32B}));
  EXPECT_EQ(hw["nodes"][0]["hardware"][0]["count"], 2);
  EXPECT_EQ(hw["nodes"][0]["poc_port"], 8081);
  EXPECT_EQ(q("/inference/hardware-nodes/" + carol.bech32)["nodes"].size(), 0u);
  EXPECT_EQ(q("/inference/hardware-nodes")["hardware_nodes"].size(), 2u);
  for (const char* path :
       {"/inference/nodes-for-model/Qwen/QwQ-32B", "/inference/nodes-for-model/Qwen%2FQwQ-32B"}) {
    auto r = q(path);
    EXPECT_EQ(r["model_id"], k32B);
    ASSERT_EQ(r["nodes"].size(), 1u) << path;
    EXPECT_EQ(r["nodes"][0]["participant"], alice.bech32);
  }
  EXPECT_EQ(chain->app.query("/inference/participants/" + carol.bech32, {}).error().code, codes::kNotFound);
  EXPECT_FALSE(chain->app.query("/inference/hardware-nodes/nonsense", {}));
}

TEST(HardwareDiffJson, ParsesTheCliFileShapeAndRejectsTypos) {
  auto j = nlohmann::json::parse(R"({
    "new_or_modified": [{"local_id": "gpu-1", "status": "INFERENCE", "models": ["Qwen/QwQ-32B"],
                         "hardware": [{"type": "H100", "count": 8}], "host": "10.0.0.5",
                         "inference_port": 5000, "poc_port": 8080}],
    "removed": ["gpu-2", {"local_id": "gpu-3"}]
  })");
  auto diff = x::nodes::hardware_diff_from_json(j);
  ASSERT_TRUE(diff) << diff.error().message;
  ASSERT_EQ(diff->new_or_modified_size(), 1);
  EXPECT_EQ(diff->new_or_modified(0).status(), inference::inference::HARDWARE_NODE_STATUS_INFERENCE);
  EXPECT_EQ(diff->new_or_modified(0).hardware(0).count(), 8u);
  EXPECT_EQ(diff->removed_size(), 2);
  EXPECT_EQ(diff->removed(1), "gpu-3");
  auto back = x::nodes::hardware_node_from_json(x::nodes::hardware_node_to_json(diff->new_or_modified(0)));
  EXPECT_EQ(back->SerializeAsString(), diff->new_or_modified(0).SerializeAsString());
  j["new_or_modified"][0]["port"] = 1;
  EXPECT_NE(x::nodes::hardware_diff_from_json(j).error().message.find("unknown node field \"port\""),
            std::string::npos);
  j["new_or_modified"][0].erase("port");
  j["new_or_modified"][0]["status"] = "RUNNING";
  EXPECT_FALSE(x::nodes::hardware_diff_from_json(j));
  EXPECT_FALSE(x::nodes::hardware_diff_from_json({{"added", nlohmann::json::array()}}));
}

TEST(NodesGenesis, ParticipantsAndTheirNodesCanBeDeclaredAndAreCheckedAgainstModels) {
  auto alice = test::make_account(1);
  auto g = test::make_genesis({alice}, 1000);
  store::MemoryStore scratch;
  g.app_state["models"] = app::App(scratch).default_app_state("testnet")["models"];  // the two Qwen models
  g.app_state["nodes"] = {{"participants",
                           {{{"address", alice.bech32},
                             {"url", "http://a.example"},
                             {"validator_public_key", common::to_base64(validator_key(4))}}}},
                          {"hardware_nodes",
                           {{{"participant", alice.bech32},
                             {"nodes", {x::nodes::hardware_node_to_json(node("gpu-1", {k7B}))}}}}}};
  {
    test::TestChain c(g);
    c.block();
    EXPECT_EQ(x::nodes::get_hardware_nodes(c.state(), alice.address).size(), 1u);
    EXPECT_EQ(x::nodes::get_nodes_for_model(c.state(), k7B).size(), 1u);
  }
  g.app_state["nodes"]["hardware_nodes"][0]["nodes"][0]["models"] = {"Qwen/Missing"};
  store::MemoryStore st;
  app::App a(st);
  auto r = a.init_chain(g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown model \"Qwen/Missing\""), std::string::npos) << r.error().message;
}
