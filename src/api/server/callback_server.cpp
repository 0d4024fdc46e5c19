#include "api/server/callback_server.h"

#include <memory>

namespace api::server {

net::Router callback_router(CallbackDeps deps) {
  auto d = std::make_shared<CallbackDeps>(std::move(deps));
  net::Router r;
  // Both the plain and the /mlnode-prefixed paths, as MLNodes of either habit call them.
  for (const std::string prefix : {"", "/mlnode"}) {
    r.add("POST", prefix + "/v1/poc-batches/generated",
          [d](const net::Request& req) { return d->generated(req.body); });
    r.add("POST", prefix + "/v1/poc-batches/validated",
          [d](const net::Request& req) { return d->validated(req.body); });
  }
  return r;
}

}  // namespace api::server
