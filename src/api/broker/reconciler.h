// The broker's reconciler (issue 11 item 5): one worker per MLNode brings the node from its observed state to
// its intended state by running plan() and executing the action through the node's MlnodeDriver.
//
// - Intended states come from the phase dispatcher (set_intended / set_intended_all on every phase change);
//   trigger() wakes every worker (call it on a timer too). Workers also re-probe settled nodes on their own
//   (PlanOptions::recheck_interval), on the injected Clock.
// - No lock is held during I/O: a step reads the node's record under the mutex, runs the driver call
// unlocked,
//   then applies the result under the mutex. A result whose intent changed meanwhile (a newer generation) is
//   dropped as stale and the node is re-probed; a multi-step transition (stop, then inference/up) is thereby
//   cancelled between steps.
// - A failing call marks the node FAILED with the call's message as reason and schedules a retry with
//   exponential backoff; other nodes are unaffected (each has its own worker and record).
// - Nothing is queued: each node has one record and one "wake" flag, so no queue can grow.
//
// - A change of intent while inference/up runs (a model load may take minutes) stops the node from a second
//   per-node thread, so the load is aborted and the worker is free for the new intent at once.
// Threads: with ReconcilerOptions::start_threads each node gets a std::thread running step() in a loop and
// sleeping (real time, at most worker_poll) between steps, plus the canceller thread; tests leave it off and
// call step()/run_until_idle() themselves with a ManualClock, so they need neither real time nor HTTP.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/broker/clock.h"
#include "api/broker/mlnode_driver.h"
#include "api/broker/node_state.h"
#include "api/broker/plan.h"

namespace api::broker {

struct ReconcilerOptions {
  PlanOptions plan;
  BackoffOptions backoff;
  bool start_threads = true;
  std::chrono::milliseconds worker_poll{500};  // real-time sleep of an idle worker between plan() runs
};

// A copy of one node's record, for /admin/v1/nodes, /metrics and tests.
struct NodeView {
  std::string id;
  IntendedState intended;
  ObservedState observed;
  std::string status;       // status_name(observed): FAILED, INFERENCE, POC, STOPPED, UNKNOWN
  bool busy = false;        // a driver call is running
  uint64_t generation = 0;  // bumped on every change of intent
  uint64_t stale_results_dropped = 0;
  uint64_t actions = 0;   // driver calls made (probes included)
  uint64_t failures = 0;  // failed driver calls, total
  uint64_t cancels = 0;   // running inference/up calls stopped because the intent changed
  bool held = false;      // hold(): no new driver call (an MLNode version switch in progress)
};

struct StepResult {
  ActionKind action = ActionKind::kNone;  // what plan() chose (kNone/kWait: nothing was executed)
  bool executed = false;                  // a driver call was made
  bool succeeded = false;                 // ... and succeeded
  bool stale = false;                     // ... but its result was dropped (intent changed meanwhile)
  std::string error;                      // the failure reason when !succeeded
};

class Reconciler {
 public:
  explicit Reconciler(const Clock& clock, ReconcilerOptions options = {});
  ~Reconciler();  // stop()
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // Adds a node (intent kNone: it is only probed) and starts its worker. False if the id exists.
  bool add_node(const std::string& id, std::shared_ptr<MlnodeDriver> driver);
  // Removes a node; its worker finishes its current call (whose result is dropped) and exits. False if
  // unknown.
  bool remove_node(const std::string& id);
  // Replaces a node's driver (e.g. a new MLNode version's URLs); the node is re-probed at once (the backoff
  // of earlier failures is reset; their reason stays until a call succeeds).
  bool set_driver(const std::string& id, std::shared_ptr<MlnodeDriver> driver);

  // While `on`, the node's worker makes no new driver call; a call already running finishes (watch
  // NodeView::busy). Releasing wakes the worker. An MLNode version switch holds a node while its old version
  // drains and stops, so the broker neither reloads the old version nor loads the new one too early
  // (api/upgrade/version_switcher.h). False if the node is unknown.
  bool hold(const std::string& id, bool on);

  // Sets a node's intended state. A different intent bumps the generation (in-flight results become stale),
  // restarts the backoff (the node is tried at once) and wakes its worker. False if the node is unknown.
  bool set_intended(const std::string& id, const IntendedState& intended);
  // set_intended for each entry (unknown ids are ignored); nodes not listed keep their intent.
  void set_intended_all(const std::map<std::string, IntendedState>& intended);
  // Wakes every worker (phase change, timer).
  void trigger();

  std::vector<NodeView> nodes() const;  // sorted by id
  std::optional<NodeView> node(const std::string& id) const;

  // One plan/execute cycle of node `id` on the calling thread (what its worker does). Returns kNone for an
  // unknown node or one whose worker is busy.
  StepResult step(const std::string& id);
  // step() until plan() returns kNone/kWait or `max_steps` driver calls were made; returns the steps
  // executed.
  int run_until_idle(const std::string& id, int max_steps = 16);
  // run_until_idle for every node, in id order.
  int run_all_until_idle(int max_steps_per_node = 16);

  // Stops and joins every worker thread. Driver calls in flight are cancelled (MlnodeDriver::cancel), so
  // stop() returns as soon as they have returned, never after a long call's timeout, and no call runs once it
  // has returned. Idempotent.
  void stop();

 private:
  struct Slot;
  void worker_loop(const std::shared_ptr<Slot>& slot);
  void canceller_loop(const std::shared_ptr<Slot>& slot);
  StepResult step_slot(const std::shared_ptr<Slot>& slot);
  std::shared_ptr<Slot> find(const std::string& id) const;
  void reap_finished_locked(std::vector<std::thread>& to_join);

  const Clock& clock_;
  const ReconcilerOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::vector<std::shared_ptr<Slot>> removed_;  // removed nodes whose worker thread is not joined yet
  bool stopping_ = false;
};

}  // namespace api::broker
