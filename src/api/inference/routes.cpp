#include "api/inference/routes.h"

namespace api::inference {

void register_routes(net::Router& router, InferenceService& s) {
  router.add_stream("POST", "/v1/chat/completions",
                    [&s](const net::Request& req, net::ResponseWriter& w) { s.chat_completions(req, w); });
  router.add("POST", "/v1/tokenize", [&s](const net::Request& req) { return s.tokenize(req); });
  router.add("GET", "/v1/chat/completions/{id...}",
             [&s](const net::Request& req) { return s.inference_record(req); });
  router.add("GET", "/v1/models", [&s](const net::Request& req) { return s.models(req); });
  router.add("GET", "/v1/pricing", [&s](const net::Request& req) { return s.pricing(req); });
  router.add("GET", "/v1/epochs/current", [&s](const net::Request& req) { return s.epoch_current(req); });
  router.add("GET", "/v1/governance/models",
             [&s](const net::Request& req) { return s.governance_models(req); });
  router.add("GET", "/v1/governance/pricing",
             [&s](const net::Request& req) { return s.governance_pricing(req); });
  router.add("GET", "/v1/participants", [&s](const net::Request& req) { return s.participants(req); });
}

}  // namespace api::inference
