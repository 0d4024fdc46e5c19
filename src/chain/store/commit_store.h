// The persistent store under the app: committed state plus (height, app hash), written atomically.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "chain/store/kv.h"

namespace chain::store {

struct CommitInfo {
  uint64_t height = 0;   // 0 = nothing committed yet
  std::string app_hash;  // 32 bytes, or empty at height 0
};

class CommitStore : public KvReader {
 public:
  virtual CommitInfo last_commit() const = 0;
  // Atomically applies the state writes and records (height, app hash); `aux` holds node-side records
  // (blocks, tx index) that share the same atomic write but are not application state.
  virtual void commit(const WriteSet& state, const CommitInfo& info, const WriteSet& aux) = 0;
  // Node-side records written through `aux`.
  virtual std::optional<std::string> get_aux(std::string_view key) const = 0;
  virtual void scan_aux(std::string_view start, std::string_view end, const ScanFn& fn) const = 0;
  // A consistent read-only view of committed state for queries running beside block execution.
  virtual std::unique_ptr<KvReader> snapshot() const = 0;

  // The state as committed at `height` (0: the last commit, read atomically with its height), for queries
  // that name a past height (issue 13 fault 9), or nullopt when this store does not keep that height. A store
  // keeps the last `history` commits before the latest (node configuration, not consensus: docs/rpc.md); it
  // never returns a view of another height than the one asked.
  struct StateView {
    uint64_t height = 0;
    std::shared_ptr<const KvReader> reader;
  };
  virtual std::optional<StateView> state_at(uint64_t height) const = 0;
  // The oldest height state_at() answers now (the last committed height when no history is kept).
  virtual uint64_t oldest_kept_height() const = 0;
};

}  // namespace chain::store
