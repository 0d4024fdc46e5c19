// The chain side of `inferenced`: the app over its RocksDB store, the mempool, block records and
// commit notifications. Thread-safe: RPC threads submit txs and query while the block producer runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "chain/app/app.h"
#include "chain/app/genesis.h"
#include "chain/store/commit_store.h"
#include "node/block_store.h"
#include "node/mempool.h"

namespace node {

struct ChainNodeOptions {
  size_t mempool_max_txs = 50000;
  size_t mempool_max_bytes = 256u << 20;
  // Solo mode's block limits (under CometBFT its consensus param block.max_bytes bounds blocks). A block
  // never holds more than this many bytes of txs; must be at least the genesis max_tx_bytes.
  size_t block_max_txs = 10000;
  size_t block_max_bytes = 16u << 20;
  // Each sender's share of the mempool, in both modes (CheckTx): chain::app::MempoolLimits.
  chain::app::MempoolLimits per_sender;
};

struct SubmitResult {
  uint32_t code = 0;
  std::string log;
  std::string hash;  // upper-case hex
};

class ChainNode {
 public:
  ChainNode(std::unique_ptr<chain::store::CommitStore> store, chain::app::Genesis genesis,
            ChainNodeOptions options = {});

  const chain::app::Genesis& genesis() const { return genesis_; }

  // CheckTx and, if it passes, the mempool (solo mode).
  SubmitResult submit_tx(const std::string& tx);

  // Solo mode: runs InitChain on an empty chain, then finalizes and commits one block of mempool txs.
  BlockRecord produce_block(int64_t now_unix_ms);

  // App::query: params["height"] selects a kept past state; `answered_height` receives the height answered.
  common::Result<nlohmann::json> query(const std::string& path, std::map<std::string, std::string> params,
                                       uint64_t* answered_height = nullptr) const;
  nlohmann::json status() const;
  uint64_t height() const;
  std::optional<BlockRecord> block(uint64_t height) const { return load_block(*store_, height); }
  std::optional<TxLookup> tx(const std::string& hash_hex) const { return find_tx(*store_, hash_hex); }

  // Blocks until the committed height exceeds `height` or the timeout passes; returns the committed height.
  uint64_t wait_for_height_above(uint64_t height, std::chrono::milliseconds timeout) const;
  // Wakes waiters: called after every commit (also by the ABCI server) and on shutdown.
  void notify_committed();
  void shutdown();

  // For the ABCI server: the app and the lock that serialises every call into it.
  chain::app::App& app() { return *app_; }
  chain::store::CommitStore& store() { return *store_; }
  std::mutex& app_mutex() { return app_mu_; }

 private:
  void recheck_mempool_locked();

  std::unique_ptr<chain::store::CommitStore> store_;
  chain::app::Genesis genesis_;
  ChainNodeOptions options_;
  std::unique_ptr<chain::app::App> app_;
  Mempool mempool_;
  std::mutex app_mu_;

  mutable std::mutex commit_mu_;
  mutable std::condition_variable committed_;
  bool shutting_down_ = false;
};

}  // namespace node
