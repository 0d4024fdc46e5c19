// Registers the inference routes (issue 12) on dapi's public router:
//   POST /v1/chat/completions            (streamed or not; transfer agent or executor)
//   GET  /v1/chat/completions/{id...}    the on-chain inference record
//   GET  /v1/models, /v1/pricing, /v1/governance/models, /v1/governance/pricing, /v1/epochs/current,
//        /v1/participants
#pragma once

#include "api/inference/service.h"
#include "net/http.h"

namespace api::inference {

// `service` must outlive the server that uses `router`.
void register_routes(net::Router& router, InferenceService& service);

}  // namespace api::inference
