// Pending transactions that passed CheckTx, in arrival order, bounded in count and bytes.
#pragma once

#include <cstddef>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace node {

class Mempool {
 public:
  Mempool(size_t max_txs, size_t max_bytes) : max_txs_(max_txs), max_bytes_(max_bytes) {}

  bool contains(const std::string& hash) const { return hashes_.count(hash) > 0; }
  bool full_for(size_t tx_size) const { return txs_.size() >= max_txs_ || bytes_ + tx_size > max_bytes_; }
  void add(const std::string& hash, std::string tx);
  // The oldest transactions fitting in the limits (not removed).
  std::vector<std::string> reap(size_t max_bytes, size_t max_txs) const;
  // Removes the `n` oldest transactions (those a committed block just included).
  void drop_front(size_t n);
  // Removes and returns everything (for re-checking after a commit).
  std::vector<std::string> take_all();
  size_t size() const { return txs_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  size_t max_txs_;
  size_t max_bytes_;
  std::deque<std::string> txs_;
  std::set<std::string> hashes_;
  size_t bytes_ = 0;
};

}  // namespace node
