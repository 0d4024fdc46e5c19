#include "api/status/routes.h"

#include "api/status/page.h"
#include "api/status/page_assets.h"
#include "common/bytes.h"
#include "common/hash.h"

namespace api::status {
namespace {

std::string content_security_policy() {
  auto hash = [](std::string_view text) {
    return "'sha256-" + common::to_base64(common::sha256(text)) + "'";
  };
  return "default-src 'none'; style-src " + hash(kPageStyle) + "; script-src " + hash(kPageScript) +
         "; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

}  // namespace

void register_routes(net::Router& router, StatusBoard& board) {
  static const std::string csp = content_security_policy();
  router.add("GET", "/", [&board](const net::Request&) {
    net::Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = render_page(board.status());
    r.headers["cache-control"] = "no-store";
    r.headers["content-security-policy"] = csp;
    r.headers["x-content-type-options"] = "nosniff";
    r.headers["referrer-policy"] = "no-referrer";
    return r;
  });
  router.add("GET", "/v1/status", [&board](const net::Request&) {
    auto r = net::json_response(200, board.status().dump());
    r.headers["cache-control"] = "no-store";
    r.headers["x-content-type-options"] = "nosniff";
    return r;
  });
}

}  // namespace api::status
