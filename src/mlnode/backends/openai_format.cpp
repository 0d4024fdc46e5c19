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
  for (const auto& alt : t.top)
    top.push_back({{"token", alt.token}, {"logprob", alt.logprob}, {"bytes", bytes_of(alt.token)}});
  return {{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}, {"top_logprobs", top}};
}

json completion_object(const std::string& id, int64_t created, const std::string& model,
                       const std::vector<Generation>& choices, bool with_logprobs) {
  json out_choices = json::array();
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    const Generation& g = choices[i];
    json logprobs = nullptr;
    if (with_logprobs) {
      logprobs = {{"content", json::array()}};
      for (const auto& t : g.tokens) logprobs["content"].push_back(logprob_entry(t));
    }
    out_choices.push_back({{"index", i},
                           {"message", {{"role", "assistant"}, {"content", g.content()}}},
                           {"logprobs", logprobs},
                           {"finish_reason", g.finish_reason}});
    prompt_tokens = g.prompt_tokens;
    completion_tokens += static_cast<int64_t>(g.tokens.size());
  }
  return {{"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model},
          {"choices", out_choices},
          {"usage", usage_object(prompt_tokens, completion_tokens)}};
}

json chunk_object(const std::string& id, int64_t created, const std::string& model, const json& delta,
                  const std::optional<std::string>& finish_reason, const json& logprobs, int64_t index) {
  return {
      {"id", id},
      {"object", "chat.completion.chunk"},
      {"created", created},
      {"model", model},
      {"choices", json::array({{{"index", index},
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
