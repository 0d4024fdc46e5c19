#include "api/upgrade/version_switcher.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

namespace api::upgrade {

namespace {

int64_t elapsed_ms(TimePoint since, TimePoint now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
}

}  // namespace

VersionSwitcher::VersionSwitcher(SwitcherDeps deps, std::string target, std::string last_used,
                                 SwitcherOptions options)
    : deps_(std::move(deps)), options_(options), last_used_(std::move(last_used)) {
  deps_.versions->set_target(std::move(target));
  update_metrics();
}

VersionSwitcher::~VersionSwitcher() {
  stop();
}

void VersionSwitcher::start() {
  if (!options_.start_thread || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void VersionSwitcher::stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void VersionSwitcher::run() {
  while (!stopping_) {
    tick();
    std::unique_lock lock(wake_mu_);
    wake_.wait_for(lock, options_.poll, [&] { return stopping_.load() || woken_; });
    woken_ = false;
  }
}

void VersionSwitcher::set_next_upgrade(std::optional<PendingUpgrade> next) {
  std::lock_guard lock(mu_);
  if (next != next_ && next) {
    spdlog::info("MLNode upgrade scheduled: version {} at height {} (now {})", next->node_version,
                 next->height, deps_.versions->target());
  }
  next_ = std::move(next);
}

void VersionSwitcher::on_block(const chain::Block& block) {
  std::optional<PendingUpgrade> next;
  {
    std::lock_guard lock(mu_);
    next = next_;
  }
  BlockDecision d = decide_at_block(deps_.versions->target(), next, block.height, block.events);
  if (d.switch_to) set_target(*d.switch_to, block.height, d.reason);
  if (d.refresh_plan) {
    std::lock_guard lock(mu_);
    next_check_ = TimePoint{};  // the tick thread re-reads the pending upgrade now (no query on this thread)
  }
  if (d.switch_to || d.refresh_plan) {
    {
      std::lock_guard lock(wake_mu_);
      woken_ = true;
    }
    wake_.notify_all();
  }
}

void VersionSwitcher::set_target(const std::string& version, uint64_t height, const std::string& reason) {
  const std::string old = deps_.versions->target();
  if (version == old) return;
  deps_.versions->set_target(version);
  std::string last_used;
  {
    std::lock_guard lock(mu_);
    last_switch_height_ = height;
    last_used = last_used_;
    if (next_ && next_->node_version == version) next_.reset();
  }
  if (height > 0) {
    spdlog::info("MLNode upgrade at height {}: version {} -> {} ({}); nodes switch one at a time", height,
                 old, version, reason);
  } else {
    spdlog::info("MLNode upgrade now: version {} -> {} ({}); nodes switch one at a time", old, version,
                 reason);
  }
  if (deps_.persist) {
    if (auto st = deps_.persist(version, last_used); !st) {
      spdlog::error("MLNode upgrade to {}: cannot persist the current version: {}", version,
                    st.error().message);
    }
  }
  update_metrics();
}

void VersionSwitcher::check_chain() {
  if (!deps_.chain_version) return;
  const std::string before = deps_.versions->target();
  auto r = deps_.chain_version();
  if (!r) {
    spdlog::warn("MLNode version check: cannot read /inference/mlnode-version: {}; next try in {} s",
                 r.error().message,
                 std::chrono::duration_cast<std::chrono::seconds>(options_.check_interval).count());
    return;
  }
  std::optional<PendingUpgrade> next;
  if (r->next_upgrade && is_safe_version(r->next_upgrade->node_version))
    next = PendingUpgrade{r->next_upgrade->height, r->next_upgrade->node_version};
  set_next_upgrade(next);
  // Only when no block changed the target meanwhile: an answer read before the upgrade block was committed
  // must not switch back.
  if (deps_.versions->target() != before) return;
  if (auto to = decide_repair(before, r->current_mlnode_version)) {
    spdlog::warn(
        "MLNode version check: the chain's version is {} but dapi followed {} (a missed switch); "
        "switching now",
        *to, before);
    set_target(*to, 0, "periodic check");
  }
  check_next_version_deployed();
}

void VersionSwitcher::check_next_version_deployed() {
  std::optional<PendingUpgrade> next;
  {
    std::lock_guard lock(mu_);
    next = next_;
  }
  if (deps_.metrics) deps_.metrics->gauge_clear("dapi_mlnode_next_version_ready");
  if (!next || next->node_version == deps_.versions->target()) return;
  for (const auto& id : deps_.fleet->node_ids()) {
    auto st = deps_.fleet->probe_version(id, next->node_version);
    if (!st) {
      spdlog::warn(
          "MLNode upgrade to {} at height {}: node {} does not answer on /{}/api/v1/state ({}); start the "
          "new "
          "mlnode beside the old one and route /{}/ to it before the height (docs/operator-guide.md §9)",
          next->node_version, next->height, id, next->node_version, st.error().message, next->node_version);
    }
    if (deps_.metrics)
      deps_.metrics->gauge_set(
          "dapi_mlnode_next_version_ready",
          "1 when the node answers on the next MLNode version's URLs (before its height)",
          {{"node", id}, {"version", next->node_version}}, st ? 1.0 : 0.0);
  }
}

void VersionSwitcher::tick() {
  const TimePoint now = deps_.clock->now();
  bool check = false;
  {
    std::lock_guard lock(mu_);
    if (!next_check_ || now >= *next_check_) {
      check = true;
      next_check_ = now + options_.check_interval;
    }
  }
  if (check) check_chain();
  step_switch();
  {
    std::lock_guard lock(mu_);
    shown_node_ = node_;
    shown_phase_ = node_.empty() ? "" : to_string(phase_);
  }
  update_metrics();
}

void VersionSwitcher::step_switch() {
  NodeVersions& versions = *deps_.versions;
  NodeFleet& fleet = *deps_.fleet;
  const TimePoint now = deps_.clock->now();
  const std::string target = versions.target();
  std::vector<std::string> ids = fleet.node_ids();

  if (node_.empty()) {
    std::map<std::string, std::string> current;
    for (const auto& id : ids) current[id] = versions.version(id);
    auto next = next_node_to_switch(current, target);
    if (!next) {
      std::string last_used;
      {
        std::lock_guard lock(mu_);
        last_used = last_used_;
      }
      if (last_used == target) return;
      versions.set_default_version(target);
      common::Status st = deps_.persist ? deps_.persist(target, target) : common::Status{};
      if (!st) {
        spdlog::error("MLNode upgrade to {}: cannot persist last_used_version: {}; retrying", target,
                      st.error().message);
        return;
      }
      {
        std::lock_guard lock(mu_);
        last_used_ = target;
        ++switches_;
      }
      spdlog::info("MLNode upgrade {} -> {} complete: all {} node(s) on {}; last_used_version = {}",
                   last_used, target, ids.size(), target, target);
      if (deps_.metrics)
        deps_.metrics->counter_add("dapi_mlnode_version_switches_total",
                                   "MLNode version switches completed (every node on the new version)");
      return;
    }
    node_ = *next;
    from_ = current[node_];
    to_ = target;
    phase_ = SwitchPhase::kDrain;
    since_ = now;
    versions.set_switching(node_, true);
    fleet.hold(node_, true);
    spdlog::info("MLNode upgrade: node {} {} -> {}: draining ({} request(s) in flight on {})", node_, from_,
                 to_, versions.in_flight(node_, from_), from_);
    return;
  }

  if (std::find(ids.begin(), ids.end(), node_) == ids.end()) {  // removed meanwhile
    spdlog::info("MLNode upgrade: node {} was removed during its switch", node_);
    versions.set_switching(node_, false);
    versions.forget(node_);
    node_.clear();
    return;
  }
  NodeSwitchObservation o;
  o.in_flight_old = versions.in_flight(node_, from_);
  o.broker_busy = fleet.busy(node_);
  o.settled = phase_ == SwitchPhase::kLoad && fleet.settled(node_);
  o.failing = phase_ == SwitchPhase::kLoad && !o.settled && fleet.failing(node_);
  SwitchStep s = next_switch_step(phase_, since_, now, o, options_.node);
  switch (s.action) {
    case SwitchAction::kWait:
      return;
    case SwitchAction::kStopOld: {
      if (s.timed_out) {
        spdlog::warn(
            "MLNode upgrade: node {}: drain timeout after {} ms with {} request(s) still on {}{}; "
            "stopping it anyway",
            node_, elapsed_ms(since_, now), o.in_flight_old, from_,
            o.broker_busy ? " and a broker call running" : "");
      }
      to_ = target;  // a newer upgrade decided meanwhile wins
      auto st = fleet.stop_version(node_, from_);
      if (st) {
        spdlog::info("MLNode upgrade: node {}: POST /{}/api/v1/stop done; loading {}", node_, from_, to_);
      } else {
        {
          std::lock_guard lock(mu_);
          ++stop_failures_;
        }
        spdlog::error("MLNode upgrade: node {}: POST /{}/api/v1/stop failed: {}; switching to {} anyway",
                      node_, from_, st.error().message, to_);
        if (deps_.metrics)
          deps_.metrics->counter_add(
              "dapi_mlnode_version_stop_failures_total",
              "POST /<old>/api/v1/stop calls that failed during an MLNode version switch");
      }
      versions.set_version(node_, to_);
      fleet.use_version(node_, to_);
      fleet.hold(node_, false);
      phase_ = SwitchPhase::kLoad;
      since_ = deps_.clock->now();
      return;
    }
    case SwitchAction::kFinish: {
      versions.set_switching(node_, false);
      if (s.timed_out) {
        spdlog::error(
            "MLNode upgrade: node {}: not serving on {} after {} ms{}; going on with the next node (the "
            "broker keeps trying this one)",
            node_, to_, elapsed_ms(since_, now), o.failing ? " (its calls keep failing)" : "");
      } else {
        spdlog::info("MLNode upgrade: node {} now on {} ({} ms to load)", node_, to_,
                     elapsed_ms(since_, now));
      }
      if (deps_.metrics)
        deps_.metrics->counter_add("dapi_mlnode_node_switches_total", "MLNodes moved to a new MLNode version",
                                   {{"result", s.timed_out ? "not_serving" : "ok"}});
      node_.clear();
      return;
    }
  }
}

void VersionSwitcher::update_metrics() {
  if (!deps_.metrics) return;
  auto& m = *deps_.metrics;
  SwitcherStatus s = status();
  m.gauge_clear("dapi_mlnode_version");
  m.gauge_set("dapi_mlnode_version", "The MLNode version dapi follows (the chain's; 1 for the labelled one)",
              {{"version", s.target}}, 1);
  m.gauge_clear("dapi_mlnode_last_used_version");
  m.gauge_set("dapi_mlnode_last_used_version",
              "The MLNode version all nodes used when the last switch completed (1 for the labelled one)",
              {{"version", s.last_used}}, 1);
  m.gauge_set("dapi_mlnode_next_upgrade_height", "Height of the next known MLNode upgrade (0: none)", {},
              s.next_upgrade ? static_cast<double>(s.next_upgrade->height) : 0.0);
  m.gauge_set("dapi_mlnode_upgrade_in_progress", "1 while nodes are being switched to a new MLNode version",
              {}, s.target != s.last_used ? 1.0 : 0.0);
  m.gauge_clear("dapi_mlnode_node_version");
  if (deps_.fleet) {
    for (const auto& id : deps_.fleet->node_ids()) {
      m.gauge_set("dapi_mlnode_node_version",
                  "The MLNode version each node's URLs use (1 for the labelled one)",
                  {{"node", id}, {"version", deps_.versions->version(id)}}, 1);
    }
  }
}

SwitcherStatus VersionSwitcher::status() const {
  SwitcherStatus s;
  s.target = deps_.versions->target();
  std::lock_guard lock(mu_);
  s.last_used = last_used_;
  s.next_upgrade = next_;
  s.switching_node = shown_node_;
  s.phase = shown_phase_;
  s.switches = switches_;
  s.stop_failures = stop_failures_;
  s.last_switch_height = last_switch_height_;
  return s;
}

}  // namespace api::upgrade
