#include "api/inference/chat_request.h"

#include <openssl/crypto.h>

#include <cctype>
#include <vector>

namespace api::inference {

using nlohmann::json;

namespace {

std::optional<ChatRequest> fail(RequestError& error, const std::string& code, const std::string& message) {
  error = RequestError{400, code, message};
  return std::nullopt;
}

// A token count field: an integer in [1, kMaxRequestTokens], or null/absent.
bool token_field(const json& body, const char* name, std::optional<uint64_t>& out, RequestError& error) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_number_unsigned() || it->get<uint64_t>() < 1 || it->get<uint64_t>() > kMaxRequestTokens) {
    fail(error, "invalid_value",
         std::string(name) + " must be an integer in [1, " + std::to_string(kMaxRequestTokens) + "]");
    return false;
  }
  out = it->get<uint64_t>();
  return true;
}

}  // namespace

bool is_canonical_json(const std::string& text) {
  try {
    return nlohmann::json::parse(text).dump() == text;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

std::optional<ChatRequest> parse_chat_request(const std::string& text, RequestError& error) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) return fail(error, "invalid_json", "the request body is not valid JSON");
  if (!body.is_object()) return fail(error, "invalid_json", "the request body must be a JSON object");
  ChatRequest r;
  auto model = body.find("model");
  if (model == body.end()) return fail(error, "missing_field", "model is required");
  if (!model->is_string() || model->get_ref<const std::string&>().empty() ||
      model->get_ref<const std::string&>().size() > 256) {
    return fail(error, "invalid_value", "model must be a non-empty string of at most 256 characters");
  }
  r.model = model->get<std::string>();
  auto messages = body.find("messages");
  if (messages == body.end()) return fail(error, "missing_field", "messages is required");
  if (!messages->is_array() || messages->empty() || messages->size() > kMaxMessages) {
    return fail(
        error, "invalid_value",
        "messages must be a non-empty array of at most " + std::to_string(kMaxMessages) + " messages");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return fail(error, "invalid_value", where + " must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string() || role->get_ref<const std::string&>().empty()) {
      return fail(error, "invalid_value", where + ".role must be a non-empty string");
    }
    auto content = m.find("content");
    if (content != m.end() && !content->is_string() && !content->is_array() && !content->is_null()) {
      return fail(error, "invalid_value", where + ".content must be a string, an array of parts or null");
    }
  }
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) return fail(error, "invalid_value", "stream must be a boolean");
    r.stream = s->get<bool>();
  }
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) return fail(error, "invalid_value", "stream_options must be an object");
    auto iu = so->find("include_usage");
    if (iu != so->end() && !iu->is_boolean()) {
      return fail(error, "invalid_value", "stream_options.include_usage must be a boolean");
    }
    r.include_usage = iu != so->end() && iu->get<bool>();
  }
  std::optional<uint64_t> max_tokens, max_completion_tokens;
  if (!token_field(body, "max_tokens", max_tokens, error)) return std::nullopt;
  if (!token_field(body, "max_completion_tokens", max_completion_tokens, error)) return std::nullopt;
  r.max_tokens = max_completion_tokens ? max_completion_tokens : max_tokens;
  r.body = std::move(body);
  return r;
}

std::string bearer_token(const std::string& authorization) {
  static const std::string prefix = "Bearer ";
  if (authorization.size() <= prefix.size()) return "";
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return "";
    }
  }
  return authorization.substr(prefix.size());
}

bool api_key_allowed(const std::string& presented, const std::vector<std::string>& keys) {
  bool ok = false;
  for (const auto& k : keys) {
    if (!k.empty() && k.size() == presented.size() &&
        CRYPTO_memcmp(k.data(), presented.data(), k.size()) == 0)
      ok = true;
  }
  return ok;
}

}  // namespace api::inference
