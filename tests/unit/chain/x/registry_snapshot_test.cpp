#include "chain/x/nodes/registry_snapshot.h"

#include <gtest/gtest.h>

#include "chain/store/memory_store.h"
#include "chain/store/overlay.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "epochs_test_util.h"

using namespace chain;
using x::nodes::RegistrySnapshot;

namespace {

std::vector<std::string> node_ids(const RegistrySnapshot& r, size_t i) {
  std::vector<std::string> out;
  for (const auto& n : r.nodes(i)) out.push_back(n.local_id);
  return out;
}

std::vector<std::string> models_of(const RegistrySnapshot& r, const RegistrySnapshot::Node& n) {
  std::vector<std::string> out;
  for (uint32_t m : r.models(n)) out.push_back(r.model_ids()[m]);
  return out;
}

// Writes one participant's nodes straight into the registry keys, as apply_hardware_diff does.
void register_nodes(store::Overlay& state, const types::Address& who,
                    const std::vector<x::nodes::HardwareNode>& nodes) {
  x::nodes::MsgSubmitHardwareDiff diff;
  for (const auto& n : nodes) *diff.add_new_or_modified() = n;
  std::vector<types::Event> events;
  app::BlockInfo block{"test", 1, 0, std::string(32, 'h'), ""};
  std::string hrp = test::kHrp;
  app::Context ctx(state, block, hrp, events);
  x::nodes::Participant p;
  p.set_address(who);
  p.set_url("http://x.example");
  p.set_validator_public_key(std::string(32, who[0]));
  x::nodes::set_participant(state, p);
  for (const auto& n : nodes) {
    for (const auto& id : n.models()) {
      x::models::Model m;
      m.set_id(id);
      m.set_throughput_per_nonce(1);
      x::models::set_model(state, m);  // hardware may only declare registered models
    }
  }
  auto st = x::nodes::apply_hardware_diff(ctx, who, diff);
  ASSERT_TRUE(st.ok()) << st.error().message;
}

}  // namespace

TEST(RegistrySnapshot, KeepsEachParticipantsNodesAndInternsModelIds) {
  RegistrySnapshot r;
  r.add_participant(test::byte_address('a'));
  r.add_node(test::hw_node("n1", {"m/x", "m/y"}));
  r.add_node(test::hw_node("n2", {"m/y"}));
  r.add_participant(test::byte_address('b'));  // no nodes
  r.add_participant(test::byte_address('c'));
  r.add_node(test::hw_node("z", {"m/z", "m/x"}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(node_ids(r, 0), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_TRUE(r.nodes(1).empty());
  EXPECT_EQ(node_ids(r, 2), (std::vector<std::string>{"z"}));
  EXPECT_EQ(models_of(r, r.nodes(0)[0]), (std::vector<std::string>{"m/x", "m/y"}));
  EXPECT_EQ(models_of(r, r.nodes(2)[0]), (std::vector<std::string>{"m/z", "m/x"}));  // declared order kept
  EXPECT_EQ(r.model_ids(), (std::vector<std::string>{"m/x", "m/y", "m/z"}));         // each id once
  EXPECT_EQ(r.find(test::byte_address('c')), 2u);
  EXPECT_FALSE(r.find(test::byte_address('d')).has_value());
}

TEST(RegistrySnapshot, ReadsOnlyTheRequestedParticipantsInOneScan) {
  store::MemoryStore base;
  store::Overlay state(base);
  register_nodes(state, test::byte_address('a'), {test::hw_node("a-1", {"m/x"})});
  register_nodes(state, test::byte_address('b'),
                 {test::hw_node("b-2", {"m/y"}), test::hw_node("b-1", {"m/x", "m/y"})});
  register_nodes(state, test::byte_address('c'), {test::hw_node("c-1", {"m/z"})});
  const std::vector<types::Address> wanted{test::byte_address('a'), test::byte_address('c'),
                                           test::byte_address('e')};  // b skipped, e unknown
  auto r = x::nodes::read_registry_snapshot(state, wanted);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.participant(1), test::byte_address('c'));
  EXPECT_EQ(node_ids(r, 0), (std::vector<std::string>{"a-1"}));
  EXPECT_EQ(node_ids(r, 1), (std::vector<std::string>{"c-1"}));
  EXPECT_TRUE(r.nodes(2).empty());
  EXPECT_EQ(r.model_ids(), (std::vector<std::string>{"m/x", "m/z"}));  // b's models were never read

  auto b = x::nodes::read_registry_snapshot(state, std::vector<types::Address>{test::byte_address('b')});
  EXPECT_EQ(node_ids(b, 0), (std::vector<std::string>{"b-1", "b-2"}));  // sorted by local id, as stored
  EXPECT_EQ(x::nodes::read_registry_snapshot(state, {}).size(), 0u);
}
