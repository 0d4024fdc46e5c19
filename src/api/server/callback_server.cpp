#include "api/server/callback_server.h"

#include <memory>

#include <nlohmann/json.hpp>

namespace api::server {
namespace {

net::Response to_response(const CallbackOutcome& o) {
  if (o.status == 200) return net::json_response(200, nlohmann::json{{"status", "OK"}}.dump());
  return net::json_error(o.status, o.error_code.empty() ? "invalid_request" : o.error_code, o.message);
}

}  // namespace

net::Router callback_router(CallbackDeps deps) {
  auto d = std::make_shared<CallbackDeps>(std::move(deps));
  net::Router r;
  // Both the plain and the /mlnode-prefixed paths, as MLNodes of either habit call them.
  for (const std::string prefix : {"", "/mlnode"}) {
    r.add("POST", prefix + "/v1/poc-batches/generated",
          [d](const net::Request& req) { return to_response(d->generated(req.body)); });
    r.add("POST", prefix + "/v1/poc-batches/validated",
          [d](const net::Request& req) { return to_response(d->validated(req.body)); });
  }
  return r;
}

}  // namespace api::server
