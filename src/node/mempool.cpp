#include "node/mempool.h"

#include "common/tx/tx_codec.h"

namespace node {

void Mempool::add(const std::string& hash, std::string tx) {
  bytes_ += tx.size();
  hashes_.insert(hash);
  txs_.push_back(std::move(tx));
}

std::vector<std::string> Mempool::reap(size_t max_bytes, size_t max_txs) const {
  std::vector<std::string> out;
  size_t bytes = 0;
  for (const auto& tx : txs_) {
    if (out.size() >= max_txs || bytes + tx.size() > max_bytes) break;
    bytes += tx.size();
    out.push_back(tx);
  }
  return out;
}

void Mempool::drop_front(size_t n) {
  for (; n > 0 && !txs_.empty(); --n) {
    bytes_ -= txs_.front().size();
    hashes_.erase(common::tx::tx_hash_hex(txs_.front()));
    txs_.pop_front();
  }
}

std::vector<std::string> Mempool::take_all() {
  std::vector<std::string> out(std::make_move_iterator(txs_.begin()), std::make_move_iterator(txs_.end()));
  txs_.clear();
  hashes_.clear();
  bytes_ = 0;
  return out;
}

}  // namespace node
