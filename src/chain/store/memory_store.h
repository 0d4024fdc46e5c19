// In-memory CommitStore for unit tests and the determinism test.
#pragma once

#include <mutex>

#include "chain/store/commit_store.h"

namespace chain::store {

class MemoryStore final : public CommitStore {
 public:
  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  CommitInfo last_commit() const override;
  void commit(const WriteSet& state, const CommitInfo& info, const WriteSet& aux) override;
  std::optional<std::string> get_aux(std::string_view key) const override;
  void scan_aux(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  std::unique_ptr<KvReader> snapshot() const override;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  static void scan_map(const Map& map, std::string_view start, std::string_view end, const ScanFn& fn);
  mutable std::mutex mu_;
  Map state_;
  Map aux_;
  CommitInfo info_;
};

}  // namespace chain::store
