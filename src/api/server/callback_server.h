// MLNode callback server (issue 11 item 7): MLNodes POST their PoC results to
//   POST /v1/poc-batches/generated   a ProofBatch of nonces this participant's node found
//   POST /v1/poc-batches/validated   a ValidatedBatch: this participant's verdict on another participant
// A callback is acknowledged (200) only once its message is durably queued for the chain; malformed bodies
// (non-JSON, unknown node, a foreign public key, wrong shapes) get 4xx and nothing is queued; bodies above
// max_body_bytes get 413 from the HTTP layer. A 5xx (store failure) makes the MLNode post again, which is
// safe: the queue dedupes by batch id.
#pragma once

#include <functional>
#include <string>

#include "net/http.h"

namespace api::server {

// Each handler parses, queues and answers: 200 queued (or already queued), 4xx refused, 5xx retry later.
struct CallbackDeps {
  std::function<net::Response(const std::string& body)> generated;
  std::function<net::Response(const std::string& body)> validated;
};

net::Router callback_router(CallbackDeps deps);

}  // namespace api::server
