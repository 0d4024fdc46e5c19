// The node's HTTP API: status, blocks, tx submission and lookup, app queries and the block event stream.
#pragma once

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
};

class RpcServer {
 public:
  RpcServer(ChainNode& chain, SubmitFn submit, RpcOptions options);
  ~RpcServer();
  void start();
  void stop();
  uint16_t port() const;

 private:
  net::Router routes();
  ChainNode& chain_;
  SubmitFn submit_;
  RpcOptions options_;
  std::unique_ptr<net::Server> server_;
};

}  // namespace node::rpc
