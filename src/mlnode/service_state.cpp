#include "mlnode/service_state.h"

#include <fmt/format.h>

namespace mlnode {

std::string to_string(ServiceState s) {
  switch (s) {
    case ServiceState::kStopped: return "STOPPED";
    case ServiceState::kInference: return "INFERENCE";
    case ServiceState::kPow: return "POW";
  }
  return "UNKNOWN";
}

common::Status ServiceStateMachine::begin(ServiceState wanted) {
  std::lock_guard lock(mu_);
  if (state_ != ServiceState::kStopped && state_ != wanted) {
    return common::make_error(kConflict, fmt::format("the ML node is running {}; POST /api/v1/stop before starting {}",
                                                     to_string(state_), to_string(wanted)));
  }
  state_ = wanted;
  return {};
}

common::Status ServiceStateMachine::require(ServiceState wanted) const {
  std::lock_guard lock(mu_);
  if (state_ != wanted) {
    return common::make_error(kConflict, fmt::format("the ML node is in state {}, not {}", to_string(state_),
                                                     to_string(wanted)));
  }
  return {};
}

void ServiceStateMachine::abort(ServiceState s) {
  std::lock_guard lock(mu_);
  if (state_ == s) state_ = ServiceState::kStopped;
}

void ServiceStateMachine::stop() {
  std::lock_guard lock(mu_);
  state_ = ServiceState::kStopped;
}

ServiceState ServiceStateMachine::current() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace mlnode
