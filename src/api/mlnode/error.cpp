#include "api/mlnode/error.h"

namespace api::mlnode {

std::string to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTransport:
      return "transport";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kHttpStatus:
      return "http_status";
    case ErrorKind::kBadResponse:
      return "bad_response";
  }
  return "unknown";
}

}  // namespace api::mlnode
