// The ML node process: two HTTP servers (management/PoC port and inference port) around one state machine,
// one PoC service and one inference backend.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlnode/backends/backend.h"
#include "mlnode/inference_gate.h"
#include "mlnode/metrics.h"
#include "mlnode/poc/poc_service.h"
#include "mlnode/service_state.h"
#include "net/http.h"

namespace mlnode {

struct AppOptions {
  std::string version = "v3.0.8";
  std::string bind = "127.0.0.1";
  uint16_t inference_port = 0;
  uint16_t poc_port = 0;
  unsigned http_threads = 4;
  unsigned max_handlers = 256;
  unsigned poc_threads = 1;
  std::chrono::milliseconds poc_send_interval{3000};
  std::chrono::milliseconds callback_timeout{10000};
  std::string preload_model;                  // when set, the node starts in INFERENCE with this model
  std::size_t max_validation_batches = 256;   // PoC validation backlog; more get 503
  std::chrono::milliseconds stop_wait{5000};  // how long /api/v1/stop waits for cancelled requests to end
};

// Builds the backend; it counts tokens into the app's metrics.
using BackendFactory = std::function<std::unique_ptr<backends::InferenceBackend>(Metrics&)>;

class App {
 public:
  App(AppOptions options, const BackendFactory& make_backend);
  ~App();
  // Loads AppOptions::preload_model if set, then starts both servers. Throws on bind failure or a failed
  // preload; returns early (no servers, no model) when interrupt() cancelled the preload.
  void start();
  // Cancels a model load in progress (inference/up or the preload), at once and from any thread (a signal
  // thread). A load that starts later is not affected.
  void interrupt();
  // Graceful: interrupts a load; new inference requests get 503 while in-flight ones (streams included)
  // finish, for up to `grace`; what still runs is cancelled; then the servers, PoC and the backend are
  // stopped.
  void stop(std::chrono::milliseconds grace);
  uint16_t inference_port() const;
  uint16_t poc_port() const;

 private:
  net::Router management_routes();
  net::Router inference_routes();
  std::string metrics_text() const;
  nlohmann::json state_json() const;

  // management handlers
  net::Response handle_state(const net::Request& req);
  net::Response handle_stop(const net::Request& req);
  net::Response handle_inference_up(const net::Request& req);
  net::Response handle_pow_init(const net::Request& req, bool generate);
  net::Response handle_pow_validate(const net::Request& req);
  net::Response handle_pow_status(const net::Request& req);
  // inference handlers
  void handle_chat(const net::Request& req, net::ResponseWriter& out);
  net::Response handle_tokenize(const net::Request& req);
  net::Response handle_models(const net::Request& req);
  net::Response handle_model(const net::Request& req);
  net::Response handle_health(const net::Request& req);
  // Common checks of OpenAI routes: node in INFERENCE with `model` loaded. Error code = HTTP status.
  common::Status check_serving(const std::string& model) const;
  // Ends the running inference requests and refuses new ones until the next successful inference/up.
  void end_inference(const char* why);
  // True once interrupt() or /api/v1/stop happened after `epoch` was read from stop_epoch_.
  backends::Cancelled cancelled_since(uint64_t epoch) const;

  AppOptions options_;
  Metrics metrics_;
  ServiceStateMachine state_;
  std::mutex control_mu_;  // serialises state changes (stop, inference/up, pow/init/*)
  std::unique_ptr<backends::InferenceBackend> backend_;
  std::unique_ptr<poc::PocService> poc_;
  std::unique_ptr<net::Server> management_server_;
  std::unique_ptr<net::Server> inference_server_;
  std::vector<std::string> loaded_args_;
  std::atomic<bool> draining_{false};
  InferenceGate gate_;
  std::atomic<uint64_t> stop_epoch_{
      0};  // bumped by interrupt() and /api/v1/stop: cancels loads begun earlier
};

}  // namespace mlnode
