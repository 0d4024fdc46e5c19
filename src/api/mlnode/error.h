// Outcome of one MLNode call: a value, or an error saying whether the node was unreachable, too slow, refused
// the request with an HTTP status, or answered something the client cannot use.
#pragma once

#include <string>

#include "common/result.h"

namespace api::mlnode {

enum class ErrorKind {
  kTransport,    // connection refused or reset, invalid URL
  kTimeout,      // no answer within the call's timeout
  kHttpStatus,   // the node answered with an unexpected status (see status, remote_message)
  kBadResponse,  // 2xx, but the body is not the JSON the route promises
};

std::string to_string(ErrorKind kind);

struct MlNodeError {
  ErrorKind kind = ErrorKind::kTransport;
  std::string route;           // "GET /api/v1/state"
  int status = 0;              // HTTP status; 0 when the node did not answer
  std::string message;         // what went wrong, naming the route and, for bad responses, the field
  std::string remote_message;  // the node's error.message when its error body has one
  int attempts = 1;            // calls made (idempotent GETs are retried on transport errors)

  bool busy() const { return kind == ErrorKind::kHttpStatus && status == 409; }  // another service is running
};

template <typename T>
using Result = common::Result<T, MlNodeError>;

}  // namespace api::mlnode
