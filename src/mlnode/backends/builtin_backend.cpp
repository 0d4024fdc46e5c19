#include "mlnode/backends/builtin_backend.h"

#include <fmt/format.h>

#include <thread>

#include "mlnode/backends/builtin_generator.h"
#include "mlnode/backends/openai_format.h"
#include "mlnode/backends/tokenizer.h"

namespace mlnode::backends {
namespace {

using nlohmann::json;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string sse_data(const json& j) { return "data: " + j.dump() + "\n\n"; }

}  // namespace

BuiltinBackend::BuiltinBackend(BuiltinOptions options, Metrics& metrics) : options_(options), metrics_(metrics) {}

common::Status BuiltinBackend::up(const std::string& model, const std::vector<std::string>& args) {
  if (model.empty()) return common::make_error(400, "\"model\" must not be empty");
  std::unique_lock lock(mu_);
  cancel_load_ = false;
  if (load_cv_.wait_for(lock, options_.load_time, [&] { return cancel_load_; })) {
    return common::make_error(409, "loading " + model + " was cancelled by /api/v1/stop");
  }
  model_ = model;
  return {};
}

void BuiltinBackend::cancel_up() {
  {
    std::lock_guard lock(mu_);
    cancel_load_ = true;
  }
  load_cv_.notify_all();
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

void BuiltinBackend::acquire_slot() {
  if (options_.batch_slots == 0) return;
  std::unique_lock lock(slots_mu_);
  slots_cv_.wait(lock, [&] { return slots_used_ < options_.batch_slots; });
  ++slots_used_;
}

void BuiltinBackend::release_slot() {
  if (options_.batch_slots == 0) return;
  {
    std::lock_guard lock(slots_mu_);
    --slots_used_;
  }
  slots_cv_.notify_one();
}

void BuiltinBackend::chat(const ChatRequest& request, const std::string&, net::ResponseWriter& out) {
  acquire_slot();
  struct SlotGuard {
    BuiltinBackend* self;
    ~SlotGuard() { self->release_slot(); }
  } guard{this};
  const Generation g = generate(request);
  const std::string id = next_id();
  const int64_t created = unix_now();
  const auto per_token = options_.tokens_per_second > 0
                             ? std::chrono::duration<double>(1.0 / options_.tokens_per_second)
                             : std::chrono::duration<double>(0);
  metrics_.prompt_tokens += static_cast<uint64_t>(g.prompt_tokens);

  if (!request.stream) {
    std::this_thread::sleep_for(options_.time_to_first_token + per_token * static_cast<double>(g.tokens.size()));
    metrics_.completion_tokens += g.tokens.size();
    if (out.begin(200, "application/json")) out.write(completion_object(id, created, request.model, g, request.logprobs).dump());
    return;
  }

  if (!out.begin(200, "text/event-stream", {{"cache-control", "no-cache"}})) return;
  std::this_thread::sleep_for(options_.time_to_first_token);
  if (!out.write(sse_data(chunk_object(id, created, request.model, {{"role", "assistant"}, {"content", ""}}, std::nullopt)))) {
    return;
  }
  for (std::size_t i = 0; i < g.tokens.size(); ++i) {
    if (i > 0) std::this_thread::sleep_for(per_token);
    const auto& t = g.tokens[i];
    json logprobs = nullptr;
    if (request.logprobs) logprobs = {{"content", json::array({logprob_entry(t)})}};
    const bool last = i + 1 == g.tokens.size();
    const std::optional<std::string> finish = last ? std::optional<std::string>(g.finish_reason) : std::nullopt;
    if (!out.write(sse_data(chunk_object(id, created, request.model, {{"content", t.text}}, finish, logprobs)))) return;
    ++metrics_.completion_tokens;
  }
  if (g.tokens.empty()) {
    if (!out.write(sse_data(chunk_object(id, created, request.model, json::object(), g.finish_reason)))) return;
  }
  if (request.include_usage) {
    const auto completion = static_cast<int64_t>(g.tokens.size());
    if (!out.write(sse_data(usage_chunk(id, created, request.model, g.prompt_tokens, completion)))) return;
  }
  out.write("data: [DONE]\n\n");
}

net::Response BuiltinBackend::tokenize(const TokenizeRequest& request, const std::string&) {
  const std::string text = request.prompt ? *request.prompt : render_chat(*request.messages);
  json tokens = json::array();
  for (const auto& piece : tokenize_text(text)) tokens.push_back(token_id(piece));
  return net::json_response(200, json{{"count", tokens.size()}, {"max_model_len", kMaxModelLen}, {"tokens", tokens}}.dump());
}

net::Response BuiltinBackend::models() {
  json data = json::array();
  if (auto m = model()) {
    data.push_back({{"id", *m}, {"object", "model"}, {"created", 0}, {"owned_by", "mlnode-builtin"},
                    {"max_model_len", kMaxModelLen}});
  }
  return net::json_response(200, json{{"object", "list"}, {"data", data}}.dump());
}

}  // namespace mlnode::backends
