// Which service the ML node runs: nothing, inference, or PoC. One at a time; asking for another while one runs
// is a conflict (HTTP 409) until /api/v1/stop returns the node to STOPPED.
#pragma once

#include <mutex>
#include <string>

#include "common/result.h"

namespace mlnode {

enum class ServiceState { kStopped, kInference, kPow };

std::string to_string(ServiceState s);  // "STOPPED", "INFERENCE", "POW"

inline constexpr uint32_t kConflict = 409;

class ServiceStateMachine {
 public:
  // Enters `wanted` from STOPPED (or stays in it). Error code 409 with a "stop first" message if another service runs.
  common::Status begin(ServiceState wanted);
  // Error 409 unless the node currently runs `wanted`.
  common::Status require(ServiceState wanted) const;
  // Returns to STOPPED only if the node is still in `s` (used when starting `s` failed).
  void abort(ServiceState s);
  void stop();
  ServiceState current() const;

 private:
  mutable std::mutex mu_;
  ServiceState state_ = ServiceState::kStopped;
};

}  // namespace mlnode
