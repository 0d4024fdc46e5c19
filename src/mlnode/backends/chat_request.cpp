#include "mlnode/backends/chat_request.h"

#include <fmt/format.h>

#include <set>

namespace mlnode::backends {
namespace {

using common::make_error;
using nlohmann::json;

common::Result<json> parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return make_error(400, "the request body is not valid JSON; send a JSON object with Content-Type: application/json");
  }
  if (!j.is_object()) return make_error(400, "the request body must be a JSON object");
  return j;
}

common::Result<std::vector<ChatMessage>> parse_messages(const json& j) {
  static const std::set<std::string> kRoles = {"system", "developer", "user", "assistant", "tool"};
  if (!j.is_array() || j.empty()) return make_error(400, "\"messages\" must be a non-empty array of {role, content}");
  std::vector<ChatMessage> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    if (!m.is_object()) return make_error(400, fmt::format("messages[{}] must be an object", i));
    if (!m.contains("role") || !m["role"].is_string() || !kRoles.count(m["role"].get<std::string>())) {
      return make_error(400, fmt::format("messages[{}].role must be one of system, developer, user, assistant, tool", i));
    }
    ChatMessage msg{m["role"].get<std::string>(), {}};
    const json content = m.value("content", json());
    if (content.is_string()) {
      msg.content = content.get<std::string>();
    } else if (content.is_array()) {
      for (std::size_t k = 0; k < content.size(); ++k) {
        const json& part = content[k];
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
          return make_error(400, fmt::format("messages[{}].content[{}] must be {{\"type\": \"text\", \"text\": \"...\"}}",
                                             i, k));
        }
        msg.content += part["text"].get<std::string>();
      }
    } else if (!content.is_null()) {
      return make_error(400, fmt::format("messages[{}].content must be a string, an array of text parts or null", i));
    }
    out.push_back(std::move(msg));
  }
  return out;
}

common::Status need_model(const json& j, std::string& model) {
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return make_error(400, "\"model\" is required (the model id passed to /api/v1/inference/up)");
  }
  model = j["model"].get<std::string>();
  return {};
}

}  // namespace

common::Result<ChatRequest> parse_chat_request(const std::string& body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  ChatRequest r;
  r.raw = j;
  TRY_STATUS(need_model(j, r.model));
  if (!j.contains("messages")) return make_error(400, "\"messages\" is required");
  auto messages = parse_messages(j["messages"]);
  if (!messages) return messages.error();
  r.messages = std::move(*messages);

  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return make_error(400, "\"stream\" must be a boolean");
    r.stream = j["stream"].get<bool>();
  }
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    const json& so = j["stream_options"];
    if (!so.is_object()) return make_error(400, "\"stream_options\" must be an object");
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean()) return make_error(400, "\"stream_options.include_usage\" must be a boolean");
      r.include_usage = so["include_usage"].get<bool>();
    }
  }
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (!j.contains(name) || j[name].is_null()) continue;
    if (!j[name].is_number_integer() || j[name].get<int64_t>() < 1 || j[name].get<int64_t>() > 1000000) {
      return make_error(400, fmt::format("\"{}\" must be an integer in [1, 1000000]", name));
    }
    r.max_tokens = j[name].get<int64_t>();
  }
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer()) return make_error(400, "\"seed\" must be an integer");
    r.seed = static_cast<uint64_t>(j["seed"].get<int64_t>());
  }
  if (j.contains("temperature") && !j["temperature"].is_null()) {
    if (!j["temperature"].is_number() || j["temperature"].get<double>() < 0 || j["temperature"].get<double>() > 2) {
      return make_error(400, "\"temperature\" must be a number in [0, 2]");
    }
    r.temperature = j["temperature"].get<double>();
  }
  if (j.contains("n") && !j["n"].is_null() && j["n"] != 1) return make_error(400, "only \"n\": 1 is supported");
  if (j.contains("logprobs") && !j["logprobs"].is_null()) {
    if (!j["logprobs"].is_boolean()) return make_error(400, "\"logprobs\" must be a boolean");
    r.logprobs = j["logprobs"].get<bool>();
  }
  if (j.contains("top_logprobs") && !j["top_logprobs"].is_null()) {
    if (!j["top_logprobs"].is_number_integer() || j["top_logprobs"].get<int64_t>() < 0 ||
        j["top_logprobs"].get<int64_t>() > 20) {
      return make_error(400, "\"top_logprobs\" must be an integer in [0, 20]");
    }
    r.top_logprobs = j["top_logprobs"].get<int>();
  }
  if (j.contains("enforced_str") && !j["enforced_str"].is_null()) {
    if (!j["enforced_str"].is_string()) return make_error(400, "\"enforced_str\" must be a string");
    r.enforced_str = j["enforced_str"].get<std::string>();
  }
  return r;
}

common::Result<TokenizeRequest> parse_tokenize_request(const std::string& body) {
  auto parsed = parse_object(body);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  TokenizeRequest r;
  TRY_STATUS(need_model(j, r.model));
  if (j.contains("prompt")) {
    if (!j["prompt"].is_string()) return make_error(400, "\"prompt\" must be a string");
    r.prompt = j["prompt"].get<std::string>();
  }
  if (j.contains("messages")) {
    auto messages = parse_messages(j["messages"]);
    if (!messages) return messages.error();
    r.messages = std::move(*messages);
  }
  if (r.prompt.has_value() == r.messages.has_value()) {
    return make_error(400, "send exactly one of \"prompt\" (a string) or \"messages\" (chat messages)");
  }
  return r;
}

}  // namespace mlnode::backends
