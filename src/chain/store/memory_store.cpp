#include "chain/store/memory_store.h"

#include <algorithm>

namespace chain::store {

namespace {
class MapSnapshot final : public KvReader {
 public:
  explicit MapSnapshot(std::map<std::string, std::string, std::less<>> map) : map_(std::move(map)) {}
  std::optional<std::string> get(std::string_view key) const override {
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  void scan(std::string_view start, std::string_view end, const ScanFn& fn) const override {
    auto stop = end.empty() ? map_.end() : map_.lower_bound(end);
    for (auto it = map_.lower_bound(start); it != stop; ++it)
      if (!fn(it->first, it->second)) return;
  }

 private:
  std::map<std::string, std::string, std::less<>> map_;
};
}  // namespace

std::optional<std::string> MemoryStore::get(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = state_.find(key);
  if (it == state_.end()) return std::nullopt;
  return it->second;
}

void MemoryStore::scan_map(const Map& map, std::string_view start, std::string_view end, const ScanFn& fn) {
  auto stop = end.empty() ? map.end() : map.lower_bound(end);
  for (auto it = map.lower_bound(start); it != stop; ++it)
    if (!fn(it->first, it->second)) return;
}

void MemoryStore::scan(std::string_view start, std::string_view end, const ScanFn& fn) const {
  scan_map(state_, start, end, fn);
}

CommitInfo MemoryStore::last_commit() const {
  std::lock_guard lock(mu_);
  return info_;
}

void MemoryStore::commit(const WriteSet& state, const CommitInfo& info, const WriteSet& aux) {
  std::lock_guard lock(mu_);
  for (auto& [key, value] : state) {
    if (value) {
      state_.insert_or_assign(key, *value);
    } else {
      state_.erase(key);
    }
  }
  for (auto& [key, value] : aux) {
    if (value) {
      aux_.insert_or_assign(key, *value);
    } else {
      aux_.erase(key);
    }
  }
  info_ = info;
  if (history_ > 0) {
    kept_[info.height] = std::make_shared<MapSnapshot>(state_);
    while (kept_.size() > history_ + 1) kept_.erase(kept_.begin());
  }
}

std::optional<CommitStore::StateView> MemoryStore::state_at(uint64_t height) const {
  std::lock_guard lock(mu_);
  if (height == 0 || height == info_.height)
    return StateView{info_.height, std::make_shared<MapSnapshot>(state_)};
  auto it = kept_.find(height);
  if (it == kept_.end()) return std::nullopt;
  return StateView{height, it->second};
}

uint64_t MemoryStore::oldest_kept_height() const {
  std::lock_guard lock(mu_);
  return kept_.empty() ? info_.height : std::min(kept_.begin()->first, info_.height);
}

std::optional<std::string> MemoryStore::get_aux(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = aux_.find(key);
  if (it == aux_.end()) return std::nullopt;
  return it->second;
}

void MemoryStore::scan_aux(std::string_view start, std::string_view end, const ScanFn& fn) const {
  Map copy;
  {
    std::lock_guard lock(mu_);
    copy = aux_;
  }
  scan_map(copy, start, end, fn);
}

std::unique_ptr<KvReader> MemoryStore::snapshot() const {
  std::lock_guard lock(mu_);
  return std::make_unique<MapSnapshot>(state_);
}

}  // namespace chain::store
