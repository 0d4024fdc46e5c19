#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "net/http.h"

namespace net {

std::string Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string{} : it->second;
}

Response json_error(int status, const std::string& code, const std::string& message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  // Messages may echo request bytes (a percent-decoded path) that are not UTF-8: replace them instead of
  // throwing.
  return json_response(status, common::json_dump(body));
}

Response json_response(int status, const std::string& json_body) {
  Response response;
  response.status = status;
  response.body = json_body;
  return response;
}

}  // namespace net
