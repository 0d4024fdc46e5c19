#include "mlnode/http_errors.h"

#include "mlnode/backends/openai_format.h"

namespace mlnode {

std::string error_code_for_status(int status) {
  switch (status) {
    case 400:
      return "invalid_request";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 502:
      return "upstream_error";
    case 503:
      return "unavailable";
    case 504:
      return "upstream_timeout";
    default:
      return status >= 500 ? "internal_error" : "error";
  }
}

net::Response api_error(int status, const std::string& message) {
  return net::json_error(status, error_code_for_status(status), message);
}

net::Response api_error(const common::Error& e) {
  return api_error(static_cast<int>(e.code), e.message);
}

net::Response openai_error_response(int status, const std::string& message) {
  const std::string type = status < 500 ? "invalid_request_error" : "server_error";
  // Messages may echo request bytes that are not UTF-8 (a percent-decoded path): replace them instead of
  // throwing.
  return net::json_response(status, backends::openai_error(message, type, error_code_for_status(status))
                                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

net::Response openai_error_response(const common::Error& e) {
  return openai_error_response(static_cast<int>(e.code), e.message);
}

void write_response(net::ResponseWriter& out, const net::Response& r) {
  if (out.begin(r.status, r.content_type, r.headers)) out.write(r.body);
}

}  // namespace mlnode
