#include "mlnode/backends/openai_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "mlnode/backends/llama_cpp_upstream.h"
#include "mlnode/backends/openai_format.h"
#include "mlnode/backends/tokenizer.h"
#include "mlnode/http_errors.h"

namespace mlnode::backends {
namespace {

constexpr auto kHealthTimeout = std::chrono::seconds(2);

net::Response from_upstream(const net::ClientResult& r, const std::string& what) {
  if (!r.ok())
    return openai_error_response(502, fmt::format("upstream {} failed: {}", what, r.error->message));
  net::Response out;
  out.status = r.response->status;
  out.body = r.response->body;
  auto ct = r.response->headers.find("content-type");
  out.content_type = ct != r.response->headers.end() ? ct->second : "application/json";
  return out;
}

OpenAiOptions without_trailing_slash(OpenAiOptions o) {
  while (!o.upstream.empty() && o.upstream.back() == '/') o.upstream.pop_back();
  return o;
}

// Readiness route: vLLM has /health; llama.cpp's server has none, but every OpenAI-compatible server has
// GET /v1/models.
std::string ready_path(UpstreamKind kind) {
  return kind == UpstreamKind::kLlamaCpp ? "/v1/models" : "/health";
}

}  // namespace

// The prompt's token count for a streamed request (llama.cpp's server reports usage only when not streaming):
// the same request, not streamed, for one token. The server keeps the evaluated prompt in its cache, so the
// streamed request that follows does not evaluate it again.
common::Result<int64_t> OpenAiBackend::llama_cpp_prompt_tokens(const std::string& body,
                                                               const Cancelled& cancelled) {
  auto probe = nlohmann::json::parse(body, nullptr, false);
  if (!probe.is_object()) return common::make_error(400, "request body is not a JSON object");
  probe["stream"] = false;
  probe["max_tokens"] = 1;
  probe["n"] = 1;
  for (const char* field : {"stream_options", "max_completion_tokens", "logprobs", "top_logprobs"})
    probe.erase(field);
  auto r = net::Client::request("POST", options_.upstream + "/v1/chat/completions", probe.dump(),
                                options_.request_timeout, {{"content-type", "application/json"}}, cancelled);
  if (!r.ok()) return common::make_error(502, "upstream prompt count failed: " + r.error->message);
  if (r.response->status != 200)
    return common::make_error(r.response->status / 100 == 4 ? static_cast<uint32_t>(r.response->status) : 502,
                              fmt::format("upstream refused the request (status {})", r.response->status));
  auto j = nlohmann::json::parse(r.response->body, nullptr, false);
  if (!j.is_object() || !j.contains("usage") || !j["usage"].is_object() ||
      !j["usage"].contains("prompt_tokens") || !j["usage"]["prompt_tokens"].is_number_unsigned())
    return common::make_error(502, "upstream answered without usage.prompt_tokens");
  return j["usage"]["prompt_tokens"].get<int64_t>();
}

OpenAiBackend::OpenAiBackend(OpenAiOptions options, Metrics& metrics)
    : options_(without_trailing_slash(std::move(options))), metrics_(metrics), process_(options_.pid_file) {
  if (!options_.launch.empty()) UpstreamProcess::reap_stale(options_.pid_file);
}

// up() and down() are serialised by the caller; mu_ only guards model_ so that requests never wait on a load.
common::Status OpenAiBackend::up(const std::string& model, const std::vector<std::string>& args,
                                 const Cancelled& cancelled) {
  {
    std::lock_guard lock(mu_);
    model_.reset();
  }
  if (cancelled())
    return common::make_error(409, "loading " + model + " was cancelled by /api/v1/stop or shutdown");
  if (!options_.launch.empty()) {
    if (options_.kind == UpstreamKind::kLlamaCpp) {
      TRY_STATUS(start_llama_cpp(model, args));
    } else {
      TRY_STATUS(process_.start(options_.launch, model, args));
    }
  }
  const std::string probe = options_.upstream + ready_path(options_.kind);
  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cancelled()) {
      process_.stop(options_.cancel_grace);
      return common::make_error(409, "loading " + model + " was cancelled by /api/v1/stop or shutdown");
    }
    if (!options_.launch.empty()) {
      if (auto gone = process_.exited()) {
        return common::make_error(
            503, fmt::format("upstream for model {} {} before becoming healthy", model, *gone));
      }
    }
    auto r = net::Client::request("GET", probe, "", kHealthTimeout, {}, cancelled);
    if (r.ok() && r.response->status == 200) {
      std::lock_guard lock(mu_);
      model_ = model;
      spdlog::info("upstream {} is ready ({} answered 200); serving {}", options_.upstream,
                   ready_path(options_.kind), model);
      return {};
    }
    last = r.ok() ? fmt::format("status {}", r.response->status) : r.error->message;
    for (int i = 0; i < 10 && !cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process_.stop(options_.cancel_grace);
  return common::make_error(
      504, fmt::format("upstream {} not ready ({}) after {} ms (last: {})", options_.upstream,
                       ready_path(options_.kind), options_.ready_timeout.count(), last));
}

common::Status OpenAiBackend::start_llama_cpp(const std::string& model,
                                              const std::vector<std::string>& args) {
  auto file = options_.model_files.find(model);
  if (file == options_.model_files.end()) {
    std::string known;
    for (const auto& [id, path] : options_.model_files) known += (known.empty() ? "" : ", ") + id;
    return common::make_error(
        400, fmt::format("model {} has no local file on this ML node (--model-file ID=PATH; known: {})",
                         model, known.empty() ? "none" : known));
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file->second, ec))
    return common::make_error(503, fmt::format("model file {} of {} is missing", file->second, model));
  auto url = net::Url::parse(options_.upstream);
  if (!url) return common::make_error(500, "invalid --upstream " + options_.upstream);
  auto mapped = llama_cpp_server_args(model, url->host, url->port, args);
  if (!mapped) return mapped.error();
  for (const auto& dropped : mapped->ignored)
    spdlog::info("model arg {} only tunes vLLM; ignored by the llama.cpp upstream", dropped);
  max_model_len_ = kLlamaCppDefaultContext;
  for (std::size_t i = 0; i + 1 < mapped->args.size(); ++i)
    if (mapped->args[i] == "--n_ctx") max_model_len_ = std::stoll(mapped->args[i + 1]);
  return process_.start(options_.launch, file->second, mapped->args);
}

void OpenAiBackend::down() {
  {
    std::lock_guard lock(mu_);
    model_.reset();
  }
  process_.stop();
}

bool OpenAiBackend::healthy() {
  if (!model()) return false;
  auto r = net::Client::get(options_.upstream + ready_path(options_.kind), kHealthTimeout);
  if (r.ok()) return r.response->status == 200;
  // llama.cpp's server answers /v1/models only between generations: one that accepted the connection but
  // is busy generating counts as healthy (a dead one refuses the connection).
  return options_.kind == UpstreamKind::kLlamaCpp && r.error->timed_out;
}

std::optional<std::string> OpenAiBackend::model() const {
  std::lock_guard lock(mu_);
  return model_;
}

void OpenAiBackend::chat(const ChatRequest& request, const std::string& raw_body, net::ResponseWriter& out,
                         const Cancelled& cancelled) {
  const std::string url = options_.upstream + "/v1/chat/completions";
  const net::Headers json_type = {{"content-type", "application/json"}};
  const bool enforced = options_.kind == UpstreamKind::kLlamaCpp && request.enforced_str.has_value();
  std::string body = raw_body;
  if (enforced) {
    body = llama_cpp_enforced_body(request.raw, *request.enforced_str).dump();
  } else if (options_.kind == UpstreamKind::kLlamaCpp && request.logprobs &&
             !request.raw.contains("top_logprobs")) {
    // llama-cpp-python returns no logprobs for `logprobs: true` alone (it keys them on top_logprobs).
    auto with_top = request.raw;
    with_top["top_logprobs"] = 0;
    body = with_top.dump();
  }
  if (!request.stream) {
    auto r = net::Client::request("POST", url, body, options_.request_timeout, json_type, cancelled);
    if (!r.ok() && r.error->cancelled)
      return;  // the connection to the upstream is closed: it stops generating
    if (r.ok() && r.response->status == 200) {
      auto j = nlohmann::json::parse(r.response->body, nullptr, false);
      if (j.is_object() && j.contains("usage") && j["usage"].is_object()) {
        metrics_.prompt_tokens += j["usage"].value("prompt_tokens", 0u);
        metrics_.completion_tokens += j["usage"].value("completion_tokens", 0u);
      }
      if (enforced) {
        if (auto checked = check_llama_cpp_enforced_answer(j, *request.enforced_str); !checked) {
          write_response(out, openai_error_response(checked.error()));
          return;
        }
      }
    }
    write_response(out, from_upstream(r, "chat completion"));
    return;
  }
  // llama.cpp's server ignores stream_options.include_usage: mlnode adds the usage chunk itself (below).
  const bool add_usage = options_.kind == UpstreamKind::kLlamaCpp && request.include_usage;
  int64_t prompt_tokens = 0;
  if (add_usage) {
    auto counted = llama_cpp_prompt_tokens(body, cancelled);
    if (!counted) {
      if (!cancelled()) write_response(out, openai_error_response(counted.error()));
      return;
    }
    prompt_tokens = *counted;
  }
  net::SseParser events;
  int64_t completion_tokens = 0, created = 0;
  std::string id, model;
  bool begun = false;
  auto r = net::Client::stream(
      "POST", url, body, options_.request_timeout,
      [&](const std::string& data) {
        if (!begun) {
          begun = true;
          if (!out.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) return false;
        }
        if (!add_usage) return out.write(data);
        for (const auto& event : events.feed(data)) {
          if (event.data == "[DONE]") {
            metrics_.prompt_tokens += static_cast<uint64_t>(prompt_tokens);
            metrics_.completion_tokens += static_cast<uint64_t>(completion_tokens);
            if (!out.write(net::sse_event(
                    "", usage_chunk(id, created, model, prompt_tokens, completion_tokens).dump())))
              return false;
          } else {
            count_llama_cpp_chunk(event.data, completion_tokens, id, created, model);
          }
          if (!out.write(net::sse_event("", event.data))) return false;
        }
        return true;
      },
      json_type, cancelled);
  if (begun || (!r.ok() && r.error->cancelled)) return;  // data already went to the client, or nobody waits
  if (r.ok() && r.response->status / 100 == 2) {
    out.begin(r.response->status, "text/event-stream", {{"cache-control", "no-cache"}});
    return;
  }
  write_response(out, from_upstream(r, "chat completion stream"));
}

net::Response OpenAiBackend::tokenize(const TokenizeRequest& request, const std::string& raw_body) {
  if (options_.kind == UpstreamKind::kLlamaCpp) {
    // llama.cpp's server tokenizes plain text at /extras/tokenize; it cannot render a chat template alone.
    // Messages are counted the way streamed requests are (llama_cpp_prompt_tokens): the server evaluates them
    // for one token and reports usage.prompt_tokens, the count the completion will report. Token ids are not
    // known then, so `tokens` is empty (dapi needs only the count, for the escrow and the context check).
    if (!request.prompt) {
      nlohmann::json body = nlohmann::json::parse(raw_body, nullptr, false);
      if (!body.is_object() || !body.contains("messages"))
        return openai_error_response(400, "tokenize needs a prompt or messages");
      nlohmann::json probe{{"model", request.model}, {"messages", body["messages"]}, {"temperature", 0}};
      auto count = llama_cpp_prompt_tokens(probe.dump(), [] { return false; });
      if (!count) return openai_error_response(count.error());
      net::Response out;
      out.status = 200;
      out.content_type = "application/json";
      out.body = nlohmann::json{{"count", *count},
                                {"max_model_len", max_model_len_.load()},
                                {"tokens", nlohmann::json::array()}}
                     .dump();
      return out;
    }
    auto r =
        net::Client::post_json(options_.upstream + "/extras/tokenize",
                               nlohmann::json{{"input", *request.prompt}}.dump(), std::chrono::seconds(30));
    if (!r.ok() || r.response->status != 200) return from_upstream(r, "tokenize");
    auto j = nlohmann::json::parse(r.response->body, nullptr, false);
    if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array())
      return openai_error_response(502, "upstream tokenize answered without a tokens array");
    net::Response out;
    out.status = 200;
    out.content_type = "application/json";
    out.body =
        nlohmann::json{
            {"count", j["tokens"].size()}, {"max_model_len", max_model_len_.load()}, {"tokens", j["tokens"]}}
            .dump();
    return out;
  }
  return from_upstream(
      net::Client::post_json(options_.upstream + "/tokenize", raw_body, std::chrono::seconds(30)),
      "tokenize");
}

net::Response OpenAiBackend::models() {
  return from_upstream(net::Client::get(options_.upstream + "/v1/models", std::chrono::seconds(10)),
                       "models");
}

}  // namespace mlnode::backends
