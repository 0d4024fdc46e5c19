// Test double of inferenced's RPC on net's server: canned GET answers, a scripted POST /txs and a block
// event stream that can drop connections, replay old blocks or stay silent.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "net/http.h"

namespace api::chain::testing {

// The JSON of block `height` as GET /blocks/{h} and the event stream show it.
std::string block_json(uint64_t height);

class FakeChainRpc {
 public:
  FakeChainRpc();
  ~FakeChainRpc();

  std::string url() const;
  // GET `path` answers `status` with `body` (any path not set answers 404 with an error body).
  void set(const std::string& path, int status, const std::string& body);
  // Handles POST /txs; default: 500.
  void on_broadcast(std::function<net::Response(const net::Request&)> handler);
  // Delay before every GET answer.
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay; }

  // Event stream: blocks 1..tip exist; each connection serves from (from - replay) up to tip, closing after
  // `drop_after` blocks when non-zero, then stays open (silent) until the client leaves.
  void set_tip(uint64_t tip) { tip_ = tip; }
  void set_drop_after(int blocks) { drop_after_ = blocks; }
  void set_replay(uint64_t blocks) { replay_ = blocks; }
  std::vector<uint64_t> stream_from_values() const;

 private:
  net::Router routes();

  mutable std::mutex mu_;
  std::map<std::string, std::pair<int, std::string>> answers_;
  std::function<net::Response(const net::Request&)> broadcast_;
  std::vector<uint64_t> stream_from_;
  std::atomic<std::chrono::milliseconds> delay_{std::chrono::milliseconds(0)};
  std::atomic<uint64_t> tip_{0};
  std::atomic<int> drop_after_{0};
  std::atomic<uint64_t> replay_{0};
  net::Server server_;
};

}  // namespace api::chain::testing
