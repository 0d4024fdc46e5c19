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
// "{name...}" as the last segment.
bool is_rest_capture(const std::vector<std::string>& segments) {
  if (segments.empty()) return false;
  const auto& last = segments.back();
  return last.size() > 5 && last.front() == '{' && last.compare(last.size() - 4, 4, "...}") == 0;
}
}  // namespace

void QueryRouter::add(const std::string& pattern, QueryHandler handler) {
  routes_.push_back(Route{pattern, split_path(pattern), std::move(handler)});
}

const QueryHandler* QueryRouter::match(const std::string& path,
                                       std::map<std::string, std::string>& params) const {
  auto segments = split_path(path);
  // Exact-length routes first, so a "{name...}" route never shadows a more specific one.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& route : routes_) {
      bool rest = is_rest_capture(route.segments);
      if (rest != (pass == 1)) continue;
      if (rest ? segments.size() < route.segments.size() : route.segments.size() != segments.size()) continue;
      std::map<std::string, std::string> captures;
      bool ok = true;
      for (size_t i = 0; i < route.segments.size() && ok; ++i) {
        const auto& want = route.segments[i];
        if (rest && i + 1 == route.segments.size()) {
          std::string joined = segments[i];
          for (size_t j = i + 1; j < segments.size(); ++j) joined += "/" + segments[j];
          captures[want.substr(1, want.size() - 5)] = joined;
        } else if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
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
  }
  return nullptr;
}

std::vector<std::string> QueryRouter::patterns() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.pattern);
  return out;
}

}  // namespace chain::app
