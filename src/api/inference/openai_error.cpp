#include "api/inference/openai_error.h"

#include <nlohmann/json.hpp>

namespace api::inference {

std::string openai_error_body(const std::string& type, const std::string& code, const std::string& message) {
  nlohmann::json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!code.empty()) e["code"] = code;
  return nlohmann::json{{"error", e}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_type_for(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "insufficient_quota";
    case 429:
      return "rate_limit_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

net::Response openai_error(int status, const std::string& code, const std::string& message) {
  return net::json_response(status, openai_error_body(error_type_for(status), code, message));
}

void write_error(net::ResponseWriter& w, int status, const std::string& code, const std::string& message,
                 const net::Headers& extra) {
  if (!w.begin(status, "application/json", extra)) return;
  w.write(openai_error_body(error_type_for(status), code, message));
}

}  // namespace api::inference
