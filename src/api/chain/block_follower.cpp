#include "api/chain/block_follower.h"

#include <algorithm>

#include "api/chain/parse.h"
#include "common/log.h"
#include "net/http.h"

namespace api::chain {

BlockFollower::BlockFollower(std::string base_url, uint64_t from_height, OnBlock on_block,
                             BlockFollowerOptions options)
    : base_url_(std::move(base_url)),
      on_block_(std::move(on_block)),
      options_(options),
      next_height_(std::max<uint64_t>(from_height, 1)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

BlockFollower::~BlockFollower() {
  stop();
}

void BlockFollower::start() {
  thread_ = std::thread([this] { run(); });
}

void BlockFollower::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool BlockFollower::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void BlockFollower::run() {
  std::chrono::milliseconds backoff = options_.min_backoff;
  while (!stopping_) {
    if (follow_once()) {
      backoff = options_.min_backoff;
      continue;
    }
    if (!pause(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool BlockFollower::follow_once() {
  const std::string url = base_url_ + "/events/blocks?from=" + std::to_string(next_height_);
  net::SseParser parser;
  bool delivered = false;
  std::string failure;  // why this connection is abandoned, when it is the stream's fault
  auto on_data = [&](const std::string& chunk) {
    for (const auto& event : parser.feed(chunk)) {
      if (stopping_) return false;
      if (event.event != "block") continue;
      auto block = parse_block(event.data);
      if (!block) {
        failure = "malformed block event: " + block.error().message;
        return false;
      }
      if (block->height < next_height_) continue;  // already delivered (a replay after reconnecting)
      if (block->height > next_height_) {
        failure = "block " + std::to_string(block->height) + " arrived while waiting for " +
                  std::to_string(next_height_);
        return false;
      }
      on_block_(*block);
      last_delivered_ = next_height_++;
      delivered = true;
    }
    return !stopping_.load();
  };
  net::ClientResult r = net::Client::stream("GET", url, "", options_.idle_slice, on_data);
  if (stopping_) return delivered;
  if (!failure.empty()) {
    spdlog::warn("block follower: {} (GET {}); reconnecting", failure, url);
  } else if (!r.ok()) {
    // A quiet idle slice ends in a timeout and reconnects at once; other failures back off.
    if (r.error->timed_out) return true;
    spdlog::warn("block follower: {}", r.error->message);
  } else if (r.response->status / 100 != 2) {
    spdlog::warn("block follower: GET {} answered HTTP {}: {}", url, r.response->status, r.response->body);
  } else {
    spdlog::info("block follower: the node closed the event stream at height {}; reconnecting", next_height_);
  }
  return delivered;
}

}  // namespace api::chain
