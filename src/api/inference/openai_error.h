// OpenAI-shaped error bodies for the public inference API (issue 12 "Bad input"): the official `openai`
// client reads error.message/type/code and raises the matching exception class from the HTTP status.
//   {"error": {"message": "...", "type": "invalid_request_error", "param": null, "code": "model_not_found"}}
#pragma once

#include <string>

#include "net/http.h"

namespace api::inference {

// Body of an error; `code` may be empty (then null).
std::string openai_error_body(const std::string& type, const std::string& code, const std::string& message);

// Status → error type as OpenAI uses them: 400/404/409/413 invalid_request_error, 401 authentication_error,
// 402 insufficient_quota, 429 rate_limit_error, 5xx server_error.
std::string error_type_for(int status);

net::Response openai_error(int status, const std::string& code, const std::string& message);

// Writes an error as a whole (non-streamed) response on a stream writer that has not begun yet.
void write_error(net::ResponseWriter& w, int status, const std::string& code, const std::string& message,
                 const net::Headers& extra = {});

}  // namespace api::inference
