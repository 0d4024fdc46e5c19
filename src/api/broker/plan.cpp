#include "api/broker/plan.h"

#include <algorithm>

namespace api::broker {

const char* to_string(ActionKind kind) {
  switch (kind) {
    case ActionKind::kNone:
      return "none";
    case ActionKind::kWait:
      return "wait";
    case ActionKind::kProbe:
      return "probe";
    case ActionKind::kStop:
      return "stop";
    case ActionKind::kInferenceUp:
      return "inference_up";
    case ActionKind::kPowInitGenerate:
      return "pow_init_generate";
    case ActionKind::kPowInitValidate:
      return "pow_init_validate";
  }
  return "?";
}

namespace {

bool pow_matches(const PocInit& init, const NodeProbe& p, PowPhase phase) {
  return p.kind == ServiceKind::kPow && p.pow == phase && p.pow_block_height == init.block_height &&
         p.pow_node_id == init.node_index;
}

}  // namespace

bool satisfies(const IntendedState& intended, const ObservedState& observed) {
  const NodeProbe& p = observed.probe;
  switch (intended.intent) {
    case Intent::kNone:
      return true;
    case Intent::kStopped:
      return p.kind == ServiceKind::kStopped;
    case Intent::kInference:
      // The node does not report its args: they count as applied only when our own inference/up set them.
      return p.kind == ServiceKind::kInference && p.model == intended.model && p.healthy &&
             observed.applied == intended;
    case Intent::kPocGenerate:
      return pow_matches(intended.poc, p, PowPhase::kGenerating);
    case Intent::kPocValidate:
      return pow_matches(intended.poc, p, PowPhase::kValidating);
  }
  return false;
}

Action plan(const IntendedState& intended, const ObservedState& observed, TimePoint now,
            const PlanOptions& options) {
  const FailureRecord& f = observed.failure;
  if (f.consecutive > 0 && now < f.retry_at) {
    return {ActionKind::kWait, f.retry_at, "backoff after failure: " + f.reason};
  }
  const NodeProbe& p = observed.probe;
  if (p.kind == ServiceKind::kUnknown) return {ActionKind::kProbe, now, "state unknown"};
  const Duration age = now - observed.observed_at;
  if (age >= options.recheck_interval) return {ActionKind::kProbe, now, "periodic re-check"};
  if (satisfies(intended, observed)) {
    return {ActionKind::kNone, observed.observed_at + options.recheck_interval, "settled"};
  }
  if (age >= options.act_max_age) return {ActionKind::kProbe, now, "observation too old to act on"};

  switch (intended.intent) {
    case Intent::kNone:
      break;  // satisfied above
    case Intent::kStopped:
      return {ActionKind::kStop, now, "intended STOPPED"};
    case Intent::kInference:
      if (p.kind == ServiceKind::kPow) return {ActionKind::kStop, now, "stop PoC before inference"};
      return {ActionKind::kInferenceUp, now, "intended INFERENCE " + intended.model};
    case Intent::kPocGenerate:
      if (p.kind == ServiceKind::kInference) return {ActionKind::kStop, now, "stop inference before PoC"};
      return {ActionKind::kPowInitGenerate, now, "intended POC_GENERATE"};
    case Intent::kPocValidate:
      if (p.kind == ServiceKind::kInference) return {ActionKind::kStop, now, "stop inference before PoC"};
      return {ActionKind::kPowInitValidate, now, "intended POC_VALIDATE"};
  }
  return {ActionKind::kNone, now + options.recheck_interval, "nothing to do"};
}

Duration backoff_delay(uint32_t consecutive, const BackoffOptions& options) {
  if (consecutive == 0) return Duration::zero();
  Duration d = options.base;
  for (uint32_t i = 1; i < consecutive && d < options.max; ++i) d *= 2;
  return std::min(d, options.max);
}

}  // namespace api::broker
