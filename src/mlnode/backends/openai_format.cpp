#include "mlnode/backends/openai_format.h"

namespace mlnode::backends {

using nlohmann::json;

json usage_object(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

json logprob_entry(const GeneratedToken& t) {
  auto bytes_of = [](const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(static_cast<int>(c));
    return b;
  };
  json top = json::array();
  for (const auto& alt : t.top) top.push_back({{"token", alt.token}, {"logprob", alt.logprob}, {"bytes", bytes_of(alt.token)}});
  return {{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}, {"top_logprobs", top}};
}

json completion_object(const std::string& id, int64_t created, const std::string& model, const Generation& g,
                       bool with_logprobs) {
  json logprobs = nullptr;
  if (with_logprobs) {
    logprobs = {{"content", json::array()}};
    for (const auto& t : g.tokens) logprobs["content"].push_back(logprob_entry(t));
  }
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model},
          {"choices",
           json::array({{{"index", 0},
                         {"message", {{"role", "assistant"}, {"content", g.content()}}},
                         {"logprobs", logprobs},
                         {"finish_reason", g.finish_reason}}})},
          {"usage", usage_object(g.prompt_tokens, static_cast<int64_t>(g.tokens.size()))}};
}

json chunk_object(const std::string& id, int64_t created, const std::string& model, const json& delta,
                  const std::optional<std::string>& finish_reason, const json& logprobs) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array({{{"index", 0},
                                    {"delta", delta},
                                    {"logprobs", logprobs},
                                    {"finish_reason", finish_reason ? json(*finish_reason) : json(nullptr)}}})}};
}

json usage_chunk(const std::string& id, int64_t created, const std::string& model, int64_t prompt_tokens,
                 int64_t completion_tokens) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array()},
          {"usage", usage_object(prompt_tokens, completion_tokens)}};
}

json openai_error(const std::string& message, const std::string& type, const std::string& code) {
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
}

}  // namespace mlnode::backends
