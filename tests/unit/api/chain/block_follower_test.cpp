#include "api/chain/block_follower.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "fake_chain_rpc.h"

namespace api::chain {
namespace {

using namespace std::chrono_literals;
using testing::FakeChainRpc;

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 10s) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct Received {
  std::mutex mu;
  std::vector<Block> blocks;
  void add(const Block& b) {
    std::lock_guard lock(mu);
    blocks.push_back(b);
  }
  std::vector<uint64_t> heights() {
    std::lock_guard lock(mu);
    std::vector<uint64_t> out;
    for (const auto& b : blocks) out.push_back(b.height);
    return out;
  }
};

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t h = from; h <= to; ++h) out.push_back(h);
  return out;
}

BlockFollowerOptions fast() {
  BlockFollowerOptions o;
  o.idle_slice = 300ms;
  o.min_backoff = 5ms;
  o.max_backoff = 20ms;
  return o;
}

TEST(BlockFollower, DeliversBlocksInOrderFromTheRequestedHeightWithTheirEvents) {
  FakeChainRpc rpc;
  rpc.set_tip(8);
  Received got;
  BlockFollower follower(
      rpc.url(), 4, [&](const Block& b) { got.add(b); }, fast());
  EXPECT_EQ(follower.last_delivered_height(), 0u);
  follower.start();
  ASSERT_TRUE(eventually([&] { return follower.last_delivered_height() == 8; }));
  follower.stop();
  EXPECT_EQ(got.heights(), range(4, 8));
  EXPECT_EQ(got.blocks[0].hash, "H4");
  EXPECT_EQ(got.blocks[0].txs.at(0).hash, "AB4");
  EXPECT_EQ(got.blocks[0].events.at(0).attribute("h"), "4");
  EXPECT_EQ(rpc.stream_from_values().at(0), 4u);
}

TEST(BlockFollower, ReconnectsAfterADropAndResumesAtTheNextHeightWithoutDuplicates) {
  FakeChainRpc rpc;
  rpc.set_tip(12);
  rpc.set_drop_after(3);  // every connection ends after three blocks
  rpc.set_replay(2);      // and starts two blocks before the asked height
  Received got;
  BlockFollower follower(
      rpc.url(), 1, [&](const Block& b) { got.add(b); }, fast());
  follower.start();
  ASSERT_TRUE(eventually([&] { return follower.last_delivered_height() == 12; }));
  follower.stop();
  EXPECT_EQ(got.heights(), range(1, 12));
  // Each connection asks for the first height not yet delivered: 1, then 4, then 5 (3 and 4 were replayed),
  // ...
  auto froms = rpc.stream_from_values();
  ASSERT_GE(froms.size(), 3u);
  EXPECT_EQ(froms[0], 1u);
  EXPECT_EQ(froms[1], 4u);
  EXPECT_EQ(froms[2], 5u);
  for (size_t i = 1; i < froms.size(); ++i) EXPECT_GE(froms[i], froms[i - 1]);
}

TEST(BlockFollower, KeepsRetryingWhileTheNodeIsDownAndStopsCleanly) {
  Received got;
  std::string url;
  {
    FakeChainRpc gone;
    url = gone.url();
  }
  BlockFollower follower(
      url, 1, [&](const Block& b) { got.add(b); }, fast());
  follower.start();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(follower.last_delivered_height(), 0u);
  follower.stop();
  EXPECT_TRUE(got.heights().empty());
}

TEST(BlockFollower, StopsPromptlyWhileTheStreamIsSilent) {
  FakeChainRpc rpc;
  rpc.set_tip(2);
  Received got;
  BlockFollowerOptions options = fast();
  options.idle_slice = 200ms;
  BlockFollower follower(
      rpc.url(), 1, [&](const Block& b) { got.add(b); }, options);
  follower.start();
  ASSERT_TRUE(eventually([&] { return follower.last_delivered_height() == 2; }));
  std::this_thread::sleep_for(50ms);
  auto before = std::chrono::steady_clock::now();
  follower.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_EQ(got.heights(), range(1, 2));
  follower.stop();  // idempotent
}

}  // namespace
}  // namespace api::chain
