#include "api/broker/node_state.h"

namespace api::broker {

const char* to_string(Intent intent) {
  switch (intent) {
    case Intent::kNone:
      return "NONE";
    case Intent::kStopped:
      return "STOPPED";
    case Intent::kInference:
      return "INFERENCE";
    case Intent::kPocGenerate:
      return "POC_GENERATE";
    case Intent::kPocValidate:
      return "POC_VALIDATE";
  }
  return "?";
}

const char* to_string(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::kUnknown:
      return "UNKNOWN";
    case ServiceKind::kStopped:
      return "STOPPED";
    case ServiceKind::kInference:
      return "INFERENCE";
    case ServiceKind::kPow:
      return "POW";
  }
  return "?";
}

const char* to_string(PowPhase phase) {
  switch (phase) {
    case PowPhase::kNone:
      return "NONE";
    case PowPhase::kNotLoaded:
      return "NOT_LOADED";
    case PowPhase::kIdle:
      return "IDLE";
    case PowPhase::kGenerating:
      return "GENERATING";
    case PowPhase::kValidating:
      return "VALIDATING";
  }
  return "?";
}

std::string status_name(const ObservedState& observed) {
  if (observed.failure.failed()) return "FAILED";
  switch (observed.probe.kind) {
    case ServiceKind::kUnknown:
      return "UNKNOWN";
    case ServiceKind::kStopped:
      return "STOPPED";
    case ServiceKind::kInference:
      return "INFERENCE";
    case ServiceKind::kPow:
      return "POC";
  }
  return "UNKNOWN";
}

}  // namespace api::broker
