#include "api/validation/payload_endpoint.h"

#include "api/json_fields.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "api/inference/openai_error.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "net/uri.h"

namespace api::validation {

using inference::openai_error;
using nlohmann::json;

std::string payload_sign_hash(const std::string& inference_id, int64_t timestamp_ms,
                              const std::string& executor) {
  std::string in = "dapi/payload/v1";
  in.push_back('\0');
  in.append(inference_id).push_back('\0');
  in.append(std::to_string(timestamp_ms)).push_back('\0');
  in.append(executor);
  return common::sha256(in);
}

net::Headers sign_payload_request(const common::secp256k1::PrivateKey& key, const std::string& validator,
                                  const std::string& inference_id, int64_t timestamp_ms,
                                  const std::string& executor) {
  std::string sig = common::secp256k1::sign(key, payload_sign_hash(inference_id, timestamp_ms, executor));
  return {{kHeaderValidator, validator},
          {kHeaderPayloadTimestamp, std::to_string(timestamp_ms)},
          {kHeaderValidatorSignature, common::to_base64(sig)}};
}

bool valid_inference_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

using api::str;

}  // namespace

net::Response serve_payload(const PayloadEndpointDeps& d, const net::Request& req) {
  auto it = req.path_params.find("id");
  std::string id = it == req.path_params.end() ? "" : it->second;
  if (!valid_inference_id(id))
    return openai_error(400, "invalid_value", "the inference id must be 1-128 characters of [A-Za-z0-9._-]");
  std::string validator = req.header(kHeaderValidator);
  std::string ts = req.header(kHeaderPayloadTimestamp);
  auto sig = common::from_base64(req.header(kHeaderValidatorSignature));
  int64_t timestamp = 0;
  auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), timestamp);
  if (validator.empty() || validator.size() > 128 || ts.empty() || ec != std::errc() ||
      p != ts.data() + ts.size() || timestamp <= 0 || !sig || sig->size() != 64) {
    return openai_error(
        401, "invalid_signature",
        "send X-Validator-Address, X-Timestamp (unix ms) and X-Validator-Signature (base64 of a "
        "64-byte secp256k1 signature)");
  }
  if (validator == d.address)
    return openai_error(403, "not_a_validator", "the executor does not validate its own inference");
  int64_t now = d.now_ms ? d.now_ms() : api::unix_ms();
  int64_t skew = now > timestamp ? now - timestamp : timestamp - now;
  if (skew > d.max_skew.count()) {
    return openai_error(401, "stale_timestamp",
                        "X-Timestamp is " + std::to_string(skew) +
                            " ms away from this executor's clock (at most " +
                            std::to_string(d.max_skew.count()) + " ms)");
  }
  auto participant = d.chain->participant(validator);
  if (!participant) {
    if (participant.error().code == 404 || participant.error().code == 400)
      return openai_error(403, "not_a_participant", validator + " is not a registered participant");
    return openai_error(503, "chain_unavailable",
                        "cannot read participant " + validator + ": " + participant.error().message);
  }
  auto account = d.chain->account(validator);
  if (!account)
    return openai_error(401, "invalid_signature", "no account (public key) on chain for " + validator);
  if (!common::secp256k1::is_valid_public_key(account->public_key) ||
      !common::secp256k1::verify(account->public_key, payload_sign_hash(id, timestamp, d.address),
                                 std::string(sig->begin(), sig->end()))) {
    return openai_error(401, "invalid_signature", "X-Validator-Signature does not verify for " + validator);
  }
  auto raw = d.chain->get_raw("/inference/inferences/" + net::percent_encode(id));
  if (!raw) {
    if (raw.error().code == 404)
      return openai_error(404, "not_found", "inference " + id + " is not on chain");
    return openai_error(503, "chain_unavailable", "cannot read inference " + id + ": " + raw.error().message);
  }
  json rec = json::parse(*raw, nullptr, false);
  if (rec.is_discarded() || !rec.is_object() || !rec["inference"].is_object())
    return openai_error(503, "chain_unavailable", "the chain's record of " + id + " is not a JSON object");
  const json& inf = rec["inference"];
  if (str(inf, "executor") != d.address)
    return openai_error(404, "not_found", "inference " + id + " was not executed by " + d.address);
  if (str(inf, "validation") != "PENDING") {
    return openai_error(403, "not_awaiting_validation",
                        "inference " + id + " is not awaiting validation (" + str(inf, "validation") + ")");
  }
  auto payload = d.store->get(id);
  if (!payload) return openai_error(404, "not_found", "no payload of inference " + id + " is stored here");
  return net::json_response(200,
                            payload_to_json(*payload).dump(-1, ' ', false, json::error_handler_t::replace));
}

void register_payload_route(net::Router& router, PayloadEndpointDeps deps) {
  router.add("GET", "/v1/inferences/{id}/payload",
             [deps = std::move(deps)](const net::Request& req) { return serve_payload(deps, req); });
}

}  // namespace api::validation
