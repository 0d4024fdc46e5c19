#include "chain/app/query_router.h"

namespace chain::app {

namespace {
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

void QueryRouter::add(const std::string& pattern, QueryHandler handler) {
  routes_.push_back(Route{pattern, split_path(pattern), std::move(handler)});
}

const QueryHandler* QueryRouter::match(const std::string& path, std::map<std::string, std::string>& params) const {
  auto segments = split_path(path);
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> captures;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        captures[want.substr(1, want.size() - 2)] = segments[i];
      } else {
        ok = want == segments[i];
      }
    }
    if (ok) {
      for (auto& [k, v] : captures) params[k] = v;
      return &route.handler;
    }
  }
  return nullptr;
}

std::vector<std::string> QueryRouter::patterns() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.pattern);
  return out;
}

}  // namespace chain::app
