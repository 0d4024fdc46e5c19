// In-memory CommitStore for unit tests and the determinism test.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "chain/store/commit_store.h"

namespace chain::store {

class MemoryStore final : public CommitStore {
 public:
  // Keeps the state of the last `history` commits besides the latest for state_at() (copies: tests only).
  explicit MemoryStore(uint64_t history = 0) : history_(history) {}

  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  CommitInfo last_commit() const override;
  void commit(const WriteSet& state, const CommitInfo& info, const WriteSet& aux) override;
  std::optional<std::string> get_aux(std::string_view key) const override;
  void scan_aux(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  std::unique_ptr<KvReader> snapshot() const override;
  std::optional<StateView> state_at(uint64_t height) const override;
  uint64_t oldest_kept_height() const override;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  static void scan_map(const Map& map, std::string_view start, std::string_view end, const ScanFn& fn);
  mutable std::mutex mu_;
  Map state_;
  Map aux_;
  CommitInfo info_;
  uint64_t history_;
  std::map<uint64_t, std::shared_ptr<const KvReader>> kept_;  // height -> state after that commit
};

}  // namespace chain::store
