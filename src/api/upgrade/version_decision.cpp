#include "api/upgrade/version_decision.h"

namespace api::upgrade {

bool is_safe_version(std::string_view v) {
  if (v.size() < 2 || v.size() > 64 || v[0] != 'v') return false;
  if (v.find("..") != std::string_view::npos) return false;
  for (char c : v) {
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

BlockDecision decide_at_block(const std::string& target, const std::optional<PendingUpgrade>& next,
                              uint64_t height, const std::vector<chain::Event>& events) {
  BlockDecision d;
  for (const auto& e : events) {
    if (e.type == "partial_upgrade_created") d.refresh_plan = true;
    if (e.type != "mlnode_version_changed" || d.switch_to) continue;
    auto old_v = e.attribute("old");
    auto new_v = e.attribute("new");
    if (!old_v || !new_v || *old_v != target || *new_v == target || !is_safe_version(*new_v)) continue;
    d.switch_to = *new_v;
    d.reason = "event mlnode_version_changed {old " + *old_v + ", new " + *new_v + "} in block " +
               std::to_string(height);
  }
  if (next && height >= next->height) d.refresh_plan = true;
  if (!d.switch_to && next && next->height == height && next->node_version != target &&
      is_safe_version(next->node_version)) {
    d.switch_to = next->node_version;
    d.reason = "partial upgrade scheduled at height " + std::to_string(height);
  }
  return d;
}

std::optional<std::string> decide_repair(const std::string& target, const std::string& chain_version) {
  if (chain_version == target || !is_safe_version(chain_version)) return std::nullopt;
  return chain_version;
}

std::optional<std::string> next_node_to_switch(const std::map<std::string, std::string>& node_versions,
                                               const std::string& target) {
  for (const auto& [id, v] : node_versions) {
    if (v != target) return id;
  }
  return std::nullopt;
}

const char* to_string(SwitchPhase phase) {
  switch (phase) {
    case SwitchPhase::kDrain:
      return "drain";
    case SwitchPhase::kLoad:
      return "load";
  }
  return "?";
}

const char* to_string(SwitchAction action) {
  switch (action) {
    case SwitchAction::kWait:
      return "wait";
    case SwitchAction::kStopOld:
      return "stop_old";
    case SwitchAction::kFinish:
      return "finish";
  }
  return "?";
}

SwitchStep next_switch_step(SwitchPhase phase, TimePoint since, TimePoint now, const NodeSwitchObservation& o,
                            const SwitchOptions& options) {
  switch (phase) {
    case SwitchPhase::kDrain: {
      const bool drained = o.in_flight_old == 0 && !o.broker_busy && now - since >= options.drain_grace;
      if (drained) return {SwitchAction::kStopOld, false};
      if (now - since >= options.drain_timeout) return {SwitchAction::kStopOld, true};
      return {SwitchAction::kWait, false};
    }
    case SwitchPhase::kLoad:
      if (o.settled) return {SwitchAction::kFinish, false};
      if (o.failing) return {SwitchAction::kFinish, true};
      if (now - since >= options.load_timeout) return {SwitchAction::kFinish, true};
      return {SwitchAction::kWait, false};
  }
  return {};
}

}  // namespace api::upgrade
