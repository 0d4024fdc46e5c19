#include "node/chain_node.h"

#include <spdlog/spdlog.h>

#include "chain/types/codes.h"
#include "common/bytes.h"

namespace node {

namespace {
std::string upper_hex(const std::string& bytes) {
  std::string h = common::to_hex(bytes);
  for (auto& c : h) c = static_cast<char>(std::toupper(c));
  return h;
}
}  // namespace

ChainNode::ChainNode(std::unique_ptr<chain::store::CommitStore> store, chain::app::Genesis genesis,
                     ChainNodeOptions options)
    : store_(std::move(store)),
      genesis_(std::move(genesis)),
      options_(options),
      app_(std::make_unique<chain::app::App>(*store_)),
      mempool_(options.mempool_max_txs, options.mempool_max_bytes) {
  if (options_.block_max_bytes < genesis_.max_tx_bytes) {
    throw std::runtime_error("the block byte limit (" + std::to_string(options_.block_max_bytes) +
                             ") is below the genesis max_tx_bytes (" + std::to_string(genesis_.max_tx_bytes) +
                             "): a tx of the maximum size could never be included");
  }
  if (options_.block_max_txs == 0) throw std::runtime_error("the block tx limit must be at least 1");
  app_->set_mempool_limits(options_.per_sender);
  if (app_->has_genesis() && app_->chain_id() != genesis_.chain_id) {
    throw std::runtime_error("the state in this home belongs to chain \"" + app_->chain_id() +
                             "\" but genesis.json says \"" + genesis_.chain_id + "\"");
  }
}

SubmitResult ChainNode::submit_tx(const std::string& tx) {
  SubmitResult out;
  out.hash = common::tx::tx_hash_hex(tx);
  std::lock_guard lock(app_mu_);
  if (mempool_.contains(out.hash)) {
    out.code = chain::codes::kTxInMempoolCache;
    out.log = "tx already in mempool";
    return out;
  }
  if (mempool_.full_for(tx.size())) {
    out.code = chain::codes::kMempoolFull;
    out.log = "mempool is full (" + std::to_string(mempool_.size()) + " txs); retry after the next block";
    return out;
  }
  if (!app_->has_genesis()) {
    if (auto h = app_->init_chain(genesis_); !h) throw std::runtime_error(h.error().message);
  }
  auto r = app_->check_tx(tx);
  out.code = r.code;
  out.log = r.log;
  if (r.code == 0) mempool_.add(out.hash, tx);
  return out;
}

BlockRecord ChainNode::produce_block(int64_t now_unix_ms) {
  BlockRecord record;
  {
    std::lock_guard lock(app_mu_);
    auto info = app_->info();
    if (info.height == 0 && !app_->has_genesis()) {
      auto h = app_->init_chain(genesis_);
      if (!h) throw std::runtime_error("genesis rejected: " + h.error().message);
      spdlog::info("initialized chain {} from genesis, app hash {}", genesis_.chain_id, common::to_hex(*h));
    }
    BlockHeaderInfo header;
    header.chain_id = genesis_.chain_id;
    header.height = info.height + 1;
    header.time_unix_ms = now_unix_ms;
    if (auto prev = load_block(*store_, info.height)) {
      header.last_block_hash = prev->hash();
      header.time_unix_ms = std::max(now_unix_ms, prev->header().time_unix_ms() + 1);
    } else if (info.height == 0) {
      header.time_unix_ms = std::max(now_unix_ms, genesis_.genesis_time_unix_ms);
    }
    if (!genesis_.validators.empty())
      header.proposer_address = genesis_.validators.front().pub_key.substr(0, 20);
    auto txs = mempool_.reap(options_.block_max_bytes, options_.block_max_txs);
    chain::app::BlockInfo block{header.chain_id, header.height, header.time_unix_ms, header.last_block_hash,
                                header.proposer_address};
    auto result = app_->finalize_block(block, txs);
    record = make_block_record(header, txs, result);
    app_->commit(block_aux_records(record));
    mempool_.drop_front(txs.size());  // reap() takes from the front, so these are exactly the included txs
    recheck_mempool_locked();
  }
  notify_committed();
  return record;
}

void ChainNode::recheck_mempool_locked() {
  for (auto& tx : mempool_.take_all()) {
    if (app_->check_tx(tx).code == 0) mempool_.add(common::tx::tx_hash_hex(tx), std::move(tx));
  }
}

common::Result<nlohmann::json> ChainNode::query(const std::string& path,
                                                std::map<std::string, std::string> params,
                                                uint64_t* answered_height) const {
  return app_->query(path, std::move(params), answered_height);
}

uint64_t ChainNode::height() const {
  return store_->last_commit().height;
}

nlohmann::json ChainNode::status() const {
  auto info = store_->last_commit();
  nlohmann::json s{
      {"chain_id", genesis_.chain_id}, {"height", info.height}, {"app_hash", upper_hex(info.app_hash)}};
  if (auto b = load_block(*store_, info.height)) {
    s["latest_block_time_unix_ms"] = b->header().time_unix_ms();
    s["latest_block_hash"] = upper_hex(b->hash());
  }
  return s;
}

uint64_t ChainNode::wait_for_height_above(uint64_t height, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(commit_mu_);
  committed_.wait_for(lock, timeout, [&] { return shutting_down_ || store_->last_commit().height > height; });
  return store_->last_commit().height;
}

void ChainNode::notify_committed() {
  std::lock_guard lock(commit_mu_);
  committed_.notify_all();
}

void ChainNode::shutdown() {
  std::lock_guard lock(commit_mu_);
  shutting_down_ = true;
  committed_.notify_all();
}

}  // namespace node
