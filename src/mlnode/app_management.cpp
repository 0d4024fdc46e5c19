// Handlers of the management/PoC port: state, stop, inference/up, pow/*.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "mlnode/app.h"
#include "mlnode/http_errors.h"

namespace mlnode {
namespace {

using nlohmann::json;

common::Result<json> parse_body(const net::Request& req, bool allow_empty) {
  if (req.body.empty() && allow_empty) return json::object();
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    return common::make_error(400,
                              "the request body is not valid JSON; send a JSON object with Content-Type: "
                              "application/json");
  }
  if (!j.is_object()) return common::make_error(400, "the request body must be a JSON object");
  return j;
}

common::Result<std::vector<std::string>> string_list(const json& j, const char* name) {
  std::vector<std::string> out;
  if (!j.contains(name) || j[name].is_null()) return out;
  if (!j[name].is_array())
    return common::make_error(400, fmt::format("\"{}\" must be an array of strings", name));
  for (const auto& a : j[name]) {
    if (!a.is_string())
      return common::make_error(400, fmt::format("\"{}\" must be an array of strings", name));
    out.push_back(a.get<std::string>());
  }
  return out;
}

net::Response ok_json(json j) {
  return net::json_response(200, j.dump());
}

}  // namespace

net::Response App::handle_state(const net::Request&) {
  return ok_json(state_json());
}

net::Response App::handle_stop(const net::Request&) {
  interrupt();                    // a model still loading must not hold the stop back
  end_inference("/api/v1/stop");  // running completions end now (503 / an error event), new ones are refused
  std::lock_guard lock(control_mu_);
  const ServiceState before = state_.current();
  poc_->stop();
  backend_->down();
  loaded_args_.clear();
  state_.stop();
  spdlog::info("stopped (was {})", to_string(before));
  return ok_json({{"status", "OK"},
                  {"state", "STOPPED"},
                  {"previous_state", to_string(before)},
                  {"version", options_.version}});
}

net::Response App::handle_inference_up(const net::Request& req) {
  auto body = parse_body(req, false);
  if (!body) return api_error(body.error());
  const json& j = *body;
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return api_error(400, "\"model\" is required: the model id to serve, e.g. \"Qwen/Qwen2.5-7B-Instruct\"");
  }
  const std::string model = j["model"].get<std::string>();
  // "args" are the merged model args; "additional_args" is the reference MLNode's name for them.
  auto args = string_list(j, "args");
  if (!args) return api_error(args.error());
  auto additional = string_list(j, "additional_args");
  if (!additional) return api_error(additional.error());
  std::vector<std::string> all = *args;
  all.insert(all.end(), additional->begin(), additional->end());

  // Read before waiting for the lock: a /api/v1/stop that arrives from now on cancels this load.
  const auto cancelled = cancelled_since(stop_epoch_.load());
  spdlog::info("inference/up {}: requested", model);
  std::lock_guard lock(control_mu_);
  if (cancelled()) return api_error(409, "inference/up for " + model + " was cancelled by /api/v1/stop");
  if (auto st = state_.begin(ServiceState::kInference); !st.ok()) return api_error(st.error());
  if (backend_->model() == model && loaded_args_ == all && backend_->healthy()) {
    return ok_json({{"status", "OK"}, {"model", model}, {"already_loaded", true}});
  }
  end_inference("inference/up switches the model");  // requests for the old model end before it goes down
  backend_->down();
  loaded_args_.clear();
  spdlog::info("inference/up: loading {} with {} args", model, all.size());
  if (auto st = backend_->up(model, all, cancelled); !st.ok()) {
    state_.abort(ServiceState::kInference);
    spdlog::error("inference/up {} failed: {}", model, st.error().message);
    return api_error(st.error());
  }
  loaded_args_ = all;
  gate_.open();
  return ok_json({{"status", "OK"}, {"model", model}, {"args", all}});
}

net::Response App::handle_pow_init(const net::Request& req, bool generate) {
  auto body = parse_body(req, false);
  if (!body) return api_error(body.error());
  auto init = poc::parse_init_request(*body);
  if (!init) return api_error(init.error());
  std::lock_guard lock(control_mu_);
  const ServiceState before = state_.current();
  if (auto st = state_.begin(ServiceState::kPow); !st.ok()) return api_error(st.error());
  // Never PoC and inference at once: /api/v1/stop ends inference requests and waits for them; one that
  // ignored its cancellation for longer keeps PoC from starting.
  if (const int64_t running = gate_.in_flight(); running > 0) {
    if (before == ServiceState::kStopped) state_.abort(ServiceState::kPow);
    return api_error(
        409, fmt::format("{} inference requests are still ending; retry /api/v1/pow/init shortly", running));
  }
  auto st = generate ? poc_->init_generate(*init) : poc_->init_validate(*init);
  if (!st.ok()) {
    if (before == ServiceState::kStopped) state_.abort(ServiceState::kPow);
    return api_error(st.error());
  }
  return ok_json({{"status", "OK"}, {"pow_status", poc_->status()}});
}

net::Response App::handle_pow_validate(const net::Request& req) {
  auto body = parse_body(req, false);
  if (!body) return api_error(body.error());
  auto batch = poc::parse_proof_batch(*body);
  if (!batch) return api_error(batch.error());
  if (auto st = state_.require(ServiceState::kPow); !st.ok()) {
    return api_error(409,
                     "PoC is not running; POST /api/v1/pow/init/validate first (" + st.error().message + ")");
  }
  if (auto st = poc_->validate(*batch); !st.ok()) return api_error(st.error());
  return ok_json({{"status", "OK"}, {"queued_nonces", batch->nonces.size()}});
}

net::Response App::handle_pow_status(const net::Request&) {
  const ServiceState s = state_.current();
  if (s == ServiceState::kInference) {
    return api_error(409, "the ML node is running INFERENCE; PoC status is only available in POW or STOPPED");
  }
  if (s == ServiceState::kStopped) {
    json j = poc_->status();
    j["status"] = "NOT_LOADED";
    j["is_model_initialized"] = false;
    return ok_json(j);
  }
  return ok_json(poc_->status());
}

}  // namespace mlnode
