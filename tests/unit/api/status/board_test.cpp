#include "api/status/board.h"

#include <gtest/gtest.h>

#include <thread>

namespace api::status {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  std::chrono::steady_clock::time_point now{};
  int reads = 0;
  bool fail = false;
  uint64_t group_epoch = 1;

  StatusBoardDeps deps() {
    StatusBoardDeps d;
    d.participant = "gonka1me";
    d.mlnode_version = "v1";
    d.now = [this] { return now; };
    d.group_ttl = 5000ms;
    d.nodes = [] {
      NodeInput n;
      n.id = "n-0";
      n.models = {"Qwen/A"};
      return std::vector<NodeInput>{n};
    };
    d.current_group = [this]() -> common::Result<chain::EpochGroup> {
      ++reads;
      if (fail) return common::make_error(1001, "connection refused");
      chain::EpochGroup g;
      g.epoch_index = group_epoch;
      g.total_weight = 7;
      g.validation_weights = {{"gonka1me", 7, "http://me", {}}};
      return g;
    };
    return d;
  }
};

chain::EpochInfo epoch(uint64_t index) {
  chain::EpochInfo e;
  e.epoch_index = index;
  e.phase = "inference";
  return e;
}

TEST(StatusBoard, FollowsBlocksAndReadsTheGroupOncePerTtl) {
  Fixture f;
  StatusBoard board(f.deps());
  auto s = board.status();
  EXPECT_TRUE(s["block"].is_null());
  EXPECT_EQ(s["nodes"][0]["id"], "n-0");
  EXPECT_EQ(s["participants"]["members"][0]["address"], "gonka1me");
  EXPECT_EQ(f.reads, 1);

  chain::Block b;
  b.height = 12;
  b.txs.push_back(
      {"H", 12, 0, "", {{"inference_finished", {{"inference_id", "i-1"}, {"tokens", "3"}, {"cost", "9"}}}}});
  board.on_block(b, epoch(1));
  s = board.status();
  EXPECT_EQ(s["block"]["height"], 12);
  EXPECT_EQ(s["epoch"]["epoch_index"], 1);
  EXPECT_EQ(s["inferences"][0]["id"], "i-1");
  EXPECT_EQ(s["inferences"][0]["cost"], "9");
  EXPECT_EQ(f.reads, 1);  // within the ttl and the same epoch

  f.now += 5000ms;
  board.status();
  EXPECT_EQ(f.reads, 2);
}

TEST(StatusBoard, ReadsTheGroupAgainWhenTheEpochChanges) {
  Fixture f;
  StatusBoard board(f.deps());
  board.on_block(chain::Block{5, "", 0, {}, {}}, epoch(1));
  board.status();
  EXPECT_EQ(f.reads, 1);
  f.group_epoch = 2;
  board.on_block(chain::Block{6, "", 0, {}, {}}, epoch(2));
  EXPECT_EQ(board.status()["participants"]["epoch_index"], 2);
  EXPECT_EQ(f.reads, 2);
  board.status();
  EXPECT_EQ(f.reads, 2);
}

TEST(StatusBoard, KeepsTheLastGroupWhenTheChainCannotBeRead) {
  Fixture f;
  StatusBoard board(f.deps());
  board.status();
  f.fail = true;
  f.now += 6000ms;
  auto p = board.status()["participants"];
  EXPECT_EQ(p["error"], "connection refused");
  EXPECT_EQ(p["members"][0]["address"], "gonka1me");
  f.fail = false;
  f.now += 6000ms;
  p = board.status()["participants"];
  EXPECT_FALSE(p.contains("error"));
  EXPECT_EQ(f.reads, 3);
}

chain::Block finishing_block(uint64_t height, const std::string& id) {
  chain::Block b;
  b.height = height;
  b.txs.push_back(
      {"H", height, 0, "", {{"inference_finished", {{"inference_id", id}, {"tokens", "1"}, {"cost", "2"}}}}});
  return b;
}

// Polls `board` until it lists `n` inferences (the backfill runs on its own thread), for at most 10 s.
nlohmann::json wait_for_inferences(StatusBoard& board, std::size_t n) {
  for (int i = 0; i < 1000; ++i) {
    auto list = board.status()["inferences"];
    if (list.size() >= n) return list;
    std::this_thread::sleep_for(10ms);
  }
  return board.status()["inferences"];
}

TEST(StatusBoard, BackfillReadsTheBlocksBeforeTheFirstFollowedOne) {
  Fixture f;
  auto deps = f.deps();
  deps.backfill_blocks = 5;
  StatusBoard board(std::move(deps));
  std::vector<uint64_t> asked;
  std::mutex mu;
  board.on_block(finishing_block(20, "followed"), epoch(1));  // the follower runs meanwhile
  board.start_backfill(
      [&](uint64_t h) -> common::Result<chain::Block> {
        std::lock_guard lock(mu);
        asked.push_back(h);
        return finishing_block(h, "old-" + std::to_string(h));
      },
      /*follow_from=*/20);
  auto list = wait_for_inferences(board, 6);
  ASSERT_EQ(list.size(), 6u) << list;
  EXPECT_EQ(list[0]["id"], "followed");
  EXPECT_EQ(list[1]["id"], "old-19");
  EXPECT_EQ(list[5]["id"], "old-15");
  std::lock_guard lock(mu);
  EXPECT_EQ(asked, (std::vector<uint64_t>{15, 16, 17, 18, 19}));
}

TEST(StatusBoard, BackfillStopsAtAnUnreadableBlockAndNearGenesis) {
  Fixture f;
  {
    StatusBoard board(f.deps());
    board.start_backfill(
        [&](uint64_t h) -> common::Result<chain::Block> {
          if (h == 3) return common::make_error(404, "no block 3");
          return finishing_block(h, "b-" + std::to_string(h));
        },
        /*follow_from=*/6);  // reads 1..5 (fewer than backfill_blocks exist), stops at 3
    auto list = wait_for_inferences(board, 2);
    std::this_thread::sleep_for(50ms);
    list = board.status()["inferences"];
    ASSERT_EQ(list.size(), 2u) << list;
    EXPECT_EQ(list[0]["id"], "b-2");
  }
  StatusBoard first_block(f.deps());
  bool called = false;
  first_block.start_backfill(
      [&](uint64_t) -> common::Result<chain::Block> {
        called = true;
        return chain::Block{};
      },
      /*follow_from=*/1);
  EXPECT_FALSE(called);  // nothing before block 1 (and no thread was started)
}

}  // namespace
}  // namespace api::status
