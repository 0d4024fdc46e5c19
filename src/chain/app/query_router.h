// Read-only queries over committed state, answered as JSON. Paths use "{name}" captures:
// "/bank/balances/{address}". A last segment "{name...}" captures the rest of the path (one or more segments,
// joined by '/'), for ids that contain '/': "/inference/governance/models/{id...}" matches ".../Qwen/QwQ-32B".
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/store/kv.h"
#include "common/result.h"

namespace chain::app {

struct QueryRequest {
  const store::KvReader& state;
  const std::string& hrp;
  std::map<std::string, std::string> params;  // path captures and URL query parameters
  std::string param(const std::string& name, const std::string& fallback = "") const {
    auto it = params.find(name);
    return it == params.end() ? fallback : it->second;
  }
};

using QueryHandler = std::function<common::Result<nlohmann::json>(const QueryRequest&)>;

class QueryRouter {
 public:
  void add(const std::string& pattern, QueryHandler handler);
  // Fills path captures into `params`; nullptr when no route matches.
  const QueryHandler* match(const std::string& path, std::map<std::string, std::string>& params) const;
  std::vector<std::string> patterns() const;

 private:
  struct Route {
    std::string pattern;
    std::vector<std::string> segments;
    QueryHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace chain::app
