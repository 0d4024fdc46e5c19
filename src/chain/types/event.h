#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chain::types {

// A typed event with ordered attributes (not part of the app hash; shown to clients and dapi).
struct Event {
  std::string type;
  std::vector<std::pair<std::string, std::string>> attributes;
  Event& add(std::string key, std::string value) {
    attributes.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

}  // namespace chain::types
