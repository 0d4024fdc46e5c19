#include "api/mlnode/inference_messages.h"

#include "api/mlnode/field_reader.h"

namespace api::mlnode {
namespace {

using nlohmann::json;

Usage read_usage(FieldReader& r) {
  FieldReader u = r.object("usage");
  Usage usage;
  usage.prompt_tokens = u.count("prompt_tokens");
  usage.completion_tokens = u.count("completion_tokens");
  usage.total_tokens = u.count("total_tokens");
  return usage;
}

}  // namespace

json to_json(const TokenizeRequest& r) {
  json j = {{"model", r.model}};
  if (r.prompt) j["prompt"] = *r.prompt;
  if (r.messages) j["messages"] = *r.messages;
  return j;
}

Result<Health> parse_health(const json& j, bool serving, const std::string& route) {
  FieldReader r(j, route);
  Health h;
  h.serving = serving;
  h.state = r.string("state");
  h.version = r.string("version");
  h.model = r.optional_string("model");
  h.reason = r.optional_string("reason");
  if (r.error()) return *r.error();
  return h;
}

Result<ModelList> parse_model_list(const json& j, const std::string& route) {
  FieldReader r(j, route);
  ModelList list;
  const auto data = j.find("data");
  if (data == j.end() || !data->is_array()) {
    r.invalid("data", "must be an array of models");
    return *r.error();
  }
  for (const json& model : *data) {
    FieldReader m(model, route);
    ModelInfo info;
    info.id = m.string("id");
    info.max_model_len = m.optional_integer("max_model_len");
    if (m.error()) return *m.error();
    list.data.push_back(std::move(info));
  }
  return list;
}

Result<TokenizeResponse> parse_tokenize_response(const json& j, const std::string& route) {
  FieldReader r(j, route);
  TokenizeResponse t;
  t.count = r.count("count");
  t.max_model_len = r.integer("max_model_len");
  t.tokens = r.integers("tokens");
  if (r.error()) return *r.error();
  return t;
}

Result<ChatCompletion> parse_chat_completion(json j, const std::string& route) {
  FieldReader r(j, route);
  if (!j.contains("choices") || !j["choices"].is_array()) r.invalid("choices", "must be an array");
  Usage usage = read_usage(r);
  if (r.error()) return *r.error();
  return ChatCompletion{std::move(j), usage};
}

Result<Usage> parse_usage(const json& j, const std::string& route) {
  FieldReader r(j, route);
  Usage usage = read_usage(r);
  if (r.error()) return *r.error();
  return usage;
}

}  // namespace api::mlnode
