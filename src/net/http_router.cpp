#include <stdexcept>
#include <string_view>

#include "net/http.h"

namespace net {
namespace {

// "/a/b/" -> {"a", "b"}: the leading slash and one trailing slash are not segments. The views point into
// `path`.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.ends_with('/')) path.remove_suffix(1);
  if (path.empty()) return parts;
  while (true) {
    std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    path.remove_prefix(slash + 1);
  }
}

bool is_capture(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool is_rest_capture(std::string_view segment) {
  return is_capture(segment) && segment.ends_with("...}");
}

std::string capture_name(std::string_view segment) {
  segment = segment.substr(1, segment.size() - 2);
  if (segment.ends_with("...")) segment.remove_suffix(3);
  return std::string(segment);
}

bool match_route(const std::vector<std::string>& pattern, std::string_view path,
                 std::map<std::string, std::string>& params) {
  std::vector<std::string_view> parts = split_path(path);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string& segment = pattern[i];
    if (is_rest_capture(segment)) {
      // The remainder is taken from the raw path so that a trailing slash or empty segments survive.
      params[capture_name(segment)] =
          i < parts.size() ? std::string(path.substr(parts[i].data() - path.data())) : std::string{};
      return true;
    }
    if (i >= parts.size()) return false;
    if (is_capture(segment)) {
      if (parts[i].empty()) return false;
      params[capture_name(segment)] = std::string(parts[i]);
    } else if (segment != parts[i]) {
      return false;
    }
  }
  return pattern.size() == parts.size();
}

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> segments;
  for (std::string_view part : split_path(pattern)) segments.emplace_back(part);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (is_rest_capture(segments[i])) {
      throw std::invalid_argument("route pattern " + pattern +
                                  ": a {name...} capture must be the last segment");
    }
  }
  return segments;
}

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back({method, split_pattern(pattern), std::move(handler), {}});
}

void Router::add_stream(const std::string& method, const std::string& pattern, StreamHandler handler) {
  routes_.push_back({method, split_pattern(pattern), {}, std::move(handler)});
}

Router::Match Router::match(const std::string& method, const std::string& path) const {
  Match result;
  for (const Route& route : routes_) {
    std::map<std::string, std::string> params;
    if (!match_route(route.segments, path, params)) continue;
    if (route.method != method) {
      result.path_known = true;
      continue;
    }
    if (route.stream) {
      result.stream = &route.stream;
    } else {
      result.handler = &route.handler;
    }
    result.params = std::move(params);
    return result;
  }
  return result;
}

}  // namespace net
