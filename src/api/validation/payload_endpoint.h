// GET /v1/inferences/{id}/payload on the executor's public server (issue 12 item 6;
// docs/inference-validation.md "Payload endpoint"): the payload (payload.h) of an inference this participant
// executed, answered only to another registered participant that proves who it is, and only while the
// inference awaits validation.
//
// Request headers (the validator signs with its secp256k1 account key, like the transfer agent's hop):
//   X-Validator-Address    the caller's bech32 address
//   X-Timestamp            unix milliseconds at signing; |now - X-Timestamp| <= max_skew (30 s)
//   X-Validator-Signature  base64 of the 64-byte signature over payload_sign_hash(...)
// payload_sign_hash = SHA-256("dapi/payload/v1" 0 inference_id 0 decimal timestamp 0 executor address)
//
// Answers (errors OpenAI-shaped): 200 payload JSON; 400 an id that is not 1-128 characters of [A-Za-z0-9._-];
// 401 missing/malformed headers, a stale timestamp, a bad signature or no public key on chain; 403 the caller
// is not a registered participant, is this executor itself, or the inference is not awaiting validation
// (not sampled, already decided, past its deadline); 404 an inference unknown on chain, executed by someone
// else, or with no payload stored here; 503 the chain cannot be read.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "api/chain/chain_client.h"
#include "api/validation/payload_store.h"
#include "common/secp256k1.h"
#include "net/http.h"

namespace api::validation {

inline constexpr const char* kHeaderValidator = "x-validator-address";
inline constexpr const char* kHeaderPayloadTimestamp = "x-timestamp";
inline constexpr const char* kHeaderValidatorSignature = "x-validator-signature";

std::string payload_sign_hash(const std::string& inference_id, int64_t timestamp_ms,
                              const std::string& executor);
net::Headers sign_payload_request(const common::secp256k1::PrivateKey& key, const std::string& validator,
                                  const std::string& inference_id, int64_t timestamp_ms,
                                  const std::string& executor);
// Ids the endpoint and the validator accept: 1-128 characters of [A-Za-z0-9._-] (dapi's ids are
// chatcmpl-<hex>).
bool valid_inference_id(const std::string& id);

struct PayloadEndpointDeps {
  const chain::ChainClient* chain = nullptr;
  const PayloadStore* store = nullptr;
  std::string address;  // this executor
  std::chrono::milliseconds max_skew{30000};
  std::function<int64_t()> now_ms;  // unix ms; the system clock when empty
};

net::Response serve_payload(const PayloadEndpointDeps& deps, const net::Request& req);
// Registers GET /v1/inferences/{id}/payload.
void register_payload_route(net::Router& router, PayloadEndpointDeps deps);

}  // namespace api::validation
