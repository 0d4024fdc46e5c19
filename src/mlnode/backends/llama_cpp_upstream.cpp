#include "mlnode/backends/llama_cpp_upstream.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string_view>

namespace mlnode::backends {
namespace {

using nlohmann::json;

// vLLM flags that only tune how vLLM runs on GPUs (memory, parallelism, scheduling, kernels, logging) or name
// a quantization the GGUF file already fixes: dropped for llama.cpp. `takes_value` false: a switch.
struct VllmFlag {
  std::string_view name;
  bool takes_value;
};
constexpr std::array kIgnoredVllmFlags{
    VllmFlag{"--dtype", true},
    VllmFlag{"--quantization", true},
    VllmFlag{"--kv-cache-dtype", true},
    VllmFlag{"--tensor-parallel-size", true},
    VllmFlag{"--tp", true},
    VllmFlag{"--pipeline-parallel-size", true},
    VllmFlag{"--pp", true},
    VllmFlag{"--gpu-memory-utilization", true},
    VllmFlag{"--max-num-seqs", true},
    VllmFlag{"--max-num-batched-tokens", true},
    VllmFlag{"--swap-space", true},
    VllmFlag{"--block-size", true},
    VllmFlag{"--served-model-name", true},
    VllmFlag{"--enforce-eager", false},
    VllmFlag{"--enable-chunked-prefill", false},
    VllmFlag{"--enable-prefix-caching", false},
    VllmFlag{"--trust-remote-code", false},
    VllmFlag{"--disable-log-requests", false},
    VllmFlag{"--disable-log-stats", false},
};

// Flags with the same meaning on llama_cpp.server (value is an integer unless noted).
struct MappedFlag {
  std::string_view from;
  std::string_view to;
  bool integer;
};
constexpr std::array kMappedFlags{
    MappedFlag{"--max-model-len", "--n_ctx", true}, MappedFlag{"--n_ctx", "--n_ctx", true},
    MappedFlag{"--seed", "--seed", true},           MappedFlag{"--n_threads", "--n_threads", true},
    MappedFlag{"--n_batch", "--n_batch", true},     MappedFlag{"--chat_format", "--chat_format", false},
};

bool is_integer(const std::string& s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && v >= -1;
}

}  // namespace

common::Result<LlamaCppServerArgs> llama_cpp_server_args(const std::string& model_id, const std::string& host,
                                                         uint16_t port,
                                                         const std::vector<std::string>& model_args) {
  LlamaCppServerArgs out;
  // interrupt_requests false: llama_cpp.server otherwise aborts a running stream when another request
  // arrives. logits_all true: needed for token log-probabilities (validation).
  out.args = {"--model_alias",        model_id, "--host",       host,  "--port", std::to_string(port),
              "--interrupt_requests", "false",  "--logits_all", "true"};
  for (std::size_t i = 0; i < model_args.size(); ++i) {
    const std::string& arg = model_args[i];
    if (arg.rfind("--", 0) != 0)
      return common::make_error(400,
                                fmt::format("model arg \"{}\" is not a --flag (llama.cpp upstream)", arg));
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto next_value = [&]() -> common::Result<std::string> {
      if (value) return *value;
      if (i + 1 >= model_args.size() || model_args[i + 1].rfind("--", 0) == 0)
        return common::make_error(400, fmt::format("model arg {} needs a value", name));
      return model_args[++i];
    };
    if (auto it = std::find_if(kIgnoredVllmFlags.begin(), kIgnoredVllmFlags.end(),
                               [&](const VllmFlag& f) { return f.name == name; });
        it != kIgnoredVllmFlags.end()) {
      if (it->takes_value) {
        auto v = next_value();
        if (!v) return v.error();
        out.ignored.push_back(name + " " + *v);
      } else {
        if (value) return common::make_error(400, fmt::format("model arg {} takes no value", name));
        out.ignored.push_back(name);
      }
      continue;
    }
    auto it = std::find_if(kMappedFlags.begin(), kMappedFlags.end(),
                           [&](const MappedFlag& f) { return f.from == name; });
    if (it == kMappedFlags.end())
      return common::make_error(
          400, fmt::format(
                   "model arg {} has no llama.cpp equivalent; the llama.cpp upstream maps --max-model-len, "
                   "--seed, --n_ctx, --n_threads, --n_batch, --chat_format and ignores vLLM GPU tuning "
                   "flags (src/mlnode/README.md)",
                   name));
    auto v = next_value();
    if (!v) return v.error();
    if (it->integer && !is_integer(*v))
      return common::make_error(400, fmt::format("model arg {} needs an integer, not \"{}\"", name, *v));
    out.args.emplace_back(it->to);
    out.args.push_back(*v);
  }
  return out;
}

std::string gbnf_literal(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f)
          out += fmt::format("\\x{:02X}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

json llama_cpp_enforced_body(const json& raw, const std::string& enforced_str) {
  json body = raw;
  body.erase("enforced_str");
  body.erase("stop");
  body.erase("max_completion_tokens");
  body.erase("seed");
  body["grammar"] = "root ::= " + gbnf_literal(enforced_str);
  body["temperature"] = 0;
  body["n"] = 1;
  body["logprobs"] = true;
  if (!body.contains("top_logprobs")) body["top_logprobs"] = 0;
  body["max_tokens"] = enforced_str.size() + 8;
  return body;
}

common::Status check_llama_cpp_enforced_answer(const json& answer, const std::string& enforced_str) {
  const json* choice = nullptr;
  if (answer.is_object() && answer.contains("choices") && answer["choices"].is_array() &&
      answer["choices"].size() == 1 && answer["choices"][0].is_object())
    choice = &answer["choices"][0];
  if (!choice) return common::make_error(502, "upstream answered enforced_str without exactly one choice");
  const json& message = choice->value("message", json::object());
  const std::string content =
      message.is_object() && message.contains("content") && message["content"].is_string()
          ? message["content"].get<std::string>()
          : std::string();
  if (content != enforced_str)
    return common::make_error(
        502, fmt::format("upstream did not reproduce enforced_str ({} bytes expected, {} produced)",
                         enforced_str.size(), content.size()));
  const json& logprobs = choice->value("logprobs", json());
  if (!logprobs.is_object() || !logprobs.contains("content") || !logprobs["content"].is_array() ||
      (logprobs["content"].empty() && !enforced_str.empty()))
    return common::make_error(502, "upstream answered enforced_str without token logprobs");
  return {};
}

// id/created/model.
void count_llama_cpp_chunk(const std::string& data, int64_t& tokens, std::string& id, int64_t& created,
                           std::string& model) {
  auto j = nlohmann::json::parse(data, nullptr, false);
  if (!j.is_object()) return;
  if (j.contains("id") && j["id"].is_string()) id = j["id"].get<std::string>();
  if (j.contains("created") && j["created"].is_number_integer()) created = j["created"].get<int64_t>();
  if (j.contains("model") && j["model"].is_string()) model = j["model"].get<std::string>();
  if (!j.contains("choices") || !j["choices"].is_array()) return;
  for (const auto& choice : j["choices"]) {
    if (!choice.is_object() || !choice.contains("delta") || !choice["delta"].is_object()) continue;
    const auto& delta = choice["delta"];
    if (delta.contains("content") && delta["content"].is_string() &&
        !delta["content"].get<std::string>().empty())
      ++tokens;
  }
}

}  // namespace mlnode::backends
