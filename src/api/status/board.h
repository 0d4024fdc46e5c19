// What the status page needs at run time, gathered in one place (issue 15 item 4): the last followed block
// and its epoch (fed by dapi's block follower), the last finished inferences (from the same blocks' events),
// this participant's nodes (asked for on each request) and the current epoch group (read from the chain at
// most once per group_ttl, and again as soon as the effective epoch changes). Thread-safe: on_block runs on
// the follower's thread, status() on the public server's threads. A chain read that fails keeps the last
// group and reports the error; only one request at a time reads the chain, the others use what was read.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/chain/types.h"
#include "api/status/recent_inferences.h"
#include "api/status/status_json.h"
#include "common/result.h"

namespace api::status {

struct StatusBoardDeps {
  std::string participant;
  std::string mlnode_version;
  // When set, the version shown (the MLNode version dapi follows now; it changes at an upgrade height);
  // otherwise `mlnode_version`.
  std::function<std::string()> current_mlnode_version;
  std::string denom = "nicoin";
  std::function<std::vector<NodeInput>()> nodes;
  // The current epoch's parent group (chain::ChainClient::epoch_group(kCurrent)); keep its timeout short.
  std::function<common::Result<chain::EpochGroup>()> current_group;
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  std::chrono::milliseconds group_ttl{5000};
  std::size_t recent_inferences = 20;
  uint64_t backfill_blocks = 200;  // blocks read before the first followed one (start_backfill)
};

class StatusBoard {
 public:
  explicit StatusBoard(StatusBoardDeps deps);
  ~StatusBoard();  // stops and joins the backfill
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  void on_block(const chain::Block& block, const chain::EpochInfo& epoch);
  // Reads the backfill_blocks blocks before `follow_from` (the first block dapi follows), oldest first, on a
  // background thread for their finished inferences, so that the page lists recent inferences right after
  // dapi (re)starts. Stops at the first block that cannot be read (logged) or on destruction. At most one
  // backfill runs; a later call is ignored.
  void start_backfill(std::function<common::Result<chain::Block>(uint64_t height)> block_at,
                      uint64_t follow_from);
  // The /v1/status document (status_json.h).
  nlohmann::json status();

 private:
  void refresh_group(std::optional<uint64_t> effective_epoch);

  StatusBoardDeps deps_;
  RecentInferences inferences_;

  std::mutex mu_;  // guards the fields below
  std::optional<uint64_t> height_;
  int64_t block_time_unix_ms_ = 0;
  std::optional<chain::EpochInfo> epoch_;
  std::optional<chain::EpochGroup> group_;
  std::string group_error_;
  std::optional<std::chrono::steady_clock::time_point> group_read_at_;

  std::mutex fetch_mu_;  // held while reading the group from the chain

  std::atomic<bool> stopping_{false};
  std::thread backfill_;
};

}  // namespace api::status
