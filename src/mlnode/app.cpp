#include "mlnode/app.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "mlnode/http_errors.h"
#include "mlnode/versioned_routes.h"

namespace mlnode {

using nlohmann::json;

App::App(AppOptions options, const BackendFactory& make_backend)
    : options_(std::move(options)), backend_(make_backend(metrics_)) {
  const auto timeout = options_.callback_timeout;
  poc::Poster poster = [timeout](const std::string& url, const std::string& body) {
    auto r = net::Client::post_json(url, body, timeout);
    if (!r.ok()) {
      spdlog::warn("poc callback {} failed: {}; retrying at the next tick", url, r.error->message);
      return poc::PostOutcome::kRetry;
    }
    const auto outcome = poc::post_outcome_of_status(r.response->status);
    if (outcome == poc::PostOutcome::kRefused) {
      spdlog::info("poc callback {} refused for good ({}): {}; dropped, not retried", url, r.response->status,
                   r.response->body.substr(0, 300));
    } else if (outcome == poc::PostOutcome::kRetry) {
      spdlog::warn("poc callback {} answered {}: {}; retrying at the next tick", url, r.response->status,
                   r.response->body.substr(0, 300));
    }
    return outcome;
  };
  poc::PocServiceOptions poc_options;
  poc_options.threads = options_.poc_threads;
  poc_options.send_interval = options_.poc_send_interval;
  poc_options.max_validation_batches = options_.max_validation_batches;
  poc_ = std::make_unique<poc::PocService>(poc_options, std::move(poster));
}

App::~App() {
  stop(std::chrono::milliseconds(1000));
}

void App::start() {
  const uint64_t epoch = stop_epoch_.load();
  // The preload runs before the ports open (a node that answers serves its model) and, like an inference/up,
  // a signal cancels it.
  if (!options_.preload_model.empty()) {
    std::lock_guard lock(control_mu_);
    if (auto st = state_.begin(ServiceState::kInference); !st.ok())
      throw std::runtime_error(st.error().message);
    auto cancelled = cancelled_since(epoch);
    spdlog::info("loading {} before serving (--model)", options_.preload_model);
    if (auto st = backend_->up(options_.preload_model, {}, cancelled); !st.ok()) {
      state_.abort(ServiceState::kInference);
      if (cancelled()) {
        spdlog::info("loading {} was cancelled", options_.preload_model);
        return;  // interrupted: main() stops the app
      }
      throw std::runtime_error("cannot load model " + options_.preload_model + ": " + st.error().message);
    }
    gate_.open();
  }
  net::ServerOptions mo;
  mo.address = options_.bind;
  mo.port = options_.poc_port;
  mo.threads = 2;
  mo.name = "mlnode-poc";
  management_server_ = std::make_unique<net::Server>(management_routes(), mo);
  net::ServerOptions io = mo;
  io.port = options_.inference_port;
  io.threads = options_.http_threads;
  io.max_handler_threads = options_.max_handlers;
  io.name = "mlnode-inference";
  inference_server_ = std::make_unique<net::Server>(inference_routes(), io);
  // Inference first: once the management port answers, both ports are up.
  inference_server_->start();
  management_server_->start();
  spdlog::info("mlnode {} serving: management/PoC on {}:{}, inference on {}:{} (backend {}, {} PoC threads)",
               options_.version, options_.bind, management_server_->port(), options_.bind,
               inference_server_->port(), backend_->name(), options_.poc_threads);
}

void App::interrupt() {
  ++stop_epoch_;
}

backends::Cancelled App::cancelled_since(uint64_t epoch) const {
  return [this, epoch] { return stop_epoch_.load() != epoch; };
}

void App::end_inference(const char* why) {
  if (const int64_t left = gate_.close_and_cancel(options_.stop_wait); left > 0) {
    spdlog::warn("{}: {} inference requests still running after {} ms", why, left,
                 options_.stop_wait.count());
  }
}

void App::stop(std::chrono::milliseconds grace) {
  interrupt();  // a model load in progress gives up now instead of holding the servers' stop
  // The HTTP server cuts streams when it stops, so in-flight completions are drained here first.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  draining_ = true;
  if (const int64_t left = gate_.close_and_drain(grace); left > 0) {
    spdlog::warn("{} completions still running after the grace period; ending them", left);
    end_inference("shutdown");
  }
  grace = std::max(std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       deadline - std::chrono::steady_clock::now()));
  if (inference_server_) inference_server_->stop(grace);
  if (management_server_) management_server_->stop(grace);
  inference_server_.reset();
  management_server_.reset();
  std::lock_guard lock(control_mu_);
  poc_->stop();
  backend_->down();
  state_.stop();
}

uint16_t App::inference_port() const {
  return inference_server_->port();
}
uint16_t App::poc_port() const {
  return management_server_->port();
}

json App::state_json() const {
  json j = {
      {"state", to_string(state_.current())}, {"version", options_.version}, {"backend", backend_->name()}};
  if (auto m = backend_->model()) j["model"] = *m;
  return j;
}

net::Router App::management_routes() {
  net::Router router;
  VersionedRouter r(options_.version, router);
  // The VersionedRouter only lives during registration; handlers capture `this` and the version by value.
  auto* self = this;
  r.add("GET", "/api/v1/state", [self](const net::Request& q) { return self->handle_state(q); });
  r.add("POST", "/api/v1/stop", [self](const net::Request& q) { return self->handle_stop(q); });
  r.add("POST", "/api/v1/inference/up",
        [self](const net::Request& q) { return self->handle_inference_up(q); });
  r.add("POST", "/api/v1/pow/init/generate",
        [self](const net::Request& q) { return self->handle_pow_init(q, true); });
  r.add("POST", "/api/v1/pow/init/validate",
        [self](const net::Request& q) { return self->handle_pow_init(q, false); });
  r.add("POST", "/api/v1/pow/validate",
        [self](const net::Request& q) { return self->handle_pow_validate(q); });
  r.add("GET", "/api/v1/pow/status", [self](const net::Request& q) { return self->handle_pow_status(q); });
  r.add("GET", "/metrics", [self](const net::Request&) {
    net::Response resp;
    resp.content_type = "text/plain; version=0.0.4";
    resp.body = self->metrics_text();
    return resp;
  });
  r.add_fallback(ErrorShape::kApi);
  return router;
}

net::Router App::inference_routes() {
  net::Router router;
  VersionedRouter r(options_.version, router);
  auto* self = this;
  r.add_stream(
      "POST", "/v1/chat/completions",
      [self](const net::Request& q, net::ResponseWriter& w) { self->handle_chat(q, w); },
      ErrorShape::kOpenAi);
  r.add(
      "GET", "/v1/models", [self](const net::Request& q) { return self->handle_models(q); },
      ErrorShape::kOpenAi);
  r.add(
      "GET", "/v1/models/{id...}", [self](const net::Request& q) { return self->handle_model(q); },
      ErrorShape::kOpenAi);
  r.add(
      "POST", "/tokenize", [self](const net::Request& q) { return self->handle_tokenize(q); },
      ErrorShape::kOpenAi);
  r.add("GET", "/health", [self](const net::Request& q) { return self->handle_health(q); });
  r.add("GET", "/metrics", [self](const net::Request&) {
    net::Response resp;
    resp.content_type = "text/plain; version=0.0.4";
    resp.body = self->metrics_text();
    return resp;
  });
  r.add_fallback(ErrorShape::kOpenAi);
  return router;
}

std::string App::metrics_text() const {
  std::string out;
  out +=
      prometheus_metric("mlnode_info", "gauge",
                        fmt::format("version=\"{}\",backend=\"{}\"", options_.version, backend_->name()), 1);
  const ServiceState s = state_.current();
  out += "# TYPE mlnode_state gauge\n";
  for (auto st : {ServiceState::kStopped, ServiceState::kInference, ServiceState::kPow}) {
    out += fmt::format("mlnode_state{{state=\"{}\"}} {}\n", to_string(st), s == st ? 1 : 0);
  }
  out += prometheus_metric("mlnode_chat_requests_total", "counter", "",
                           static_cast<double>(metrics_.chat_requests));
  out +=
      prometheus_metric("mlnode_chat_errors_total", "counter", "", static_cast<double>(metrics_.chat_errors));
  out +=
      prometheus_metric("mlnode_chat_in_flight", "gauge", "", static_cast<double>(metrics_.chat_in_flight));
  out += prometheus_metric("mlnode_chat_cancelled_total", "counter", "",
                           static_cast<double>(metrics_.chat_cancelled));
  out += prometheus_metric("mlnode_prompt_tokens_total", "counter", "",
                           static_cast<double>(metrics_.prompt_tokens));
  out += prometheus_metric("mlnode_completion_tokens_total", "counter", "",
                           static_cast<double>(metrics_.completion_tokens));
  out += prometheus_metric("mlnode_tokenize_requests_total", "counter", "",
                           static_cast<double>(metrics_.tokenize_requests));
  const auto& pc = poc_->counters();
  out += prometheus_metric("mlnode_poc_nonces_computed_total", "counter", "",
                           static_cast<double>(pc.nonces_computed));
  out += prometheus_metric("mlnode_poc_hits_total", "counter", "", static_cast<double>(pc.hits));
  out +=
      prometheus_metric("mlnode_poc_batches_sent_total", "counter", "", static_cast<double>(pc.batches_sent));
  out += prometheus_metric("mlnode_poc_validations_sent_total", "counter", "",
                           static_cast<double>(pc.validations_sent));
  out += prometheus_metric("mlnode_poc_nonces_validated_total", "counter", "",
                           static_cast<double>(pc.nonces_validated));
  out += prometheus_metric("mlnode_poc_callback_failures_total", "counter", "",
                           static_cast<double>(pc.callback_failures));
  out += prometheus_metric("mlnode_poc_callbacks_refused_total", "counter", "",
                           static_cast<double>(pc.callbacks_refused));
  out += prometheus_metric("mlnode_poc_nonces_per_second", "gauge", "",
                           poc_->status().value("nonces_per_second", 0.0));
  return out;
}

}  // namespace mlnode
