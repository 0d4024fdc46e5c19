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
  explicit RocksDbStore(const std::string& path);
  ~RocksDbStore() override;

  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  CommitInfo last_commit() const override;
  void commit(const WriteSet& state, const CommitInfo& info, const WriteSet& aux) override;
  std::optional<std::string> get_aux(std::string_view key) const override;
  void scan_aux(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  std::unique_ptr<KvReader> snapshot() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chain::store
