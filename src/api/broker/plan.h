// The broker's decision (issue 11 item 5): a pure function from (intended, observed, now) to the one next
// action for a node. The reconciler runs it in a loop per node; tests run it on literal values.
//
// Rules, in order:
//  1. In backoff after a failure (now < failure.retry_at): wait until retry_at.
//  2. Observation unknown, or older than recheck_interval: probe (GET /api/v1/state, /health, /pow/status).
//     A satisfied node is thereby re-checked on a timer, so a node that died is noticed and marked FAILED.
//  3. Intent kNone, or the observation satisfies the intent: nothing to do until the next recheck.
//  4. Observation older than act_max_age: probe first (never act on a stale picture of the node).
//  5. Otherwise the command that moves the node toward the intent; a node running another service is stopped
//     first (the MLNode answers 409 to a service request while another one runs). POW -> POW (generate to
//     validate, or a new epoch) needs no stop: pow/init re-initialises.
#pragma once

#include <string>

#include "api/broker/clock.h"
#include "api/broker/node_state.h"

namespace api::broker {

struct PlanOptions {
  Duration act_max_age =
      std::chrono::seconds(2);  // an observation older than this is re-probed before acting
  Duration recheck_interval = std::chrono::seconds(10);  // a settled node is probed again after this
};

enum class ActionKind { kNone, kWait, kProbe, kStop, kInferenceUp, kPowInitGenerate, kPowInitValidate };
const char* to_string(ActionKind kind);

struct Action {
  ActionKind kind = ActionKind::kNone;
  TimePoint not_before{};  // kNone/kWait: when to plan again
  std::string reason;      // why (logs, tests)
};

// True when the node's observed service is the intended one (model and args for inference; phase, PoC start
// height and node index for PoC).
bool satisfies(const IntendedState& intended, const ObservedState& observed);

Action plan(const IntendedState& intended, const ObservedState& observed, TimePoint now,
            const PlanOptions& options = {});

// Backoff after `consecutive` failures (>= 1): base * 2^(consecutive-1), capped at max.
struct BackoffOptions {
  Duration base = std::chrono::seconds(1);
  Duration max = std::chrono::seconds(30);
};
Duration backoff_delay(uint32_t consecutive, const BackoffOptions& options = {});

}  // namespace api::broker
