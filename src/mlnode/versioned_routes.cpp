#include "mlnode/versioned_routes.h"

#include <fmt/format.h>

#include <cctype>

#include "mlnode/http_errors.h"

namespace mlnode {
namespace {

constexpr const char* kParam = "mlnode_version";

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
  return shape == ErrorShape::kOpenAi ? openai_error_response(404, message) : api_error(404, message);
}

void VersionedRouter::add(const std::string& method, const std::string& path, net::Handler handler, ErrorShape shape) {
  router_.add(method, path, handler);
  router_.add(method, fmt::format("/{{{}}}{}", kParam, path),
              [v = version_, path, shape, handler](const net::Request& req) {
                const std::string asked = req.path_params.at(kParam);
                if (asked != v) return wrong_version(v, asked, path, shape);
                return handler(req);
              });
}

void VersionedRouter::add_stream(const std::string& method, const std::string& path, net::StreamHandler handler,
                                 ErrorShape shape) {
  router_.add_stream(method, path, handler);
  router_.add_stream(method, fmt::format("/{{{}}}{}", kParam, path),
                     [v = version_, path, shape, handler](const net::Request& req, net::ResponseWriter& out) {
                       const std::string asked = req.path_params.at(kParam);
                       if (asked != v) return write_response(out, wrong_version(v, asked, path, shape));
                       handler(req, out);
                     });
}

void VersionedRouter::add_fallback() {
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    router_.add(method, fmt::format("/{{{}}}/{{rest...}}", kParam), [v = version_](const net::Request& req) {
      const std::string asked = req.path_params.at(kParam);
      const std::string rest = "/" + req.path_params.at("rest");
      if (looks_like_version(asked) && asked != v) return wrong_version(v, asked, rest, ErrorShape::kApi);
      return api_error(404, fmt::format("no route {} {} on this ML node (version {})", req.method, req.path, v));
    });
  }
}

}  // namespace mlnode
