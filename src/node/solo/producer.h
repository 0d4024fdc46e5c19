// Embedded single-validator block producer: one block every `block_time`, empty or not, so that
// heights advance like a CometBFT chain with create_empty_blocks = true.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "node/chain_node.h"

namespace node::solo {

class Producer {
 public:
  Producer(ChainNode& chain, std::chrono::milliseconds block_time);
  ~Producer();
  void start();
  // Finishes the block being produced (if any) and stops.
  void stop();
  // Set when producing a block threw; the process should exit with the message.
  std::string failure() const;

 private:
  void run();
  ChainNode& chain_;
  std::chrono::milliseconds block_time_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string failure_;
};

}  // namespace node::solo
