// Small readers shared by dapi's libraries: a JSON string field that may be absent, and the wall clock in ms.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace api {

// j[key] when it is a string; "" when j is not an object, the key is absent or holds another type.
inline std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Unix time in milliseconds (request timestamps and their freshness windows; never used by the chain).
inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace api
