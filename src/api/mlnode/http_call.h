// One HTTP exchange with an MLNode, turned into a typed outcome: transport errors, timeouts and unexpected
// statuses become MlNodeError; transport errors of GETs are retried a bounded number of times.
#pragma once

#include <chrono>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "api/mlnode/error.h"
#include "net/http.h"

namespace api::mlnode {

struct HttpCall {
  std::string method;  // "GET" or "POST"; only GETs are retried
  std::string route;   // "GET /api/v1/state", used in error messages
  std::string url;
  std::string body;
  std::chrono::milliseconds timeout{0};
  int get_attempts = 1;  // total attempts for a GET when the node cannot be reached
  std::chrono::milliseconds retry_backoff{0};
  net::CancelCheck cancelled;  // polled while waiting; true abandons the call (kTransport, "cancelled")
};

Result<net::ClientResponse> send(const HttpCall& call, const std::set<int>& accepted_statuses = {200});
// send() followed by parsing the body as a JSON object.
Result<nlohmann::json> send_json(const HttpCall& call, const std::set<int>& accepted_statuses = {200});

MlNodeError transport_error(const std::string& route, const net::ClientError& error, int attempts);
// An error for a status the route does not expect, carrying the node's error.message when the body has one.
MlNodeError status_error(const std::string& route, int status, const std::string& body);

}  // namespace api::mlnode
