// A branch of a store: writes are buffered here and reads fall through to the parent. Used for the
// block write-set (over the committed store) and for each transaction (over the block's branch), so a
// failed transaction is dropped by discarding its branch.
#pragma once

#include "chain/store/kv.h"

namespace chain::store {

class Overlay final : public KvStore {
 public:
  explicit Overlay(const KvReader& parent) : parent_(&parent) {}
  // `Overlay child(parent_overlay)` makes a branch ON TOP of parent_overlay, never a copy of its writes
  // (a copy would make every transaction cost O(block size)). Overlays are neither copied nor moved.
  explicit Overlay(const Overlay& parent) : parent_(&parent) {}
  Overlay(Overlay&&) = delete;
  Overlay& operator=(const Overlay&) = delete;
  Overlay& operator=(Overlay&&) = delete;

  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view start, std::string_view end, const ScanFn& fn) const override;
  void set(std::string_view key, std::string_view value) override;
  void erase(std::string_view key) override;
  void set_many(KeyValues&& entries) override;

  const WriteSet& writes() const { return writes_; }
  // Moves this branch's writes into `target` (normally the parent it reads from) and clears them.
  void write_to(KvStore& target);
  void clear() { writes_.clear(); }

 private:
  const KvReader* parent_;
  WriteSet writes_;
};

}  // namespace chain::store
