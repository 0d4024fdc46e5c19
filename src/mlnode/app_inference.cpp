// Handlers of the inference port: OpenAI chat completions, models, tokenize, health.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "mlnode/app.h"
#include "mlnode/backends/chat_request.h"
#include "mlnode/backends/openai_format.h"
#include "mlnode/http_errors.h"

namespace mlnode {
namespace {

using nlohmann::json;

// OpenAI-compatible servers take JSON only (vLLM answers 415 to anything else).
common::Status check_json_content_type(const net::Request& req) {
  std::string ct = req.header("content-type");
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ct == "application/json") return {};
  return common::make_error(
      415, fmt::format("Content-Type must be application/json, not \"{}\"", req.header("content-type")));
}

// Remembers whether the response has started, so that a cancelled request can still be answered properly.
class TrackingWriter final : public net::ResponseWriter {
 public:
  explicit TrackingWriter(net::ResponseWriter& out) : out_(out) {}
  bool begin(int status, const std::string& content_type, const net::Headers& extra) override {
    begun_ = true;
    content_type_ = content_type;
    return out_.begin(status, content_type, extra);
  }
  bool write(const std::string& data) override { return out_.write(data); }
  bool closed() const override { return out_.closed(); }
  bool begun() const { return begun_; }
  bool streaming() const { return content_type_ == "text/event-stream"; }

 private:
  net::ResponseWriter& out_;
  bool begun_ = false;
  std::string content_type_;
};

constexpr const char* kEndedMessage =
    "the ML node stopped serving inference (POST /api/v1/stop, a model switch or shutdown) while this "
    "request ran; "
    "retry on another node";

}  // namespace

common::Status App::check_serving(const std::string& model) const {
  if (draining_) return common::make_error(503, "the ML node is shutting down; retry on another node");
  switch (state_.current()) {
    case ServiceState::kPow:
      return common::make_error(
          409,
          "the ML node is running POW; inference is unavailable until POST /api/v1/stop "
          "and /api/v1/inference/up");
    case ServiceState::kStopped:
      return common::make_error(503, "no model is loaded; POST /api/v1/inference/up first");
    case ServiceState::kInference:
      break;
  }
  const auto loaded = backend_->model();
  if (!loaded) return common::make_error(503, "the model is still loading; retry when /health answers 200");
  if (*loaded != model) {
    return common::make_error(
        404, fmt::format("model \"{}\" is not served by this ML node; loaded model: {}", model, *loaded));
  }
  return {};
}

void App::handle_chat(const net::Request& req, net::ResponseWriter& out) {
  ++metrics_.chat_requests;
  InFlight in_flight(metrics_.chat_in_flight);
  auto fail = [&](const common::Error& e) {
    ++metrics_.chat_errors;
    write_response(out, openai_error_response(e));
  };
  if (auto st = check_json_content_type(req); !st.ok()) return fail(st.error());
  auto chat = backends::parse_chat_request(req.body);
  if (!chat) return fail(chat.error());
  if (auto st = check_serving(chat->model); !st.ok()) return fail(st.error());
  auto ticket = gate_.enter();
  if (!ticket)
    return fail(common::Error{503, "the ML node is not serving inference now (stopped or switching); retry"});
  TrackingWriter tracked(out);
  backend_->chat(*chat, req.body, tracked, [&] { return out.closed() || ticket->cancelled(); });
  if (out.closed()) {
    if (!tracked.begun() || tracked.streaming()) ++metrics_.chat_cancelled;
    return;  // the client left; nobody reads an answer
  }
  if (!ticket->cancelled()) return;
  ++metrics_.chat_cancelled;
  if (!tracked.begun()) return fail(common::Error{503, kEndedMessage});
  if (tracked.streaming()) {
    // The status line is out: tell the client in the stream, which then ends without [DONE].
    const json err = backends::openai_error(kEndedMessage, "server_error", "unavailable");
    out.write("data: " + err.dump() + "\n\n");
  }
}

net::Response App::handle_tokenize(const net::Request& req) {
  ++metrics_.tokenize_requests;
  if (auto st = check_json_content_type(req); !st.ok()) return openai_error_response(st.error());
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

net::Response App::handle_model(const net::Request& req) {
  const std::string id = req.path_params.at("id");
  net::Response list = handle_models(req);
  if (list.status != 200) return list;
  const json j = json::parse(list.body, nullptr, false);
  if (j.is_object() && j.contains("data") && j["data"].is_array()) {
    for (const auto& m : j["data"]) {
      if (m.is_object() && m.value("id", "") == id) return net::json_response(200, m.dump());
    }
  }
  return openai_error_response(404, fmt::format("The model `{}` does not exist on this ML node", id));
}

net::Response App::handle_health(const net::Request&) {
  json j = state_json();
  const bool ok = !draining_ && state_.current() == ServiceState::kInference && backend_->healthy();
  j["status"] = ok ? "ok" : "unavailable";
  if (!ok) j["reason"] = "the ML node serves inference only in state INFERENCE with a loaded model";
  return net::json_response(ok ? 200 : 503, j.dump());
}

}  // namespace mlnode
