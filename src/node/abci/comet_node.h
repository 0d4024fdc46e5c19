// CometBFT mode of `inferenced start --abci ADDR`: CometBFT drives the chain over ABCI instead of the solo
// producer. The ABCI server shares the node's app and app lock; each finalized block is recorded in the node's
// block store in the same atomic commit as the state, and block-event waiters are woken after Commit.
// Transactions posted to the node's RPC go to CometBFT's mempool through broadcast_tx_sync.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "net/http.h"
#include "node/chain_node.h"

namespace node::abci {

struct CometOptions {
  std::string abci_address = "tcp://127.0.0.1:26658";  // where CometBFT's proxy_app connects
  std::string comet_rpc = "http://127.0.0.1:26657";    // CometBFT's RPC, for broadcast_tx_sync
  std::chrono::milliseconds broadcast_timeout{10000};
  std::string version = "0.1.0";  // reported in Info
};

class CometNode {
 public:
  CometNode(ChainNode& chain, CometOptions options);
  ~CometNode();
  CometNode(const CometNode&) = delete;
  CometNode& operator=(const CometNode&) = delete;

  // Starts listening for CometBFT; throws std::runtime_error if the address cannot be used.
  void start();
  void stop();
  std::string abci_address() const;

  // POST /txs: forwards the tx to CometBFT (CheckTx then runs on this app through the mempool connection).
  SubmitResult submit_tx(const std::string& tx) const;

  // Non-empty once the ABCI connection failed (protocol error or app exception): the node must exit, and
  // CometBFT, which stops when a connection drops, must be restarted with it.
  std::string failure() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The answer of CometBFT's broadcast_tx_sync (JSON-RPC over HTTP) as a SubmitResult; `hash` is the tx hash.
SubmitResult submit_result_from_broadcast(const net::ClientResult& answer, const std::string& hash,
                                          const std::string& comet_rpc);

}  // namespace node::abci
