// mlnode: one GPU worker of a participant — inference backend, PoC engine, versioned routes.
#include <signal.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <future>
#include <thread>

#include "common/log.h"
#include "mlnode/app.h"
#include "mlnode/backends/builtin_backend.h"
#include "mlnode/backends/openai_backend.h"

namespace {

int run(const mlnode::AppOptions& app_options, const std::string& backend_name,
        const mlnode::backends::BuiltinOptions& builtin, const mlnode::backends::OpenAiOptions& openai,
        std::chrono::milliseconds grace) {
  // Signals are taken by sigwait below; block them before any thread starts so no worker receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  mlnode::App app(
      app_options, [&](mlnode::Metrics& metrics) -> std::unique_ptr<mlnode::backends::InferenceBackend> {
        if (backend_name == "builtin")
          return std::make_unique<mlnode::backends::BuiltinBackend>(builtin, metrics);
        return std::make_unique<mlnode::backends::OpenAiBackend>(openai, metrics);  // openai, llama-cpp
      });
  // A signal may come while start() still loads the preloaded model: a thread takes it and interrupts the
  // load, so a stop takes effect within a moment whatever is running.
  std::promise<int> got_signal;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    app.interrupt();
    got_signal.set_value(sig);
  });
  auto signalled = got_signal.get_future();
  try {
    app.start();
  } catch (...) {
    if (signalled.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      // Not interrupted: wake the waiter so it can be joined, then report the failure.
      pthread_kill(waiter.native_handle(), SIGTERM);
    }
    waiter.join();
    throw;
  }
  const int sig = signalled.get();
  waiter.join();
  spdlog::info("signal {}: finishing in-flight requests (up to {} ms)", sig, grace.count());
  app.stop(grace);
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "mlnode: ML node of the inference network (inference backends, Proof-of-Compute, versioned routes)"};
  cli.require_subcommand(1);
  auto* start = cli.add_subcommand("start", "serve the management/PoC port and the inference port");

  mlnode::AppOptions app;
  std::string backend = "builtin";
  mlnode::backends::BuiltinOptions builtin;
  mlnode::backends::OpenAiOptions openai;
  double ttft_ms = 0, load_ms = 0;
  int ready_timeout_s = 1200, request_timeout_s = 900, send_interval_ms = 3000, grace_ms = 10000;
  std::string log_level = "info";
  std::string work_dir = std::filesystem::temp_directory_path().string();
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());

  start->add_option("--version", app.version, "version this node serves under /<version>/...")->required();
  start
      ->add_option("--inference-port", app.inference_port, "port of /v1/chat/completions, /tokenize, /health")
      ->required();
  start->add_option("--poc-port", app.poc_port, "port of /api/v1/... (management and PoC)")->required();
  start->add_option("--bind", app.bind, "address to listen on")->capture_default_str();
  start->add_option("--backend", backend, "inference backend")
      ->check(CLI::IsMember({"builtin", "openai", "llama-cpp"}))
      ->capture_default_str();
  start->add_option("--upstream", openai.upstream, "openai backend: base URL of the upstream server");
  start->add_option(
      "--launch", openai.launch,
      "openai backend: command that starts the upstream; gets --model <id> <model args> appended");
  std::vector<std::string> model_files;
  start->add_option(
      "--model-file", model_files,
      "llama-cpp backend: ID=PATH, the local GGUF file serving governance model ID (repeatable); e.g. "
      "HuggingFaceTB/SmolLM2-135M-Instruct=$(scripts/real-model-path)");
  start
      ->add_option("--ready-timeout-s", ready_timeout_s,
                   "openai backend: how long inference/up waits for health")
      ->capture_default_str();
  start
      ->add_option("--upstream-timeout-s", request_timeout_s,
                   "openai backend: timeout of one forwarded request")
      ->capture_default_str();
  start
      ->add_option("--tokens-per-second", builtin.tokens_per_second,
                   "builtin backend: pacing (0 = no pacing)")
      ->capture_default_str();
  start->add_option("--ttft-ms", ttft_ms, "builtin backend: time to first token")->capture_default_str();
  start->add_option("--load-ms", load_ms, "builtin backend: how long inference/up takes")
      ->capture_default_str();
  start
      ->add_option("--batch-slots", builtin.batch_slots,
                   "builtin backend: completions generated at once; more wait in line (0 = no limit)")
      ->capture_default_str();
  start->add_option("--model", app.preload_model,
                    "start in INFERENCE serving this model (no inference/up needed)");
  start->add_option("--threads", threads, "PoC worker threads (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  start->add_option("--http-threads", app.http_threads, "I/O threads of the inference server")
      ->capture_default_str();
  start->add_option("--max-concurrent", app.max_handlers, "requests handled at once on the inference port")
      ->capture_default_str();
  start
      ->add_option("--poc-send-interval-ms", send_interval_ms,
                   "how often PoC results are posted to the callback")
      ->capture_default_str();
  start->add_option("--shutdown-grace-ms", grace_ms, "how long in-flight requests may take on shutdown")
      ->capture_default_str();
  start->add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  start
      ->add_option(
          "--work-dir", work_dir,
          "openai backend: where the launched upstream's pid file lives (mlnode-<poc port>-upstream.pid); a "
          "restarted mlnode stops an upstream left there")
      ->capture_default_str();
  start
      ->add_option(
          "--max-validation-batches", app.max_validation_batches,
          "PoC batches queued for validation (or waiting to be posted) before /api/v1/pow/validate answers "
          "503")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  start->allow_extras();  // model args appended by a launcher (see --launch) are accepted and ignored

  CLI11_PARSE(cli, argc, argv);

  if (app.version.empty() || app.version.find('/') != std::string::npos) {
    std::fprintf(stderr, "--version must be a single path segment such as v3.0.8\n");
    return 2;
  }
  if (backend != "builtin" && openai.upstream.empty()) {
    std::fprintf(stderr, "--backend %s needs --upstream http://host:port (the OpenAI-compatible server)\n",
                 backend.c_str());
    return 2;
  }
  if (backend == "llama-cpp") {
    openai.kind = mlnode::backends::UpstreamKind::kLlamaCpp;
    for (const auto& entry : model_files) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
        std::fprintf(stderr, "--model-file must be ID=PATH, not \"%s\"\n", entry.c_str());
        return 2;
      }
      const std::string path = entry.substr(eq + 1);
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        std::fprintf(stderr, "--model-file %s: no such file (run scripts/setup)\n", path.c_str());
        return 2;
      }
      openai.model_files[entry.substr(0, eq)] = path;
    }
  } else if (!model_files.empty()) {
    std::fprintf(stderr, "--model-file is for --backend llama-cpp\n");
    return 2;
  }
  common::init_logging("mlnode", log_level);
  if (!start->remaining().empty()) spdlog::info("ignoring {} extra arguments", start->remaining().size());
  app.poc_threads = threads;
  app.poc_send_interval = std::chrono::milliseconds(send_interval_ms);
  builtin.time_to_first_token = std::chrono::milliseconds(static_cast<int64_t>(ttft_ms));
  builtin.load_time = std::chrono::milliseconds(static_cast<int64_t>(load_ms));
  openai.ready_timeout = std::chrono::seconds(ready_timeout_s);
  openai.request_timeout = std::chrono::seconds(request_timeout_s);
  openai.pid_file =
      (std::filesystem::path(work_dir) / fmt::format("mlnode-{}-upstream.pid", app.poc_port)).string();
  try {
    return run(app, backend, builtin, openai, std::chrono::milliseconds(grace_ms));
  } catch (const std::exception& e) {
    spdlog::error("mlnode: {}", e.what());
    return 1;
  }
}
