// The executor's side of inference validation (issue 12 item 6; docs/inference-validation.md "Executor").
// For every inference it runs, the executor records a payload — what a validator needs to re-run and compare
// it — while it relays the MLNode's answer:
//   - the prompt: the request body as the executor received it, serialized canonically (nlohmann's dump: keys
//     sorted, no spaces); SHA-256 of it is the record's prompt_hash, which binds the payload to the request
//     the transfer agent started on chain;
//   - mlnode_request: the exact body sent to the MLNode (logprobs turned on, stream options, seed as given);
//   - content: the concatenated choices' content as relayed (SHA-256 = the record's response_hash);
//   - logprobs: per generated token {token, logprob, top_logprobs}.
// To have the logprobs the MLNode is asked for `logprobs: true` (and `top_logprobs: kTopLogprobs` when the
// client named none); when the client did not ask for logprobs they are removed from every answer it gets
// (whole completion or stream chunks). Pure except the environment read of the test fault.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/validation/logprobs.h"

namespace api::validation {

inline constexpr int kTopLogprobs = 5;

struct Payload {
  std::string inference_id;
  std::string prompt;             // canonical JSON of the request body (SHA-256 = record prompt_hash)
  nlohmann::json mlnode_request;  // what the executor sent to its MLNode
  std::string content;            // SHA-256 = record response_hash
  std::vector<TokenLogprob> logprobs;
  uint64_t recorded_height = 0;  // the chain height the executor saw when it recorded it
};

// JSON of the payload endpoint and of the state store:
// {"inference_id","prompt","mlnode_request","content","logprobs":[{token,logprob,top_logprobs:[{token,logprob}]}],
//  "recorded_height"}
nlohmann::json payload_to_json(const Payload& p);
// nullopt when malformed.
std::optional<Payload> payload_from_json(const nlohmann::json& j);

// TEST ONLY. A fault that makes an executor alter its output before it is hashed and returned, so that
// validation has something to catch (tests/functional/dapi_inference_validation.py). Read from the
// environment: DAPI_TEST_FAULT=reverse_tokens is honoured only together with
// DAPI_ENABLE_TEST_FAULTS=i-know-this-breaks-payment; otherwise (or for another value) it is ignored with
// kNone. `reverse_tokens` reverses the bytes of every ASCII token the MLNode generated (content and
// recorded logprob tokens alike, so the payload stays self-consistent) and keeps the logprob values.
enum class OutputFault { kNone, kReverseTokens };
OutputFault output_fault_from_env();
inline constexpr const char* kFaultEnv = "DAPI_TEST_FAULT";
inline constexpr const char* kFaultEnableEnv = "DAPI_ENABLE_TEST_FAULTS";
inline constexpr const char* kFaultEnableValue = "i-know-this-breaks-payment";

// One executor run. Calls, in the executor path: the constructor with the body before it goes to the MLNode
// (turns logprobs on), whole() on a non-streamed answer or chunk() on each stream chunk before the relay
// hashes it (applies the test fault, records content and logprobs, strips logprobs the client did not ask
// for), payload() after a complete answer.
class PayloadRecording {
 public:
  PayloadRecording(std::string inference_id, nlohmann::json& mlnode_body,
                   OutputFault fault = OutputFault::kNone);
  void whole(nlohmann::json& completion);
  void chunk(nlohmann::json& chunk);
  // False when an answer carried malformed logprobs (then the payload's logprobs are empty).
  bool logprobs_ok() const { return logprobs_ok_; }
  Payload payload(const nlohmann::json& mlnode_body, uint64_t height) const;

 private:
  void choice(nlohmann::json& c, const char* content_field);
  std::string id_;
  std::string prompt_;
  bool client_logprobs_ = false;
  OutputFault fault_;
  std::string content_;
  std::vector<TokenLogprob> logprobs_;
  bool logprobs_ok_ = true;
};

// The body a validator sends to its own MLNode to re-run `prompt` (a canonical chat request) with
// enforced_str = content: the request with stream off, logprobs on (top_logprobs kTopLogprobs) and
// enforced_str set; nullopt when the prompt is not a JSON object or asks for n != 1 (not validated).
std::optional<nlohmann::json> replay_request(const std::string& prompt, const std::string& content);

}  // namespace api::validation
