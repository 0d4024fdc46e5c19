// Error responses: the project's {"error": {"code", "message"}} on management routes and the OpenAI shape
// {"error": {"message", "type", "param", "code"}} on OpenAI routes.
#pragma once

#include <string>

#include "common/result.h"
#include "net/http.h"

namespace mlnode {

std::string error_code_for_status(int status);  // 400 -> "invalid_request", 409 -> "conflict", ...
net::Response api_error(int status, const std::string& message);
net::Response api_error(const common::Error& e);  // e.code is the HTTP status
net::Response openai_error_response(int status, const std::string& message);
net::Response openai_error_response(const common::Error& e);
void write_response(net::ResponseWriter& out, const net::Response& r);

}  // namespace mlnode
