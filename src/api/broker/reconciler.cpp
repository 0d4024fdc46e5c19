#include "api/broker/reconciler.h"

#include <spdlog/spdlog.h>

namespace api::broker {

struct Reconciler::Slot {
  std::string id;
  std::shared_ptr<MlnodeDriver> driver;
  IntendedState intended;
  ObservedState observed;
  uint64_t generation = 0;         // intent changes
  uint64_t driver_generation = 0;  // driver replacements
  bool busy = false;
  bool held = false;  // hold(): no new driver call
  ActionKind busy_action = ActionKind::kNone;
  std::shared_ptr<MlnodeDriver>
      busy_driver;                // the driver of the call in flight (set_driver may replace driver)
  bool cancel_requested = false;  // the intent changed during a long call: the canceller stops the node
  bool removed = false;
  bool wake = false;
  bool exited = false;  // the worker thread left its loop
  uint64_t stale_results_dropped = 0;
  uint64_t actions = 0;
  uint64_t failures = 0;
  uint64_t cancels = 0;
  std::condition_variable cv;
  std::thread thread;
  std::thread canceller;
};

namespace {

NodeView view_of(const std::string& id, const IntendedState& intended, const ObservedState& observed,
                 bool busy, uint64_t generation, uint64_t stale, uint64_t actions, uint64_t failures) {
  return NodeView{id,       intended, observed, status_name(observed), busy, generation, stale, actions,
                  failures, 0,        false};
}

// The node answered a probe: record it; our applied inference args stay valid only while it still serves that
// model.
void apply_probe(ObservedState& o, const NodeProbe& p, TimePoint now) {
  o.probe = p;
  o.observed_at = now;
  if (o.applied && !(p.kind == ServiceKind::kInference && o.applied->intent == Intent::kInference &&
                     p.model == o.applied->model)) {
    o.applied.reset();
  }
}

struct Outcome {
  bool ok = false;
  std::string error;
  NodeProbe probe;  // probe / pow_init answers
};

Outcome execute(MlnodeDriver& d, ActionKind kind, const IntendedState& intended) {
  auto from_status = [](const common::Status& st) {
    return st.ok() ? Outcome{true, {}, {}} : Outcome{false, st.error().message, {}};
  };
  auto from_probe = [](const common::Result<NodeProbe>& r) {
    return r.ok() ? Outcome{true, {}, *r} : Outcome{false, r.error().message, {}};
  };
  switch (kind) {
    case ActionKind::kProbe:
      return from_probe(d.probe());
    case ActionKind::kStop:
      return from_status(d.stop());
    case ActionKind::kInferenceUp:
      return from_status(d.inference_up(intended.model, intended.args));
    case ActionKind::kPowInitGenerate:
      return from_probe(d.pow_init_generate(intended.poc));
    case ActionKind::kPowInitValidate:
      return from_probe(d.pow_init_validate(intended.poc));
    case ActionKind::kNone:
    case ActionKind::kWait:
      break;
  }
  return {false, "nothing to execute", {}};
}

}  // namespace

Reconciler::Reconciler(const Clock& clock, ReconcilerOptions options) : clock_(clock), options_(options) {}

Reconciler::~Reconciler() {
  stop();
}

std::shared_ptr<Reconciler::Slot> Reconciler::find(const std::string& id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : it->second;
}

bool Reconciler::add_node(const std::string& id, std::shared_ptr<MlnodeDriver> driver) {
  std::lock_guard lock(mu_);
  if (stopping_ || slots_.count(id) != 0) return false;
  auto slot = std::make_shared<Slot>();
  slot->id = id;
  slot->driver = std::move(driver);
  slots_[id] = slot;
  if (options_.start_threads) {
    slot->thread = std::thread([this, slot] { worker_loop(slot); });
    slot->canceller = std::thread([this, slot] { canceller_loop(slot); });
  }
  return true;
}

void Reconciler::reap_finished_locked(std::vector<std::thread>& to_join) {
  for (auto it = removed_.begin(); it != removed_.end();) {
    if ((*it)->exited || !(*it)->thread.joinable()) {
      if ((*it)->thread.joinable()) to_join.push_back(std::move((*it)->thread));
      if ((*it)->canceller.joinable()) to_join.push_back(std::move((*it)->canceller));
      it = removed_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Reconciler::remove_node(const std::string& id) {
  std::vector<std::thread> to_join;
  {
    std::lock_guard lock(mu_);
    auto slot = find(id);
    if (!slot) return false;
    slot->removed = true;
    slot->cv.notify_all();
    slots_.erase(id);
    removed_.push_back(slot);
    reap_finished_locked(to_join);
  }
  for (auto& t : to_join) t.join();  // only threads that already left their loop: never waits on I/O
  return true;
}

bool Reconciler::set_driver(const std::string& id, std::shared_ptr<MlnodeDriver> driver) {
  std::lock_guard lock(mu_);
  auto slot = find(id);
  if (!slot) return false;
  slot->driver = std::move(driver);
  ++slot->driver_generation;
  slot->observed.probe = NodeProbe{};
  slot->observed.applied.reset();
  // Other URLs (a new MLNode version): tried at once; the reason stays until a call on them succeeds.
  slot->observed.failure.consecutive = 0;
  slot->observed.failure.retry_at = TimePoint{};
  slot->wake = true;
  slot->cv.notify_all();
  return true;
}

bool Reconciler::hold(const std::string& id, bool on) {
  std::lock_guard lock(mu_);
  auto slot = find(id);
  if (!slot) return false;
  slot->held = on;
  if (!on) {
    slot->wake = true;
    slot->cv.notify_all();
  }
  return true;
}

bool Reconciler::set_intended(const std::string& id, const IntendedState& intended) {
  std::lock_guard lock(mu_);
  auto slot = find(id);
  if (!slot) return false;
  if (slot->intended == intended) return true;
  slot->intended = intended;
  ++slot->generation;
  slot->observed.failure.consecutive = 0;  // a new intent is tried at once; the reason stays until a success
  slot->observed.failure.retry_at = TimePoint{};
  // inference/up may load a model for minutes: stop it (the MLNode aborts a load on stop) so the new intent
  // does not wait for it. Its result is stale anyway.
  if (slot->busy && slot->busy_action == ActionKind::kInferenceUp) slot->cancel_requested = true;
  slot->wake = true;
  slot->cv.notify_all();
  return true;
}

void Reconciler::set_intended_all(const std::map<std::string, IntendedState>& intended) {
  for (const auto& [id, state] : intended) set_intended(id, state);
}

void Reconciler::trigger() {
  std::lock_guard lock(mu_);
  for (auto& [id, slot] : slots_) {
    slot->wake = true;
    slot->cv.notify_all();
  }
}

std::vector<NodeView> Reconciler::nodes() const {
  std::lock_guard lock(mu_);
  std::vector<NodeView> out;
  for (const auto& [id, s] : slots_) {
    out.push_back(view_of(id, s->intended, s->observed, s->busy, s->generation, s->stale_results_dropped,
                          s->actions, s->failures));
    out.back().cancels = s->cancels;
    out.back().held = s->held;
  }
  return out;
}

std::optional<NodeView> Reconciler::node(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto s = find(id);
  if (!s) return std::nullopt;
  NodeView v = view_of(id, s->intended, s->observed, s->busy, s->generation, s->stale_results_dropped,
                       s->actions, s->failures);
  v.cancels = s->cancels;
  v.held = s->held;
  return v;
}

StepResult Reconciler::step(const std::string& id) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mu_);
    slot = find(id);
  }
  if (!slot) return {};
  return step_slot(slot);
}

StepResult Reconciler::step_slot(const std::shared_ptr<Slot>& slot) {
  std::unique_lock lock(mu_);
  Slot& s = *slot;
  if (s.removed || s.busy || s.held || stopping_) return {};
  const Action action = plan(s.intended, s.observed, clock_.now(), options_.plan);
  StepResult result;
  result.action = action.kind;
  if (action.kind == ActionKind::kNone || action.kind == ActionKind::kWait) return result;

  s.busy = true;
  s.busy_action = action.kind;
  s.busy_driver = s.driver;
  s.cancel_requested = false;
  const uint64_t generation = s.generation;
  const uint64_t driver_generation = s.driver_generation;
  const IntendedState intended = s.intended;
  const std::shared_ptr<MlnodeDriver> driver = s.driver;
  lock.unlock();

  Outcome out = execute(*driver, action.kind, intended);  // I/O: no lock held

  lock.lock();
  s.busy = false;
  s.busy_action = ActionKind::kNone;
  s.busy_driver.reset();
  s.cancel_requested = false;
  ++s.actions;
  result.executed = true;
  const TimePoint now = clock_.now();
  if (s.removed || stopping_) return result;  // shutting down: a cancelled call is not a FAILED node
  const bool stale = driver_generation != s.driver_generation ||
                     (action.kind != ActionKind::kProbe && generation != s.generation);
  if (stale) {
    // Intent (or driver) changed while the call ran: its outcome says nothing about the new intent. The node
    // may have moved, so it is probed before the next action.
    ++s.stale_results_dropped;
    s.observed.probe = NodeProbe{};
    s.observed.applied.reset();
    result.stale = true;
    spdlog::debug("node {}: dropped stale result of {} (intent changed)", s.id, to_string(action.kind));
    return result;
  }

  ObservedState& o = s.observed;
  if (out.ok) {
    switch (action.kind) {
      case ActionKind::kProbe:
        apply_probe(o, out.probe, now);
        break;
      case ActionKind::kStop:
        apply_probe(o, NodeProbe{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}}, now);
        break;
      case ActionKind::kInferenceUp:
        apply_probe(o, NodeProbe{ServiceKind::kInference, intended.model, true, PowPhase::kNone, {}, {}},
                    now);
        o.applied = intended;
        break;
      case ActionKind::kPowInitGenerate:
      case ActionKind::kPowInitValidate:
        apply_probe(o, out.probe, now);
        o.applied = intended;
        if (!satisfies(intended, o)) {
          out.ok = false;
          out.error = std::string("node reports PoC ") + to_string(out.probe.pow) + " at height " +
                      (out.probe.pow_block_height ? std::to_string(*out.probe.pow_block_height) : "none") +
                      " after the call";
        }
        break;
      case ActionKind::kNone:
      case ActionKind::kWait:
        break;
    }
  }
  if (out.ok) {
    // A command that succeeded, or a probe showing the intent reached, clears the failure.
    if (action.kind != ActionKind::kProbe || satisfies(intended, o)) o.failure = FailureRecord{};
    result.succeeded = true;
    return result;
  }
  ++s.failures;
  o.failure.consecutive++;
  o.failure.reason = std::string(to_string(action.kind)) + ": " + out.error;
  o.failure.retry_at = now + backoff_delay(o.failure.consecutive, options_.backoff);
  o.probe = NodeProbe{};  // unknown until probed again
  o.applied.reset();
  result.error = o.failure.reason;
  spdlog::warn("node {} FAILED ({} in a row): {}", s.id, o.failure.consecutive, o.failure.reason);
  return result;
}

int Reconciler::run_until_idle(const std::string& id, int max_steps) {
  int executed = 0;
  while (executed < max_steps) {
    StepResult r = step(id);
    if (!r.executed) break;
    ++executed;
  }
  return executed;
}

int Reconciler::run_all_until_idle(int max_steps_per_node) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : slots_) ids.push_back(id);
  }
  int total = 0;
  for (const auto& id : ids) total += run_until_idle(id, max_steps_per_node);
  return total;
}

void Reconciler::worker_loop(const std::shared_ptr<Slot>& slot) {
  for (;;) {
    StepResult r = step_slot(slot);
    std::unique_lock lock(mu_);
    if (stopping_ || slot->removed) break;
    if (r.executed) continue;
    slot->cv.wait_for(lock, options_.worker_poll, [&] { return stopping_ || slot->removed || slot->wake; });
    slot->wake = false;
  }
  std::lock_guard lock(mu_);
  slot->exited = true;
}

void Reconciler::canceller_loop(const std::shared_ptr<Slot>& slot) {
  std::unique_lock lock(mu_);
  for (;;) {
    slot->cv.wait(lock, [&] { return stopping_ || slot->removed || slot->cancel_requested; });
    if (stopping_ || slot->removed) break;
    slot->cancel_requested = false;
    if (!slot->busy) continue;  // the call finished meanwhile
    const std::shared_ptr<MlnodeDriver> driver = slot->driver;
    ++slot->cancels;
    lock.unlock();
    auto st = driver->stop();  // I/O: no lock held
    if (!st.ok())
      spdlog::warn("node {}: could not cancel the running inference/up: {}", slot->id, st.error().message);
    lock.lock();
  }
}

void Reconciler::stop() {
  std::vector<std::thread> to_join;
  std::vector<std::shared_ptr<MlnodeDriver>> drivers;  // of the calls that may be running now
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    auto take = [&](Slot& s) {
      s.cv.notify_all();
      if (s.busy_driver) drivers.push_back(s.busy_driver);  // the worker's call
      if (s.driver) drivers.push_back(s.driver);            // the canceller's stop() uses this one
      if (s.thread.joinable()) to_join.push_back(std::move(s.thread));
      if (s.canceller.joinable()) to_join.push_back(std::move(s.canceller));
    };
    for (auto& [id, s] : slots_) take(*s);
    for (auto& s : removed_) take(*s);
    removed_.clear();
  }
  // A worker inside a driver call (an inference/up may wait minutes for a model load) is not waited out: the
  // call is cancelled, so it returns at once and the worker sees stopping_ and exits; its result is dropped.
  // No worker starts a new call once stopping_ is set (step_slot checks it under the mutex), so cancelling
  // every driver for good is safe.
  for (auto& d : drivers) d->cancel();
  for (auto& t : to_join) t.join();
}

}  // namespace api::broker
