#include "chain/store/overlay.h"

namespace chain::store {

std::optional<std::string> Overlay::get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return parent_->get(key);
}

void Overlay::set(std::string_view key, std::string_view value) {
  writes_.insert_or_assign(std::string(key), std::string(value));
}

void Overlay::set_many(KeyValues&& entries) {
  // Ascending keys go in right after the previous one: with the previous entry as hint an insert costs a
  // comparison or two instead of a tree descent over long keys (libstdc++ checks both neighbours of the hint;
  // stepping to the next node instead would climb the tree from the rightmost one every time). A wrong hint
  // (unsorted input) only costs the usual lookup.
  // Large batches were built long before they are written: fetching the bytes of the keys a few entries
  // ahead hides the cache misses their comparisons would otherwise wait for.
  constexpr size_t kPrefetchAhead = 8;
  auto hint = writes_.end();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i + kPrefetchAhead < entries.size()) __builtin_prefetch(entries[i + kPrefetchAhead].first.data());
    auto& [key, value] = entries[i];
    hint = writes_.insert_or_assign(hint, std::move(key), std::move(value));
  }
  entries.clear();
}

void Overlay::erase(std::string_view key) {
  writes_.insert_or_assign(std::string(key), std::nullopt);
}

void Overlay::scan(std::string_view start, std::string_view end, const ScanFn& fn) const {
  auto it = writes_.lower_bound(start);
  auto stop = end.empty() ? writes_.end() : writes_.lower_bound(end);
  bool keep_going = true;
  // Emits buffered entries before `limit` (all remaining ones when limit is null).
  auto drain_until = [&](const std::string_view* limit) {
    while (keep_going && it != stop && (limit == nullptr || std::string_view(it->first) < *limit)) {
      if (it->second) keep_going = fn(it->first, *it->second);
      ++it;
    }
  };
  parent_->scan(start, end, [&](std::string_view key, std::string_view value) {
    drain_until(&key);
    if (!keep_going) return false;
    if (it != stop && std::string_view(it->first) == key) {
      if (it->second) keep_going = fn(it->first, *it->second);
      ++it;
    } else {
      keep_going = fn(key, value);
    }
    return keep_going;
  });
  drain_until(nullptr);
}

void Overlay::write_to(KvStore& target) {
  for (auto& [key, value] : writes_) {
    if (value) {
      target.set(key, *value);
    } else {
      target.erase(key);
    }
  }
  writes_.clear();
}

}  // namespace chain::store
