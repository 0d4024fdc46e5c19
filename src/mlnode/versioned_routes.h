// Versioned routing: every route is served both as `/path` and as `/<version>/path`. A request for another
// version's prefix gets 404 with a message naming both versions, so a misconfigured proxy is easy to spot.
#pragma once

#include <string>

#include "net/http.h"

namespace mlnode {

enum class ErrorShape { kApi, kOpenAi };

class VersionedRouter {
 public:
  VersionedRouter(std::string version, net::Router& router) : version_(std::move(version)), router_(router) {}
  void add(const std::string& method, const std::string& path, net::Handler handler, ErrorShape shape = ErrorShape::kApi);
  void add_stream(const std::string& method, const std::string& path, net::StreamHandler handler,
                  ErrorShape shape = ErrorShape::kApi);
  // Catch-all registered last: unknown paths under a version-like prefix get a clear 404.
  void add_fallback();

  const std::string& version() const { return version_; }

 private:
  std::string version_;
  net::Router& router_;
};

// The 404 for a request that asked for another version than `version`.
net::Response wrong_version(const std::string& version, const std::string& asked, const std::string& path,
                            ErrorShape shape);

// True for a first path segment that looks like a version ("v3.0.8", "v1").
bool looks_like_version(const std::string& segment);

}  // namespace mlnode
