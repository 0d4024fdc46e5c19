// Follows inferenced block by block over its event stream (GET /events/blocks?from=H, server-sent events)
// so dapi never polls. Blocks reach the callback strictly in height order, without gaps or duplicates; after
// a dropped stream the follower reconnects with backoff and resumes at the next undelivered height.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "api/chain/types.h"

namespace api::chain {

struct BlockFollowerOptions {
  // net::Client cannot cancel a blocking read, so the stream is read in slices of this idle time: stop()
  // takes effect within one slice, and a slice without data (not even a keepalive) reconnects at once.
  std::chrono::milliseconds idle_slice{1000};
  std::chrono::milliseconds min_backoff{100};  // after a failed connection; doubles up to max_backoff
  std::chrono::milliseconds max_backoff{5000};
};

class BlockFollower {
 public:
  // Called on the follower's thread, one block at a time; must not throw.
  using OnBlock = std::function<void(const Block&)>;

  // Delivers blocks from `from_height` (>= 1) on.
  BlockFollower(std::string base_url, uint64_t from_height, OnBlock on_block,
                BlockFollowerOptions options = {});
  ~BlockFollower();  // stop()
  BlockFollower(const BlockFollower&) = delete;
  BlockFollower& operator=(const BlockFollower&) = delete;

  void start();
  // Returns once the follower's thread has ended; no callback runs after it returns. Idempotent.
  void stop();
  // 0 until the first block is delivered.
  uint64_t last_delivered_height() const { return last_delivered_.load(); }

 private:
  void run();
  // One connection: reads blocks until the stream ends, fails or stop(). True = reconnect at once (it
  // delivered blocks, or the stream was only quiet for a slice); false = back off first.
  bool follow_once();
  // Waits `delay` unless stop() comes first; returns false when stopping.
  bool pause(std::chrono::milliseconds delay);

  std::string base_url_;
  OnBlock on_block_;
  BlockFollowerOptions options_;
  uint64_t next_height_;
  std::atomic<uint64_t> last_delivered_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace api::chain
