#include "node/solo/producer.h"

#include <spdlog/spdlog.h>

#include "common/bytes.h"

namespace node::solo {

Producer::Producer(ChainNode& chain, std::chrono::milliseconds block_time) : chain_(chain), block_time_(block_time) {}

Producer::~Producer() { stop(); }

void Producer::start() { thread_ = std::thread([this] { run(); }); }

void Producer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Producer::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void Producer::run() {
  auto next = std::chrono::steady_clock::now();
  uint64_t last_log_height = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
    }
    next += block_time_;
    if (next < std::chrono::steady_clock::now()) next = std::chrono::steady_clock::now() + block_time_;
    try {
      auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
      auto block = chain_.produce_block(now_ms);
      uint64_t h = block.header().height();
      if (block.txs_size() > 0 || h - last_log_height >= 50 || h == 1) {
        spdlog::info("committed block {} txs={} app_hash={}", h, block.txs_size(),
                     common::to_hex(block.app_hash()).substr(0, 16));
        last_log_height = h;
      }
    } catch (const std::exception& e) {
      spdlog::critical("block production halted: {}", e.what());
      std::lock_guard lock(mu_);
      failure_ = e.what();
      stopping_ = true;
      return;
    }
  }
}

}  // namespace node::solo
