// RocksDB-backed CommitStore. State, node records and commit metadata live under distinct key prefixes
// of one database so that a block commit is a single WriteBatch (ARCHITECTURE §4.5).
#pragma once

#include <memory>
#include <string>

#include "chain/store/commit_store.h"

namespace chain::store {

class RocksDbStore final : public CommitStore {
 public:
  // Opens (creating if missing) the database in `path`; throws std::runtime_error naming the path on failure.
  // `history`: how many commits before the latest state_at() can answer (RocksDB snapshots held in memory,
  // so old versions of the keys changed in that many blocks are kept from compaction; none survive a restart,
  // the history starts again at the height the store opens with).
  explicit RocksDbStore(const std::string& path, uint64_t history = 0);
  ~RocksDbStore() override;

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
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chain::store
