// Handlers of the inference port: OpenAI chat completions, models, tokenize, health.
#include <fmt/format.h>

#include "mlnode/app.h"
#include "mlnode/backends/chat_request.h"
#include "mlnode/http_errors.h"

namespace mlnode {

using nlohmann::json;

common::Status App::check_serving(const std::string& model) const {
  if (draining_) return common::make_error(503, "the ML node is shutting down; retry on another node");
  switch (state_.current()) {
    case ServiceState::kPow:
      return common::make_error(409, "the ML node is running POW; inference is unavailable until POST /api/v1/stop "
                                     "and /api/v1/inference/up");
    case ServiceState::kStopped:
      return common::make_error(503, "no model is loaded; POST /api/v1/inference/up first");
    case ServiceState::kInference: break;
  }
  const auto loaded = backend_->model();
  if (!loaded) return common::make_error(503, "the model is still loading; retry when /health answers 200");
  if (*loaded != model) {
    return common::make_error(404, fmt::format("model \"{}\" is not served by this ML node; loaded model: {}", model,
                                               *loaded));
  }
  return {};
}

void App::handle_chat(const net::Request& req, net::ResponseWriter& out) {
  ++metrics_.chat_requests;
  InFlight in_flight(metrics_.chat_in_flight);
  auto chat = backends::parse_chat_request(req.body);
  if (!chat) {
    ++metrics_.chat_errors;
    return write_response(out, openai_error_response(chat.error()));
  }
  if (auto st = check_serving(chat->model); !st.ok()) {
    ++metrics_.chat_errors;
    return write_response(out, openai_error_response(st.error()));
  }
  backend_->chat(*chat, req.body, out);
}

net::Response App::handle_tokenize(const net::Request& req) {
  ++metrics_.tokenize_requests;
  auto r = backends::parse_tokenize_request(req.body);
  if (!r) return openai_error_response(r.error());
  if (auto st = check_serving(r->model); !st.ok()) return openai_error_response(st.error());
  return backend_->tokenize(*r, req.body);
}

net::Response App::handle_models(const net::Request&) {
  if (state_.current() != ServiceState::kInference) {
    return net::json_response(200, json{{"object", "list"}, {"data", json::array()}}.dump());
  }
  return backend_->models();
}

net::Response App::handle_health(const net::Request&) {
  json j = state_json();
  const bool ok = !draining_ && state_.current() == ServiceState::kInference && backend_->healthy();
  j["status"] = ok ? "ok" : "unavailable";
  if (!ok) j["reason"] = "the ML node serves inference only in state INFERENCE with a loaded model";
  return net::json_response(ok ? 200 : 503, j.dump());
}

}  // namespace mlnode
