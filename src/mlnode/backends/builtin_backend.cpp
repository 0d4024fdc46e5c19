#include "mlnode/backends/builtin_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>

#include "mlnode/backends/builtin_generator.h"
#include "mlnode/backends/openai_format.h"
#include "mlnode/backends/tokenizer.h"
#include "mlnode/http_errors.h"

namespace mlnode::backends {
namespace {

using nlohmann::json;
using Seconds = std::chrono::duration<double>;

constexpr auto kCancelPoll = std::chrono::milliseconds(20);

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sse_data(const json& j) {
  return "data: " + j.dump() + "\n\n";
}

// Sleeps for `d` in short slices; false as soon as `cancelled()` is true.
bool sleep_unless(Seconds d, const Cancelled& cancelled) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::nanoseconds>(d);
  while (true) {
    if (cancelled()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(deadline - now, kCancelPoll));
  }
}

common::Status unsupported(const std::string& field, const std::string& what) {
  return common::make_error(
      400, fmt::format("\"{}\" is not supported by the builtin backend ({}); leave it out or "
                       "serve the model with --backend openai",
                       field, what));
}

}  // namespace

common::Status check_builtin_request(const ChatRequest& r) {
  // Fields with an effect here, fields accepted at values that change nothing, and metadata.
  static const std::set<std::string> kHonoured = {"model",
                                                  "messages",
                                                  "stream",
                                                  "stream_options",
                                                  "max_tokens",
                                                  "max_completion_tokens",
                                                  "seed",
                                                  "temperature",
                                                  "n",
                                                  "stop",
                                                  "logprobs",
                                                  "top_logprobs",
                                                  "enforced_str",
                                                  "user",
                                                  "top_p",
                                                  "presence_penalty",
                                                  "frequency_penalty",
                                                  "logit_bias",
                                                  "response_format",
                                                  "tools",
                                                  "tool_choice",
                                                  "parallel_tool_calls"};
  for (const auto& [key, value] : r.raw.items()) {
    if (!kHonoured.count(key) && !value.is_null())
      return unsupported(key, "unknown to a deterministic generator");
  }
  if (r.top_p != 1.0) return unsupported("top_p", "only 1 is accepted");
  if (r.presence_penalty != 0) return unsupported("presence_penalty", "only 0 is accepted");
  if (r.frequency_penalty != 0) return unsupported("frequency_penalty", "only 0 is accepted");
  if (r.raw.contains("logit_bias") && !r.raw["logit_bias"].is_null() && !r.raw["logit_bias"].empty()) {
    return unsupported("logit_bias", "only an empty object is accepted");
  }
  if (r.raw.contains("response_format") && !r.raw["response_format"].is_null() &&
      r.raw["response_format"].value("type", "") != "text") {
    return unsupported("response_format", "only {\"type\": \"text\"} is accepted");
  }
  if (r.raw.contains("tools") && !r.raw["tools"].is_null() && !r.raw["tools"].empty()) {
    return unsupported("tools", "it never calls tools");
  }
  if (r.raw.contains("tool_choice") && !r.raw["tool_choice"].is_null() &&
      !(r.raw["tool_choice"] == "none" || r.raw["tool_choice"] == "auto")) {
    return unsupported("tool_choice", "only \"none\" and \"auto\" are accepted");
  }

  // The context window advertised by /tokenize and /v1/models.
  const auto prompt_tokens = static_cast<int64_t>(tokenize_text(render_chat(r.messages)).size());
  int64_t completion = r.max_tokens.value_or(1);
  const char* field = r.max_tokens ? "max_tokens" : nullptr;
  if (r.enforced_str) {
    const auto enforced = static_cast<int64_t>(tokenize_text(*r.enforced_str).size());
    if (enforced > completion || !r.max_tokens) {
      completion = std::max<int64_t>(enforced, 1);
      field = "enforced_str";
    }
  }
  if (prompt_tokens + completion > kMaxModelLen) {
    if (prompt_tokens >= kMaxModelLen || !field) {
      return common::make_error(
          400, fmt::format("This model's maximum context length (max_model_len) is {} tokens, "
                           "but the messages have {} tokens; shorten \"messages\"",
                           kMaxModelLen, prompt_tokens));
    }
    return common::make_error(
        400, fmt::format("This model's maximum context length (max_model_len) is {} tokens; "
                         "you requested {} tokens ({} in the messages, {} in the completion); "
                         "reduce \"{}\" or the messages",
                         kMaxModelLen, prompt_tokens + completion, prompt_tokens, completion, field));
  }
  return {};
}

BuiltinBackend::BuiltinBackend(BuiltinOptions options, Metrics& metrics)
    : options_(options), metrics_(metrics) {}

common::Status BuiltinBackend::up(const std::string& model, const std::vector<std::string>&,
                                  const Cancelled& cancelled) {
  if (model.empty()) return common::make_error(400, "\"model\" must not be empty");
  if (!sleep_unless(options_.load_time, cancelled)) {
    return common::make_error(409, "loading " + model + " was cancelled by /api/v1/stop or shutdown");
  }
  std::lock_guard lock(mu_);
  model_ = model;
  return {};
}

void BuiltinBackend::down() {
  std::lock_guard lock(mu_);
  model_.reset();
}

bool BuiltinBackend::healthy() {
  std::lock_guard lock(mu_);
  return model_.has_value();
}

std::optional<std::string> BuiltinBackend::model() const {
  std::lock_guard lock(mu_);
  return model_;
}

std::string BuiltinBackend::next_id() {
  return fmt::format("chatcmpl-{:x}{:06x}", unix_now(), counter_.fetch_add(1));
}

bool BuiltinBackend::acquire_slot(const Cancelled& cancelled) {
  if (options_.batch_slots == 0) return !cancelled();
  std::unique_lock lock(slots_mu_);
  while (slots_used_ >= options_.batch_slots) {
    if (cancelled()) return false;
    slots_cv_.wait_for(lock, kCancelPoll);
  }
  if (cancelled()) return false;
  ++slots_used_;
  return true;
}

void BuiltinBackend::release_slot() {
  if (options_.batch_slots == 0) return;
  {
    std::lock_guard lock(slots_mu_);
    --slots_used_;
  }
  slots_cv_.notify_one();
}

void BuiltinBackend::chat(const ChatRequest& request, const std::string&, net::ResponseWriter& out,
                          const Cancelled& cancelled) {
  if (auto st = check_builtin_request(request); !st.ok())
    return write_response(out, openai_error_response(st.error()));
  if (!acquire_slot(cancelled)) return;  // the client left (or the node stopped) while waiting in line
  struct SlotGuard {
    BuiltinBackend* self;
    ~SlotGuard() { self->release_slot(); }
  } guard{this};
  // Without max_tokens the completion may use what the context window leaves (as OpenAI-compatible servers
  // do).
  ChatRequest bounded = request;
  if (!bounded.max_tokens) {
    const auto prompt_tokens = static_cast<int64_t>(tokenize_text(render_chat(request.messages)).size());
    bounded.max_tokens = std::min(kMaxCompletionTokens, kMaxModelLen - prompt_tokens);
  }
  std::vector<Generation> choices;
  std::size_t longest = 0;
  for (int64_t i = 0; i < request.n; ++i) {
    choices.push_back(generate(bounded, i));
    longest = std::max(longest, choices.back().tokens.size());
  }
  const std::string id = next_id();
  const int64_t created = unix_now();
  const Seconds per_token =
      options_.tokens_per_second > 0 ? Seconds(1.0 / options_.tokens_per_second) : Seconds(0);
  metrics_.prompt_tokens += static_cast<uint64_t>(choices.front().prompt_tokens);

  if (!request.stream) {
    // The choices are generated side by side, like one batch: the longest one sets the time.
    if (!sleep_unless(options_.time_to_first_token + per_token * static_cast<double>(longest), cancelled))
      return;
    uint64_t completion_tokens = 0;
    for (const auto& g : choices) completion_tokens += g.tokens.size();
    metrics_.completion_tokens += completion_tokens;
    if (out.begin(200, "application/json")) {
      out.write(completion_object(id, created, request.model, choices, request.logprobs).dump());
    }
    return;
  }

  if (!out.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) return;
  if (!sleep_unless(options_.time_to_first_token, cancelled)) return;
  for (std::size_t c = 0; c < choices.size(); ++c) {
    const json delta = {{"role", "assistant"}, {"content", ""}};
    if (!out.write(sse_data(chunk_object(id, created, request.model, delta, std::nullopt, nullptr,
                                         static_cast<int64_t>(c))))) {
      return;
    }
  }
  for (std::size_t i = 0; i < longest; ++i) {
    if (i > 0 && !sleep_unless(per_token, cancelled)) return;
    for (std::size_t c = 0; c < choices.size(); ++c) {
      const Generation& g = choices[c];
      if (i >= g.tokens.size()) continue;
      const auto& t = g.tokens[i];
      json logprobs = nullptr;
      if (request.logprobs) logprobs = {{"content", json::array({logprob_entry(t)})}};
      const bool last = i + 1 == g.tokens.size();
      const std::optional<std::string> finish =
          last ? std::optional<std::string>(g.finish_reason) : std::nullopt;
      if (!out.write(sse_data(chunk_object(id, created, request.model, {{"content", t.text}}, finish,
                                           logprobs, static_cast<int64_t>(c))))) {
        return;
      }
      ++metrics_.completion_tokens;
    }
  }
  for (std::size_t c = 0; c < choices.size(); ++c) {
    if (!choices[c].tokens.empty()) continue;
    if (!out.write(sse_data(chunk_object(id, created, request.model, json::object(), choices[c].finish_reason,
                                         nullptr, static_cast<int64_t>(c))))) {
      return;
    }
  }
  if (request.include_usage) {
    int64_t completion = 0;
    for (const auto& g : choices) completion += static_cast<int64_t>(g.tokens.size());
    if (!out.write(
            sse_data(usage_chunk(id, created, request.model, choices.front().prompt_tokens, completion))))
      return;
  }
  out.write("data: [DONE]\n\n");
}

net::Response BuiltinBackend::tokenize(const TokenizeRequest& request, const std::string&) {
  const std::string text = request.prompt ? *request.prompt : render_chat(*request.messages);
  json tokens = json::array();
  for (const auto& piece : tokenize_text(text)) tokens.push_back(token_id(piece));
  return net::json_response(
      200, json{{"count", tokens.size()}, {"max_model_len", kMaxModelLen}, {"tokens", tokens}}.dump());
}

net::Response BuiltinBackend::models() {
  json data = json::array();
  if (auto m = model()) {
    data.push_back({{"id", *m},
                    {"object", "model"},
                    {"created", 0},
                    {"owned_by", "mlnode-builtin"},
                    {"max_model_len", kMaxModelLen}});
  }
  return net::json_response(200, json{{"object", "list"}, {"data", data}}.dump());
}

}  // namespace mlnode::backends
