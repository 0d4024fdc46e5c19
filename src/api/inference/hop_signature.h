// The transfer agent → executor hop (issue 12 items 2-3). The transfer agent forwards the client's body to
// the executor's dapi with these headers, signed with its secp256k1 account key:
//   X-Inference-Id:     the inference id (already started on chain by MsgStartInference)
//   X-Transfer-Agent:   the transfer agent's bech32 address
//   X-Timestamp:        unix time in milliseconds when the transfer agent signed
//   X-TA-Signature:     base64 of the 64-byte signature over forward_sign_hash(...)
// forward_sign_hash = SHA-256("dapi/forward/v1" 0 inference_id 0 decimal timestamp 0 executor address 0
//                             SHA-256(body))
// The executor checks the signature with the transfer agent's on-chain public key, that the on-chain record
// names that transfer agent and itself as executor, that the timestamp is within max_skew of its clock, and
// that the id was not served before (replay).
//
// The tokenize hop (a transfer agent with no MLNode serving the model, e.g. all its nodes mine during PoC,
// asks another participant's dapi to count the prompt tokens: POST /v1/tokenize) carries the same headers
// without X-Inference-Id, signed over
// tokenize_sign_hash = SHA-256("dapi/tokenize/v1" 0 decimal timestamp 0 executor address 0 SHA-256(body)).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/secp256k1.h"
#include "net/http.h"

namespace api::inference {

inline constexpr const char* kHeaderInferenceId = "x-inference-id";
inline constexpr const char* kHeaderTransferAgent = "x-transfer-agent";
inline constexpr const char* kHeaderTimestamp = "x-timestamp";
inline constexpr const char* kHeaderSignature = "x-ta-signature";

std::string forward_sign_hash(const std::string& inference_id, int64_t timestamp_ms,
                              const std::string& executor, const std::string& body);

std::string tokenize_sign_hash(int64_t timestamp_ms, const std::string& executor, const std::string& body);

struct ForwardHeaders {
  std::string inference_id;
  std::string transfer_agent;
  int64_t timestamp_ms = 0;
  std::string signature;  // raw 64 bytes
};

net::Headers sign_forward(const common::secp256k1::PrivateKey& key, const std::string& transfer_agent,
                          const std::string& inference_id, int64_t timestamp_ms, const std::string& executor,
                          const std::string& body);

// The headers of the tokenize hop (X-Transfer-Agent, X-Timestamp, X-TA-Signature).
net::Headers sign_tokenize(const common::secp256k1::PrivateKey& key, const std::string& transfer_agent,
                           int64_t timestamp_ms, const std::string& executor, const std::string& body);
// The tokenize hop's headers (inference_id stays empty); nullopt with `error` set when missing or malformed.
std::optional<ForwardHeaders> read_tokenize_headers(const net::Request& req, std::string& error);
// Like verify_forward, for the tokenize hop.
std::string verify_tokenize(const ForwardHeaders& h, const std::string& ta_public_key33,
                            const std::string& executor, const std::string& body, int64_t now_ms,
                            std::chrono::milliseconds max_skew);

// The forward headers of a request, if it carries X-Inference-Id (the executor role); nullopt when it does
// not. `error` is set (and nullopt returned) when some are present but malformed.
std::optional<ForwardHeaders> read_forward_headers(const net::Request& req, std::string& error);

// Checks signature and freshness (|now - timestamp| <= max_skew). Empty string = valid; else why not.
std::string verify_forward(const ForwardHeaders& h, const std::string& ta_public_key33,
                           const std::string& executor, const std::string& body, int64_t now_ms,
                           std::chrono::milliseconds max_skew);

}  // namespace api::inference
