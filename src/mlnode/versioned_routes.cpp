#include "mlnode/versioned_routes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "mlnode/http_errors.h"

namespace mlnode {
namespace {

constexpr const char* kParam = "mlnode_version";

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t j = path.find('/', i);
    out.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j;
  }
  return out;
}

bool pattern_matches(const std::string& pattern, const std::vector<std::string>& parts, std::size_t from) {
  const auto pat = segments(pattern);
  for (std::size_t i = 0; i < pat.size(); ++i) {
    const bool capture = pat[i].size() > 2 && pat[i].front() == '{' && pat[i].back() == '}';
    if (capture && pat[i].ends_with("...}")) return from + i < parts.size();
    if (from + i >= parts.size()) return false;
    if (!capture && pat[i] != parts[from + i]) return false;
  }
  return from + pat.size() == parts.size();
}

std::vector<std::string> allowed_methods(const std::vector<KnownRoute>& routes,
                                         const std::vector<std::string>& parts, std::size_t from) {
  std::vector<std::string> out;
  for (const auto& r : routes) {
    if (pattern_matches(r.pattern, parts, from) && std::find(out.begin(), out.end(), r.method) == out.end()) {
      out.push_back(r.method);
    }
  }
  return out;
}

net::Response error(ErrorShape shape, int status, const std::string& message) {
  return shape == ErrorShape::kOpenAi ? openai_error_response(status, message) : api_error(status, message);
}

}  // namespace

bool looks_like_version(const std::string& segment) {
  return segment.size() >= 2 && segment[0] == 'v' && std::isdigit(static_cast<unsigned char>(segment[1]));
}

net::Response wrong_version(const std::string& version, const std::string& asked, const std::string& path,
                            ErrorShape shape) {
  const std::string message = fmt::format(
      "this ML node serves version {}, not {} (request /{}{}); route /{}/ to the ML node of that version "
      "(see deploy/nginx)",
      version, asked, asked, path, asked);
  return error(shape, 404, message);
}

net::Response unmatched_response(const std::string& version, const std::vector<KnownRoute>& routes,
                                 const std::string& method, const std::string& path, ErrorShape shape) {
  const auto parts = segments(path);
  const bool ours = !parts.empty() && parts[0] == version;
  auto allowed = allowed_methods(routes, parts, 0);
  if (allowed.empty() && ours) allowed = allowed_methods(routes, parts, 1);
  if (!allowed.empty()) {
    net::Response r = error(
        shape, 405,
        fmt::format("method {} is not allowed on {}; allowed: {}", method, path, fmt::join(allowed, ", ")));
    r.headers["allow"] = fmt::format("{}", fmt::join(allowed, ", "));
    return r;
  }
  // Another node's version: a version-like segment before a known route, or a dotted one ("v3.0.6") before
  // anything. "v1" alone before an unknown path is the OpenAI API prefix, not a version.
  const bool other_version =
      !parts.empty() && !ours && looks_like_version(parts[0]) &&
      (parts[0].find('.') != std::string::npos || !allowed_methods(routes, parts, 1).empty());
  if (other_version) {
    return wrong_version(version, parts[0], path.substr(path.find(parts[0]) + parts[0].size()), shape);
  }
  return error(shape, 404, fmt::format("no route {} {} on this ML node (version {})", method, path, version));
}

void VersionedRouter::add(const std::string& method, const std::string& path, net::Handler handler,
                          ErrorShape shape) {
  routes_.push_back({method, path});
  router_.add(method, path, handler);
  router_.add(method, fmt::format("/{{{}}}{}", kParam, path),
              [v = version_, path, shape, handler](const net::Request& req) {
                const std::string asked = req.path_params.at(kParam);
                if (asked != v) return wrong_version(v, asked, path, shape);
                return handler(req);
              });
}

void VersionedRouter::add_stream(const std::string& method, const std::string& path,
                                 net::StreamHandler handler, ErrorShape shape) {
  routes_.push_back({method, path});
  router_.add_stream(method, path, handler);
  router_.add_stream(method, fmt::format("/{{{}}}{}", kParam, path),
                     [v = version_, path, shape, handler](const net::Request& req, net::ResponseWriter& out) {
                       const std::string asked = req.path_params.at(kParam);
                       if (asked != v) return write_response(out, wrong_version(v, asked, path, shape));
                       handler(req, out);
                     });
}

void VersionedRouter::add_fallback(ErrorShape shape) {
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"}) {
    router_.add(method, "/{rest...}", [v = version_, routes = routes_, shape](const net::Request& req) {
      return unmatched_response(v, routes, req.method, req.path, shape);
    });
  }
}

}  // namespace mlnode
