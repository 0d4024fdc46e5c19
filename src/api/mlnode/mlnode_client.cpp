#include "api/mlnode/mlnode_client.h"

#include "api/mlnode/field_reader.h"
#include "api/mlnode/http_call.h"

namespace api::mlnode {
namespace {

using nlohmann::json;

std::string trim_slashes(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

template <typename T>
using Parser = Result<T> (*)(const json&, const std::string&);

template <typename T>
Result<T> parse_with(const Result<json>& body, Parser<T> parse, const std::string& route) {
  if (!body) return body.error();
  return parse(*body, route);
}

}  // namespace

MlNodeClient::MlNodeClient(std::string inference_base, std::string poc_base, std::string version,
                           MlNodeClientOptions options)
    : inference_base_(trim_slashes(std::move(inference_base))),
      poc_base_(trim_slashes(std::move(poc_base))),
      version_(std::move(version)),
      options_(options) {}

MlNodeClient MlNodeClient::for_version(std::string version) const {
  MlNodeClient other = *this;
  other.version_ = std::move(version);
  return other;
}

std::string MlNodeClient::url(const std::string& base, const std::string& path) const {
  return version_.empty() ? base + path : base + "/" + version_ + path;
}

std::string MlNodeClient::poc_url(const std::string& path) const {
  return url(poc_base_, path);
}
std::string MlNodeClient::inference_url(const std::string& path) const {
  return url(inference_base_, path);
}

Result<json> MlNodeClient::get(const std::string& base, const std::string& path, milliseconds timeout) const {
  HttpCall call{"GET",   "GET " + path,         url(base, path),        "",
                timeout, options_.get_attempts, options_.retry_backoff, options_.cancelled};
  return send_json(call);
}

Result<json> MlNodeClient::post(const std::string& base, const std::string& path, const json& body,
                                milliseconds timeout) const {
  HttpCall call{"POST", "POST " + path,  url(base, path),   body.dump(), timeout,
                1,      milliseconds(0), options_.cancelled};
  return send_json(call);
}

Result<StateResponse> MlNodeClient::state() const {
  const std::string path = "/api/v1/state";
  return parse_with<StateResponse>(get(poc_base_, path, options_.timeouts.state), parse_state_response,
                                   "GET " + path);
}

Result<StopResponse> MlNodeClient::stop() const {
  const std::string path = "/api/v1/stop";
  return parse_with<StopResponse>(post(poc_base_, path, json::object(), options_.timeouts.stop),
                                  parse_stop_response, "POST " + path);
}

Result<InferenceUpResponse> MlNodeClient::inference_up(const InferenceUpRequest& request) const {
  const std::string path = "/api/v1/inference/up";
  return parse_with<InferenceUpResponse>(
      post(poc_base_, path, to_json(request), options_.timeouts.inference_up), parse_inference_up_response,
      "POST " + path);
}

Result<PowStatus> MlNodeClient::pow_init(const std::string& path, const PowInitRequest& request) const {
  return parse_with<PowStatus>(post(poc_base_, path, to_json(request), options_.timeouts.pow_init),
                               parse_pow_init_response, "POST " + path);
}

Result<PowStatus> MlNodeClient::pow_init_generate(const PowInitRequest& request) const {
  return pow_init("/api/v1/pow/init/generate", request);
}

Result<PowStatus> MlNodeClient::pow_init_validate(const PowInitRequest& request) const {
  return pow_init("/api/v1/pow/init/validate", request);
}

Result<PowValidateResponse> MlNodeClient::pow_validate(const ProofBatch& batch) const {
  const std::string path = "/api/v1/pow/validate";
  return parse_with<PowValidateResponse>(
      post(poc_base_, path, to_json(batch), options_.timeouts.pow_validate), parse_pow_validate_response,
      "POST " + path);
}

Result<PowStatus> MlNodeClient::pow_status() const {
  const std::string path = "/api/v1/pow/status";
  return parse_with<PowStatus>(get(poc_base_, path, options_.timeouts.pow_status), parse_pow_status,
                               "GET " + path);
}

Result<Health> MlNodeClient::health() const {
  const std::string path = "/health";
  HttpCall call{"GET",
                "GET " + path,
                url(inference_base_, path),
                "",
                options_.timeouts.health,
                options_.get_attempts,
                options_.retry_backoff,
                options_.cancelled};
  auto response = send(call, {200, 503});
  if (!response) return response.error();
  auto body = parse_object(response->body, call.route);
  if (!body) {
    MlNodeError e = body.error();
    e.status = response->status;
    return e;
  }
  return parse_health(*body, response->status == 200, call.route);
}

Result<ModelList> MlNodeClient::models() const {
  const std::string path = "/v1/models";
  return parse_with<ModelList>(get(inference_base_, path, options_.timeouts.models), parse_model_list,
                               "GET " + path);
}

Result<TokenizeResponse> MlNodeClient::tokenize(const TokenizeRequest& request) const {
  const std::string path = "/tokenize";
  return parse_with<TokenizeResponse>(
      post(inference_base_, path, to_json(request), options_.timeouts.tokenize), parse_tokenize_response,
      "POST " + path);
}

Result<ChatCompletion> MlNodeClient::chat_completions(json request) const {
  const std::string path = "/v1/chat/completions";
  request["stream"] = false;
  auto body = post(inference_base_, path, request, options_.timeouts.chat);
  if (!body) return body.error();
  return parse_chat_completion(std::move(*body), "POST " + path);
}

Result<ChatStreamSummary> MlNodeClient::chat_completions_stream(json request,
                                                                const ChatChunkHandler& on_chunk) const {
  const std::string path = "/v1/chat/completions";
  request["stream"] = true;
  return stream_chat(url(inference_base_, path), "POST " + path, request.dump(), options_.timeouts.chat_idle,
                     on_chunk);
}

Result<std::string> MlNodeClient::metrics() const {
  const std::string path = "/metrics";
  HttpCall call{"GET",
                "GET " + path,
                url(inference_base_, path),
                "",
                options_.timeouts.metrics,
                options_.get_attempts,
                options_.retry_backoff,
                options_.cancelled};
  auto response = send(call);
  if (!response) return response.error();
  return std::move(response->body);
}

}  // namespace api::mlnode
