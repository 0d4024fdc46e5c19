// The node's HTTP API: status, blocks, tx submission and lookup, app queries and the block event stream.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/http.h"
#include "node/chain_node.h"

namespace node::rpc {

// Submits a tx: CheckTx into the local mempool (solo) or a broadcast to CometBFT.
using SubmitFn = std::function<SubmitResult(const std::string& tx_bytes)>;

struct RpcOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 1317;
  unsigned threads = 8;
  std::string mode = "solo";  // shown in /status
  // GET /events/blocks streams open at once; one more gets 503 (each holds a handler thread while it runs).
  unsigned max_event_subscribers = 32;
  // A stream without a new block sends an SSE comment this often. Must stay below the read timeout of the
  // clients (dapi's block follower reconnects after 1000 ms of silence: src/api/chain/block_follower.h).
  std::chrono::milliseconds keepalive_interval{400};
  // How soon a stream notices that its client left while no block comes (its thread is then released).
  std::chrono::milliseconds disconnect_poll{100};
};

class RpcServer {
 public:
  RpcServer(ChainNode& chain, SubmitFn submit, RpcOptions options);
  ~RpcServer();
  void start();
  void stop();
  uint16_t port() const;
  // /events/blocks streams running now (also in /status as "event_subscribers").
  unsigned event_subscribers() const { return subscribers_.load(); }

 private:
  net::Router routes();
  ChainNode& chain_;
  SubmitFn submit_;
  RpcOptions options_;
  std::unique_ptr<net::Server> server_;
  std::atomic<unsigned> subscribers_{0};
};

}  // namespace node::rpc
