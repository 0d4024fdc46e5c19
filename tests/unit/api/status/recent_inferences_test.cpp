#include "api/status/recent_inferences.h"

#include <gtest/gtest.h>

namespace api::status {
namespace {

chain::Event started(const std::string& id, const std::string& executor, const std::string& node) {
  return {"inference_started",
          {{"inference_id", id},
           {"model", "Qwen/Q"},
           {"executor", executor},
           {"executor_node", node},
           {"escrow", "100"},
           {"expiry_height", "50"}}};
}

chain::Event finished(const std::string& id, const std::string& tokens, const std::string& cost) {
  return {"inference_finished",
          {{"inference_id", id},
           {"model", "Qwen/Q"},
           {"tokens", tokens},
           {"cost", cost},
           {"refund", "7"},
           {"validation", "not_sampled"}}};
}

chain::Block block(uint64_t height, std::vector<chain::TxResult> txs) {
  chain::Block b;
  b.height = height;
  b.time_unix_ms = 1000 * static_cast<int64_t>(height);
  b.txs = std::move(txs);
  return b;
}

chain::TxResult tx(std::vector<chain::Event> events, uint32_t code = 0) {
  chain::TxResult t;
  t.code = code;
  t.events = std::move(events);
  return t;
}

TEST(InferencesOfBlock, ReadsStartedAndFinishedEventsOfSuccessfulTxs) {
  auto b = block(9, {tx({started("a", "gonka1exec", "n-0")}), tx({finished("b", "30", "3000")}),
                     tx({finished("c", "5", "50")}, /*code=*/5), tx({{"transfer", {{"amount", "1"}}}})});
  auto got = inferences_of_block(b);
  ASSERT_EQ(got.started.size(), 1u);
  EXPECT_EQ(got.started[0].first, "a");
  EXPECT_EQ(got.started[0].second.executor, "gonka1exec");
  EXPECT_EQ(got.started[0].second.executor_node, "n-0");
  ASSERT_EQ(got.finished.size(), 1u);  // the refused tx's event is not counted
  const auto& f = got.finished[0];
  EXPECT_EQ(f.id, "b");
  EXPECT_EQ(f.model, "Qwen/Q");
  EXPECT_EQ(f.tokens, 30u);
  EXPECT_EQ(f.cost, 3000u);
  EXPECT_EQ(f.refund, 7u);
  EXPECT_EQ(f.validation, "not_sampled");
  EXPECT_EQ(f.height, 9u);
  EXPECT_EQ(f.time_unix_ms, 9000);
}

TEST(InferencesOfBlock, LeavesOutMalformedNumbersAndMissingIds) {
  auto b = block(
      3, {tx({finished("x", "12a", "1"), finished("y", "1", "-4"), finished("", "1", "1"),
              finished("z", "18446744073709551616", "1"), finished("ok", "18446744073709551615", "0")})});
  auto got = inferences_of_block(b);
  ASSERT_EQ(got.finished.size(), 1u);
  EXPECT_EQ(got.finished[0].id, "ok");
  EXPECT_EQ(got.finished[0].tokens, UINT64_MAX);
}

TEST(RecentInferences, JoinsTheExecutorOfAnEarlierStartAndKeepsTheNewestFirst) {
  RecentInferences r(/*capacity=*/2);
  r.observe(block(1, {tx({started("a", "gonka1alice", "alice-node-0")})}));
  r.observe(block(2, {tx({finished("a", "10", "100")})}));
  r.observe(block(3, {tx({started("b", "gonka1bob", "bob-node-1"), finished("b", "20", "200")})}));
  auto list = r.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "b");
  EXPECT_EQ(list[0].executor, "gonka1bob");
  EXPECT_EQ(list[0].executor_node, "bob-node-1");
  EXPECT_EQ(list[1].id, "a");
  EXPECT_EQ(list[1].executor, "gonka1alice");
  EXPECT_EQ(list[1].height, 2u);

  r.observe(block(4, {tx({finished("c", "1", "1")})}));  // its start was not seen: no executor; "a" drops out
  list = r.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "c");
  EXPECT_EQ(list[0].executor, "");
  EXPECT_EQ(list[1].id, "b");
}

TEST(RecentInferences, StaysOrderedByHeightWhenOlderBlocksArriveLater) {
  RecentInferences r(/*capacity=*/3);
  r.observe(block(10, {tx({finished("j", "1", "1")}), tx({finished("k", "1", "1")})}));
  r.observe(block(4, {tx({finished("d", "1", "1")})}));  // read late (backfill)
  r.observe(block(7, {tx({finished("g", "1", "1")})}));
  r.observe(block(10, {tx({finished("j", "1", "1")})}));  // the same block again: no duplicate
  auto list = r.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, "k");  // the later tx of block 10
  EXPECT_EQ(list[1].id, "j");
  EXPECT_EQ(list[2].id, "g");                            // "d" is the oldest and fell off
  r.observe(block(2, {tx({finished("b", "1", "1")})}));  // older than everything kept: not listed
  EXPECT_EQ(r.list().back().id, "g");
}

TEST(RecentInferences, ForgetsTheOldestUnfinishedStarts) {
  RecentInferences r(/*capacity=*/10, /*max_pending=*/2);
  r.observe(block(
      1, {tx({started("a", "gonka1a", "n"), started("b", "gonka1b", "n"), started("c", "gonka1c", "n")})}));
  r.observe(block(2, {tx({finished("a", "1", "1"), finished("c", "1", "1")})}));
  auto list = r.list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "c");
  EXPECT_EQ(list[0].executor, "gonka1c");
  EXPECT_EQ(list[1].id, "a");
  EXPECT_EQ(list[1].executor, "");  // forgotten: only 2 pending starts are kept
}

}  // namespace
}  // namespace api::status
