// Key-value access used by every module. Keys and values are byte strings; iteration is always in
// ascending byte order of keys, which is what keeps state transitions deterministic.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chain::store {

// fn(key, value) returns false to stop the scan early.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

class KvReader {
 public:
  virtual ~KvReader() = default;
  virtual std::optional<std::string> get(std::string_view key) const = 0;
  // Visits keys in [start, end) ascending; an empty `end` means "to the end of the key space".
  virtual void scan(std::string_view start, std::string_view end, const ScanFn& fn) const = 0;

  bool has(std::string_view key) const { return get(key).has_value(); }
  // Visits every key starting with `prefix`.
  void scan_prefix(std::string_view prefix, const ScanFn& fn) const;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

class KvStore : public KvReader {
 public:
  virtual void set(std::string_view key, std::string_view value) = 0;
  virtual void erase(std::string_view key) = 0;
  // Sets many entries at once, taking ownership of their bytes. Same result as calling set() for each in
  // order; stores may insert faster when the keys come ascending (as callers that build sorted records do).
  virtual void set_many(KeyValues&& entries) {
    for (const auto& [key, value] : entries) set(key, value);
  }
};

// Sorted pending writes: a value, or nullopt for a deletion.
using WriteSet = std::map<std::string, std::optional<std::string>, std::less<>>;

// The smallest key greater than every key with this prefix ("" if there is none, i.e. prefix is all 0xff).
std::string prefix_end(std::string_view prefix);

}  // namespace chain::store
