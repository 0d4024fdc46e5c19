#include "mlnode/backends/chat_request.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mlnode::backends {
namespace {

using common::make_error;
using nlohmann::json;

common::Result<json> parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return make_error(
        400, "the request body is not valid JSON; send a JSON object with Content-Type: application/json");
  }
  if (!j.is_object()) return make_error(400, "the request body must be a JSON object");
  return j;
}

common::Result<std::vector<ChatMessage>> parse_messages(const json& j) {
  static const std::set<std::string> kRoles = {"system", "developer", "user", "assistant", "tool"};
  if (!j.is_array() || j.empty())
    return make_error(400, "\"messages\" must be a non-empty array of {role, content}");
  std::vector<ChatMessage> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const json& m = j[i];
    if (!m.is_object()) return make_error(400, fmt::format("messages[{}] must be an object", i));
    if (!m.contains("role") || !m["role"].is_string() || !kRoles.count(m["role"].get<std::string>())) {
      return make_error(
          400, fmt::format("messages[{}].role must be one of system, developer, user, assistant, tool", i));
    }
    ChatMessage msg{m["role"].get<std::string>(), {}};
    const json content = m.value("content", json());
    if (content.is_string()) {
      msg.content = content.get<std::string>();
    } else if (content.is_array()) {
      for (std::size_t k = 0; k < content.size(); ++k) {
        const json& part = content[k];
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
          return make_error(
              400, fmt::format("messages[{}].content[{}] must be {{\"type\": \"text\", \"text\": \"...\"}}",
                               i, k));
        }
        msg.content += part["text"].get<std::string>();
      }
    } else if (!content.is_null()) {
      return make_error(
          400, fmt::format("messages[{}].content must be a string, an array of text parts or null", i));
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

common::Status number_in(const json& j, const char* name, double lo, double hi, double& out) {
  if (!j.contains(name) || j[name].is_null()) return {};
  if (!j[name].is_number() || j[name].get<double>() < lo || j[name].get<double>() > hi) {
    return make_error(400, fmt::format("\"{}\" must be a number in [{}, {}]", name, lo, hi));
  }
  out = j[name].get<double>();
  return {};
}

common::Result<std::vector<std::string>> parse_stop(const json& s) {
  std::vector<std::string> out;
  if (s.is_string()) {
    out.push_back(s.get<std::string>());
  } else if (s.is_array()) {
    if (s.size() > kMaxStopSequences) {
      return make_error(400, fmt::format("\"stop\" takes at most {} sequences", kMaxStopSequences));
    }
    for (const auto& e : s) {
      if (!e.is_string()) return make_error(400, "\"stop\" must be a string or an array of strings");
      out.push_back(e.get<std::string>());
    }
  } else {
    return make_error(400, "\"stop\" must be a string or an array of strings");
  }
  for (const auto& e : out) {
    if (e.empty()) return make_error(400, "\"stop\" sequences must not be empty");
  }
  return out;
}

// logit_bias: {"<token id>": bias} with decimal token ids and biases in [-100, 100].
common::Status check_logit_bias(const json& j) {
  if (!j.contains("logit_bias") || j["logit_bias"].is_null()) return {};
  const json& lb = j["logit_bias"];
  if (!lb.is_object()) return make_error(400, "\"logit_bias\" must be an object of token id -> bias");
  for (const auto& [key, value] : lb.items()) {
    const bool digits = !key.empty() && key.size() <= 10 &&
                        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      return make_error(
          400, fmt::format("\"logit_bias\" keys must be token ids (non-negative integers); got \"{}\"", key));
    }
    if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100) {
      return make_error(400,
                        fmt::format("\"logit_bias\" values must be numbers in [-100, 100] (token {})", key));
    }
  }
  return {};
}

// response_format: {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", "json_schema":
// {"name", "schema"?, "strict"?, "description"?}}.
common::Status check_response_format(const json& j) {
  if (!j.contains("response_format") || j["response_format"].is_null()) return {};
  const json& rf = j["response_format"];
  if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string()) {
    return make_error(
        400, "\"response_format\" must be an object with \"type\": text, json_object or json_schema");
  }
  const std::string type = rf["type"].get<std::string>();
  if (type == "text" || type == "json_object") return {};
  if (type != "json_schema") {
    return make_error(
        400,
        fmt::format("\"response_format.type\" must be text, json_object or json_schema, not \"{}\"", type));
  }
  if (!rf.contains("json_schema") || !rf["json_schema"].is_object()) {
    return make_error(400, "\"response_format.json_schema\" must be an object when type is json_schema");
  }
  const json& js = rf["json_schema"];
  if (!js.contains("name") || !js["name"].is_string() || js["name"].get<std::string>().empty() ||
      js["name"].get<std::string>().size() > 64) {
    return make_error(400, "\"response_format.json_schema.name\" must be a string of 1 to 64 characters");
  }
  if (js.contains("schema") && !js["schema"].is_null() && !js["schema"].is_object()) {
    return make_error(400, "\"response_format.json_schema.schema\" must be an object (a JSON Schema)");
  }
  if (js.contains("strict") && !js["strict"].is_null() && !js["strict"].is_boolean()) {
    return make_error(400, "\"response_format.json_schema.strict\" must be a boolean");
  }
  return {};
}

common::Status check_tools(const json& j) {
  if (j.contains("tools") && !j["tools"].is_null()) {
    if (!j["tools"].is_array()) return make_error(400, "\"tools\" must be an array");
    for (std::size_t i = 0; i < j["tools"].size(); ++i) {
      const json& t = j["tools"][i];
      if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") ||
          !t["function"].is_object() || !t["function"].contains("name") ||
          !t["function"]["name"].is_string()) {
        return make_error(
            400,
            fmt::format("tools[{}] must be {{\"type\": \"function\", \"function\": {{\"name\", ...}}}}", i));
      }
    }
  }
  if (j.contains("tool_choice") && !j["tool_choice"].is_null() && !j["tool_choice"].is_string() &&
      !j["tool_choice"].is_object()) {
    return make_error(400, "\"tool_choice\" must be \"none\", \"auto\", \"required\" or an object");
  }
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
    if (!r.stream) return make_error(400, "\"stream_options\" is only allowed when \"stream\" is true");
    if (!so.is_object()) return make_error(400, "\"stream_options\" must be an object");
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean())
        return make_error(400, "\"stream_options.include_usage\" must be a boolean");
      r.include_usage = so["include_usage"].get<bool>();
    }
  }
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (!j.contains(name) || j[name].is_null()) continue;
    if (!j[name].is_number_integer() || j[name].get<int64_t>() < 1 ||
        j[name].get<int64_t>() > kMaxTokensField) {
      return make_error(400, fmt::format("\"{}\" must be an integer in [1, {}]", name, kMaxTokensField));
    }
    r.max_tokens = j[name].get<int64_t>();
  }
  if (j.contains("seed") && !j["seed"].is_null()) {
    // OpenAI-compatible servers take any integer that fits 64 bits (signed or unsigned); larger ones arrive
    // as floats.
    if (j["seed"].is_number_unsigned()) {
      r.seed = j["seed"].get<uint64_t>();
    } else if (j["seed"].is_number_integer()) {
      r.seed = static_cast<uint64_t>(j["seed"].get<int64_t>());
    } else {
      return make_error(400, "\"seed\" must be an integer within 64 bits (-2^63 .. 2^64-1)");
    }
  }
  TRY_STATUS(number_in(j, "temperature", 0, 2, r.temperature));
  TRY_STATUS(number_in(j, "top_p", 0, 1, r.top_p));
  TRY_STATUS(number_in(j, "presence_penalty", -2, 2, r.presence_penalty));
  TRY_STATUS(number_in(j, "frequency_penalty", -2, 2, r.frequency_penalty));
  if (j.contains("n") && !j["n"].is_null()) {
    if (!j["n"].is_number_integer() || j["n"].get<int64_t>() < 1 || j["n"].get<int64_t>() > kMaxChoices) {
      return make_error(400, fmt::format("\"n\" must be an integer in [1, {}]", kMaxChoices));
    }
    r.n = j["n"].get<int64_t>();
  }
  if (j.contains("stop") && !j["stop"].is_null()) {
    auto stop = parse_stop(j["stop"]);
    if (!stop) return stop.error();
    r.stop = std::move(*stop);
  }
  TRY_STATUS(check_logit_bias(j));
  TRY_STATUS(check_response_format(j));
  TRY_STATUS(check_tools(j));
  if (j.contains("user") && !j["user"].is_null() && !j["user"].is_string()) {
    return make_error(400, "\"user\" must be a string");
  }
  if (j.contains("logprobs") && !j["logprobs"].is_null()) {
    if (!j["logprobs"].is_boolean()) return make_error(400, "\"logprobs\" must be a boolean");
    r.logprobs = j["logprobs"].get<bool>();
  }
  if (j.contains("top_logprobs") && !j["top_logprobs"].is_null()) {
    if (!j["top_logprobs"].is_number_integer() || j["top_logprobs"].get<int64_t>() < 0 ||
        j["top_logprobs"].get<int64_t>() > kMaxTopLogprobs) {
      return make_error(400, fmt::format("\"top_logprobs\" must be an integer in [0, {}]", kMaxTopLogprobs));
    }
    r.top_logprobs = j["top_logprobs"].get<int>();
    if (r.top_logprobs > 0 && !r.logprobs) {
      return make_error(400, "\"top_logprobs\" needs \"logprobs\": true");
    }
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
