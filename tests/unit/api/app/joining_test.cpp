#include "api/app/joining.h"

#include <gtest/gtest.h>

#include "inference/nodes.pb.h"

namespace api::app {
namespace {

state::NodeEntry entry(const std::string& id, std::vector<std::string> models, uint16_t port = 5000) {
  state::NodeEntry e;
  e.config.id = id;
  e.config.host = "10.0.0.7";
  e.config.inference_port = port;
  e.config.poc_port = static_cast<uint16_t>(port + 1);
  for (const auto& m : models) e.config.models[m] = {};
  e.config.model_order = models;
  e.config.hardware = {{"NVIDIA H100 80GB", 1}, {"CPU", 2}};
  return e;
}

TEST(HardwareDiff, EqualRecordsGiveAnEmptyDiffWhateverTheStatusAndHardwareOrder) {
  auto local = entry("a", {"m1", "m2"});
  auto chain = to_hardware_node(local.config);
  chain.status = "POC";
  std::swap(chain.hardware[0], chain.hardware[1]);
  EXPECT_TRUE(hardware_diff({local}, {chain}).empty());
}

TEST(HardwareDiff, SendsOnlyTheDifferences) {
  auto same = entry("a", {"m1"}, 5000);
  auto changed = entry("b", {"m1"}, 6000);
  auto fresh = entry("c", {"m2"}, 7000);
  auto chain_b = to_hardware_node(changed.config);
  chain_b.poc_port = 9999;
  chain::HardwareNode gone;
  gone.local_id = "z";
  auto diff = hardware_diff({same, changed, fresh}, {to_hardware_node(same.config), chain_b, gone});
  ASSERT_EQ(diff.new_or_modified.size(), 2u);
  EXPECT_EQ(diff.new_or_modified[0].local_id, "b");
  EXPECT_EQ(diff.new_or_modified[0].poc_port, 6001u);
  EXPECT_EQ(diff.new_or_modified[1].local_id, "c");
  EXPECT_EQ(diff.removed, std::vector<std::string>{"z"});
}

TEST(HardwareDiff, ModelOrderIsPartOfTheRecord) {
  auto local = entry("a", {"m1", "m2"});
  auto chain = to_hardware_node(local.config);
  chain.models = {"m2", "m1"};
  EXPECT_EQ(hardware_diff({local}, {chain}).new_or_modified.size(), 1u);
}

TEST(HardwareDiff, MessageCarriesEveryField) {
  HardwareDiff d;
  d.new_or_modified.push_back(to_hardware_node(entry("a", {"m1"}).config));
  d.removed = {"z"};
  auto m = hardware_diff_message("gonka1xyz", d);
  EXPECT_EQ(m.type_url, "/inference.inference.MsgSubmitHardwareDiff");
  inference::inference::MsgSubmitHardwareDiff msg;
  ASSERT_TRUE(msg.ParseFromString(m.value));
  EXPECT_EQ(msg.creator(), "gonka1xyz");
  ASSERT_EQ(msg.new_or_modified_size(), 1);
  EXPECT_EQ(msg.new_or_modified(0).local_id(), "a");
  EXPECT_EQ(msg.new_or_modified(0).poc_port(), 5001u);
  EXPECT_EQ(msg.new_or_modified(0).hardware_size(), 2);
  EXPECT_EQ(msg.removed(0), "z");
}

}  // namespace
}  // namespace api::app
