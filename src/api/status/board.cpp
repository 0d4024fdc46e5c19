#include "api/status/board.h"

#include "common/log.h"

namespace api::status {

StatusBoard::StatusBoard(StatusBoardDeps deps)
    : deps_(std::move(deps)), inferences_(deps_.recent_inferences) {}

StatusBoard::~StatusBoard() {
  stopping_ = true;
  if (backfill_.joinable()) backfill_.join();
}

void StatusBoard::start_backfill(std::function<common::Result<chain::Block>(uint64_t)> block_at,
                                 uint64_t follow_from) {
  if (backfill_.joinable() || follow_from <= 1 || deps_.backfill_blocks == 0) return;
  uint64_t last = follow_from - 1;
  uint64_t first = last > deps_.backfill_blocks ? last - deps_.backfill_blocks + 1 : 1;
  backfill_ = std::thread([this, block_at = std::move(block_at), first, last] {
    for (uint64_t h = first; h <= last && !stopping_; ++h) {
      auto b = block_at(h);
      if (!b) {
        spdlog::warn("status page: cannot read block {} for its inferences: {}", h, b.error().message);
        return;
      }
      inferences_.observe(*b);
    }
  });
}

void StatusBoard::on_block(const chain::Block& block, const chain::EpochInfo& epoch) {
  inferences_.observe(block);
  std::lock_guard lock(mu_);
  height_ = block.height;
  block_time_unix_ms_ = block.time_unix_ms;
  epoch_ = epoch;
}

void StatusBoard::refresh_group(std::optional<uint64_t> effective_epoch) {
  if (!deps_.current_group) return;
  {
    std::lock_guard lock(mu_);
    bool fresh = group_read_at_ && deps_.now() - *group_read_at_ < deps_.group_ttl;
    bool same_epoch = !effective_epoch || (group_ && group_->epoch_index == *effective_epoch);
    if (fresh && same_epoch) return;
  }
  std::unique_lock fetching(fetch_mu_, std::try_to_lock);
  if (!fetching.owns_lock()) return;  // another request is reading it: use what we have
  auto g = deps_.current_group();
  std::lock_guard lock(mu_);
  group_read_at_ = deps_.now();
  if (g) {
    group_ = std::move(*g);
    group_error_.clear();
  } else {
    group_error_ = g.error().message;
  }
}

nlohmann::json StatusBoard::status() {
  std::optional<uint64_t> effective;
  {
    std::lock_guard lock(mu_);
    if (epoch_) effective = epoch_->epoch_index;
  }
  refresh_group(effective);
  StatusInputs in;
  in.participant = deps_.participant;
  in.denom = deps_.denom;
  in.mlnode_version = deps_.current_mlnode_version ? deps_.current_mlnode_version() : deps_.mlnode_version;
  if (deps_.nodes) in.nodes = deps_.nodes();
  in.inferences = inferences_.list();
  {
    std::lock_guard lock(mu_);
    in.height = height_;
    in.block_time_unix_ms = block_time_unix_ms_;
    in.epoch = epoch_;
    in.group = group_;
    in.group_error = group_error_;
  }
  return build_status(in);
}

}  // namespace api::status
