// Versioned routing: every route is served both as `/path` and as `/<version>/path`. A request for another
// version's prefix of a known route gets 404 with a message naming both versions, so a misconfigured proxy is
// easy to spot. Everything no route takes goes to the fallback: 405 (with Allow) when the path is known under
// other methods, else 404 — in the OpenAI error shape on the inference port. A first segment is read as a
// version only when the rest of the path is a known route, so "/v1/completions" is an unknown route, not
// "version v1".
#pragma once

#include <string>
#include <vector>

#include "net/http.h"

namespace mlnode {

enum class ErrorShape { kApi, kOpenAi };

struct KnownRoute {
  std::string method;
  std::string pattern;  // "/v1/models/{id...}"
};

class VersionedRouter {
 public:
  VersionedRouter(std::string version, net::Router& router) : version_(std::move(version)), router_(router) {}
  void add(const std::string& method, const std::string& path, net::Handler handler,
           ErrorShape shape = ErrorShape::kApi);
  void add_stream(const std::string& method, const std::string& path, net::StreamHandler handler,
                  ErrorShape shape = ErrorShape::kApi);
  // Catch-all registered last, for every method: see unmatched_response().
  void add_fallback(ErrorShape shape);

  const std::string& version() const { return version_; }

 private:
  std::string version_;
  net::Router& router_;
  std::vector<KnownRoute> routes_;
};

// The 404 for a request that asked for another version than `version`.
net::Response wrong_version(const std::string& version, const std::string& asked, const std::string& path,
                            ErrorShape shape);

// The answer to `method path` that no route took (pure; `routes` are the unversioned patterns).
net::Response unmatched_response(const std::string& version, const std::vector<KnownRoute>& routes,
                                 const std::string& method, const std::string& path, ErrorShape shape);

// True for a first path segment that looks like a version ("v3.0.8", "v1").
bool looks_like_version(const std::string& segment);

}  // namespace mlnode
