// Typed client of one ML node: the management/PoC port (/api/v1/...) and the inference port. Every URL is
// <base>/<version>/<path> so that a proxy in front of several MLNode versions routes each call (an empty
// version gives <base>/<path>). Calls block, have per-kind timeouts, check the status, validate the JSON and
// never throw for what the node sends.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "api/mlnode/chat_stream.h"
#include "api/mlnode/error.h"
#include "api/mlnode/inference_messages.h"
#include "api/mlnode/management_messages.h"
#include "net/http.h"

namespace api::mlnode {

using std::chrono::milliseconds;

struct MlNodeTimeouts {
  milliseconds state{5000};
  milliseconds stop{60000};
  milliseconds inference_up{
      900000};  // loading a large model takes minutes; the node answers when it is ready
  milliseconds pow_init{60000};
  milliseconds pow_validate{30000};
  milliseconds pow_status{5000};
  milliseconds health{5000};
  milliseconds models{5000};
  milliseconds tokenize{10000};
  milliseconds chat{300000};      // a whole non-streamed completion
  milliseconds chat_idle{60000};  // a streamed completion: connecting, and each wait for the next chunk
  milliseconds metrics{5000};
};

struct MlNodeClientOptions {
  MlNodeTimeouts timeouts;
  int get_attempts = 3;             // GETs only, and only when the node cannot be reached
  milliseconds retry_backoff{100};  // multiplied by the attempt number
  // Polled about every 50 ms by every call; true abandons the call (closing its connection) with a transport
  // error whose message says "cancelled". Empty: calls run to their answer or timeout.
  net::CancelCheck cancelled;
};

class MlNodeClient {
 public:
  // Bases are "http://host:port" (a trailing '/' is ignored); version is e.g. "v3.0.8".
  MlNodeClient(std::string inference_base, std::string poc_base, std::string version,
               MlNodeClientOptions options = {});

  const std::string& version() const { return version_; }
  // The same node at another MLNode version (upgrade switching); this client is unchanged.
  MlNodeClient for_version(std::string version) const;

  std::string poc_url(const std::string& path) const;        // path starts with '/'
  std::string inference_url(const std::string& path) const;  // path starts with '/'

  // Management/PoC port. A node busy with another service answers 409: error().busy().
  Result<StateResponse> state() const;
  Result<StopResponse> stop() const;
  Result<InferenceUpResponse> inference_up(const InferenceUpRequest& request) const;
  Result<PowStatus> pow_init_generate(const PowInitRequest& request) const;
  Result<PowStatus> pow_init_validate(const PowInitRequest& request) const;
  Result<PowValidateResponse> pow_validate(const ProofBatch& batch) const;
  Result<PowStatus> pow_status() const;

  // Inference port.
  Result<Health> health() const;
  Result<ModelList> models() const;
  Result<TokenizeResponse> tokenize(const TokenizeRequest& request) const;
  // `request` is an OpenAI chat request; "stream" is set to match the method.
  Result<ChatCompletion> chat_completions(nlohmann::json request) const;
  Result<ChatStreamSummary> chat_completions_stream(nlohmann::json request,
                                                    const ChatChunkHandler& on_chunk) const;
  // Prometheus text of the inference port.
  Result<std::string> metrics() const;

 private:
  Result<nlohmann::json> get(const std::string& base, const std::string& path, milliseconds timeout) const;
  Result<nlohmann::json> post(const std::string& base, const std::string& path, const nlohmann::json& body,
                              milliseconds timeout) const;
  Result<PowStatus> pow_init(const std::string& path, const PowInitRequest& request) const;
  std::string url(const std::string& base, const std::string& path) const;

  std::string inference_base_;
  std::string poc_base_;
  std::string version_;
  MlNodeClientOptions options_;
};

}  // namespace api::mlnode
