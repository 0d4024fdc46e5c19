#include "api/mlnode/http_call.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "api/mlnode/field_reader.h"

namespace api::mlnode {
namespace {

constexpr std::size_t kBodyExcerpt = 200;

std::string remote_message_of(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return {};
  const auto error = j.find("error");
  if (error == j.end() || !error->is_object()) return {};
  const auto message = error->find("message");
  return message != error->end() && message->is_string() ? message->get<std::string>() : std::string();
}

}  // namespace

MlNodeError transport_error(const std::string& route, const net::ClientError& error, int attempts) {
  MlNodeError e;
  e.kind = error.timed_out ? ErrorKind::kTimeout : ErrorKind::kTransport;
  e.route = route;
  e.attempts = attempts;
  e.message = attempts > 1 ? fmt::format("{}: {} (after {} attempts)", route, error.message, attempts)
                           : fmt::format("{}: {}", route, error.message);
  return e;
}

MlNodeError status_error(const std::string& route, int status, const std::string& body) {
  MlNodeError e;
  e.kind = ErrorKind::kHttpStatus;
  e.route = route;
  e.status = status;
  e.remote_message = remote_message_of(body);
  const std::string detail = !e.remote_message.empty() ? e.remote_message : body.substr(0, kBodyExcerpt);
  e.message = fmt::format("{}: HTTP {}{}{}", route, status, detail.empty() ? "" : ": ", detail);
  return e;
}

Result<net::ClientResponse> send(const HttpCall& call, const std::set<int>& accepted_statuses) {
  const int max_attempts = call.method == "GET" ? std::max(1, call.get_attempts) : 1;
  const net::Headers headers =
      call.method == "GET" ? net::Headers{} : net::Headers{{"content-type", "application/json"}};
  for (int attempt = 1;; ++attempt) {
    if (call.cancelled && call.cancelled()) {  // cancelled before (another) attempt: no request is sent
      return transport_error(call.route, net::ClientError{"cancelled by the caller", false, true}, attempt);
    }
    net::ClientResult result =
        net::Client::request(call.method, call.url, call.body, call.timeout, headers, call.cancelled);
    if (result.ok()) {
      if (!accepted_statuses.contains(result.response->status)) {
        return status_error(call.route, result.response->status, result.response->body);
      }
      return std::move(*result.response);
    }
    // A timed-out node is busy or stuck; calling it again would only multiply the wait.
    if (result.error->timed_out || result.error->cancelled || attempt >= max_attempts)
      return transport_error(call.route, *result.error, attempt);
    std::this_thread::sleep_for(call.retry_backoff * attempt);
  }
}

Result<nlohmann::json> send_json(const HttpCall& call, const std::set<int>& accepted_statuses) {
  auto response = send(call, accepted_statuses);
  if (!response) return response.error();
  auto j = parse_object(response->body, call.route);
  if (!j) {
    MlNodeError e = j.error();
    e.status = response->status;
    return e;
  }
  return j;
}

}  // namespace api::mlnode
