#include "api/status/board.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace api::status
