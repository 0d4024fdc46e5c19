#include "api/epoch/epoch_data.h"

#include <gtest/gtest.h>

namespace api::epoch {
namespace {

chain::EpochGroup parent(uint64_t epoch, std::vector<std::string> models) {
  chain::EpochGroup g;
  g.epoch_index = epoch;
  g.sub_group_models = std::move(models);
  return g;
}

chain::EpochGroup sub(uint64_t epoch, const std::string& model, std::vector<chain::GroupMember> members) {
  chain::EpochGroup g;
  g.epoch_index = epoch;
  g.model_id = model;
  g.model_snapshot =
      chain::GovernanceModel{model, 10, 4096, "fp8", "repo/" + model, "c0ffee", {"--q", "fp8"}, 16, 100};
  g.validation_weights = std::move(members);
  return g;
}

TEST(UpdateNodeWithEpochData, GivesEachLocalNodeItsSnapshotsAndMLNodeInfo) {
  auto p = parent(3, {"m1", "m2"});
  auto s1 = sub(3, "m1",
                {{"me", 30, "", {{"n1", 3000, 30, {true, false}}, {"n2", 1000, 10, {false, true}}}},
                 {"other", 5, "", {{"n1", 500, 5, {true, false}}}}});
  auto s2 = sub(3, "m2", {{"me", 10, "", {{"n2", 1000, 10, {true, false}}}}});
  auto r = update_node_with_epoch_data(p, {s2, s1}, "me", {"n1", "n2", "n3"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const EpochData& d = *r;
  ASSERT_EQ(d.size(), 2u) << "n3 is not in the epoch";
  EXPECT_EQ(d.at("n1").epoch_index, 3u);
  EXPECT_EQ(d.at("n1").epoch_models.at("m1").model_args, (std::vector<std::string>{"--q", "fp8"}));
  EXPECT_EQ(d.at("n1").epoch_ml_nodes.at("m1").poc_weight, 30u) << "the other participant's n1 is not ours";
  EXPECT_EQ(d.at("n1").serving_model(), "m1");
  EXPECT_FALSE(d.at("n1").has_poc_slot());
  EXPECT_EQ(d.at("n2").epoch_models.size(), 2u);
  EXPECT_EQ(d.at("n2").serving_model(), "m2") << "PRE_POC_SLOT marks the served model";
  EXPECT_TRUE(d.at("n2").has_poc_slot());
  EXPECT_EQ(d.at("n2").epoch_ml_nodes.at("m1").throughput, 1000u);
}

TEST(UpdateNodeWithEpochData, AnUnformedGroupIsNotReady) {
  auto r = update_node_with_epoch_data(parent(4, {}), {}, "me", {"n1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kEpochDataNotReady);
}

TEST(UpdateNodeWithEpochData, MissingSubGroupOrSnapshotIsAnError) {
  auto r = update_node_with_epoch_data(parent(4, {"m1"}), {}, "me", {"n1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kEpochDataMalformed);
  auto s = sub(4, "m1", {});
  s.model_snapshot.reset();
  r = update_node_with_epoch_data(parent(4, {"m1"}), {s}, "me", {"n1"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("model_snapshot"), std::string::npos);
  r = update_node_with_epoch_data(parent(4, {"m1"}), {sub(3, "m1", {})}, "me", {"n1"});
  ASSERT_FALSE(r.ok());
}

TEST(EpochNodeData, ServingModelFallsBackToDeclaredOrder) {
  EpochNodeData d;
  d.epoch_models["a"] = {};
  d.epoch_models["b"] = {};
  d.epoch_ml_nodes["a"] = {"n", 0, 0, {false, false}};
  d.epoch_ml_nodes["b"] = {"n", 0, 0, {false, false}};
  EXPECT_EQ(d.serving_model({"b", "a"}), "b");
  EXPECT_EQ(d.serving_model(), "a");
  EXPECT_EQ(EpochNodeData{}.serving_model(), std::nullopt);
}

class FakeReader : public EpochGroupReader {
 public:
  std::map<std::string, chain::EpochGroup> groups;
  int reads = 0;
  common::Result<chain::EpochGroup> epoch_group(uint64_t, const std::string& model_id) override {
    ++reads;
    auto it = groups.find(model_id);
    if (it == groups.end()) return common::make_error(404, "no group " + model_id);
    return it->second;
  }
};

TEST(ReadEpochData, FailsUntilTheGroupIsFormedThenReadsEverySubGroup) {
  FakeReader reader;
  reader.groups[""] = parent(5, {});
  auto r = read_epoch_data(reader, 5, "me", {"n1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kEpochDataNotReady);
  reader.groups[""] = parent(5, {"m1"});
  r = read_epoch_data(reader, 5, "me", {"n1"});
  ASSERT_FALSE(r.ok()) << "sub-group read fails";
  EXPECT_EQ(r.error().code, 404u);
  reader.groups["m1"] = sub(5, "m1", {{"me", 1, "", {{"n1", 10, 1, {true, false}}}}});
  r = read_epoch_data(reader, 5, "me", {"n1"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at("n1").serving_model(), "m1");
}

}  // namespace
}  // namespace api::epoch
