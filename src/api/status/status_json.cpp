#include "api/status/status_json.h"

#include <algorithm>

namespace api::status {
namespace {

using nlohmann::json;

// Typed reads of the controller's node state that tolerate a missing or mistyped field.
std::string str_at(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<uint64_t> u64_at(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  int64_t v = it->get<int64_t>();  // in-process json keeps integers signed
  if (v < 0) return std::nullopt;
  return static_cast<uint64_t>(v);
}

const json& obj_at(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

bool slot_at(const json& allocation, std::size_t index) {
  return allocation.is_array() && index < allocation.size() && allocation[index].is_boolean() &&
         allocation[index].get<bool>();
}

json epoch_json(const chain::EpochInfo& e) {
  const auto& s = e.stages;
  return {{"epoch_index", e.epoch_index},
          {"upcoming_epoch_index", e.upcoming_epoch_index ? json(*e.upcoming_epoch_index) : json(nullptr)},
          {"latest_epoch_index", e.latest_epoch_index},
          {"phase", e.phase},
          {"epoch_length", e.params.epoch_length},
          {"stages", common::epochs::stages_to_json(s)}};
}

json node_json(const NodeInput& n, const std::string& mlnode_version) {
  const json& st = n.state;
  const json& intended = obj_at(st, "intended");
  const json& observed = obj_at(st, "observed");
  std::string model = str_at(intended, "model");
  if (model.empty()) model = str_at(observed, "model");
  if (model.empty() && !n.models.empty()) model = n.models.front();
  std::string status = str_at(st, "status");
  // The node's own version (it differs from the followed one while an upgrade moves the nodes one at a time).
  std::string node_version = str_at(st, "mlnode_version");
  json hardware = json::array();
  for (const auto& [type, count] : n.hardware) hardware.push_back({{"type", type}, {"count", count}});
  json out = {{"id", n.id},
              {"enabled", n.enabled},
              {"status", status.empty() ? "UNKNOWN" : status},
              {"intent", str_at(intended, "intent")},
              {"model", model},
              {"models", n.models},
              {"mlnode_version", node_version.empty() ? mlnode_version : node_version},
              {"healthy", observed.contains("healthy") && observed["healthy"].is_boolean()
                              ? observed["healthy"].get<bool>()
                              : false},
              {"max_concurrent", n.max_concurrent},
              {"hardware", hardware},
              {"epoch_index", nullptr},
              {"weight", 0},
              {"epoch_ml_nodes", json::array()}};
  auto effective = u64_at(st, "effective_epoch");
  if (!effective) return out;
  const json& entry = obj_at(obj_at(st, "epochs"), std::to_string(*effective).c_str());
  const json& infos = obj_at(entry, "epoch_ml_nodes");
  if (infos.empty()) return out;
  uint64_t weight = 0;
  json list = json::array();
  for (const auto& [m, info] : infos.items()) {  // nlohmann's object iteration is key-sorted
    uint64_t w = u64_at(info, "poc_weight").value_or(0);
    weight += w;
    const json& alloc =
        info.is_object() && info.contains("timeslot_allocation") ? info["timeslot_allocation"] : json();
    list.push_back({{"model", m},
                    {"poc_weight", w},
                    {"throughput", u64_at(info, "throughput").value_or(0)},
                    {"pre_poc_slot", slot_at(alloc, 0)},
                    {"poc_slot", slot_at(alloc, 1)}});
  }
  out["epoch_index"] = *effective;
  out["weight"] = weight;
  out["epoch_ml_nodes"] = std::move(list);
  return out;
}

json participants_json(const StatusInputs& in) {
  json out = {{"epoch_index", nullptr}, {"total_weight", 0}, {"members", json::array()}};
  if (in.group) {
    std::vector<const chain::GroupMember*> members;
    for (const auto& m : in.group->validation_weights) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) {
      return a->weight != b->weight ? a->weight > b->weight : a->member_address < b->member_address;
    });
    json list = json::array();
    for (const auto* m : members) {
      list.push_back({{"address", m->member_address},
                      {"weight", m->weight},
                      {"url", m->url},
                      {"is_self", m->member_address == in.participant}});
    }
    out["epoch_index"] = in.group->epoch_index;
    out["total_weight"] = in.group->total_weight;
    out["members"] = std::move(list);
  }
  if (!in.group_error.empty()) out["error"] = in.group_error;
  return out;
}

json inference_json(const InferenceSummary& s) {
  return {{"id", s.id},
          {"model", s.model},
          {"executor", s.executor},
          {"executor_node", s.executor_node},
          {"tokens", s.tokens},
          {"cost", std::to_string(s.cost)},
          {"refund", std::to_string(s.refund)},
          {"validation", s.validation},
          {"height", s.height},
          {"time_unix_ms", s.time_unix_ms}};
}

}  // namespace

NodeInput node_input(const config::NodeConfig& node, bool enabled, nlohmann::json state) {
  NodeInput n;
  n.id = node.id;
  n.enabled = enabled;
  n.models = node.model_order;
  n.max_concurrent = node.max_concurrent;
  for (const auto& h : node.hardware) n.hardware.emplace_back(h.type, h.count);
  n.state = std::move(state);
  return n;
}

nlohmann::json build_status(const StatusInputs& in) {
  json nodes = json::array();
  for (const auto& n : in.nodes) nodes.push_back(node_json(n, in.mlnode_version));
  json inferences = json::array();
  for (const auto& s : in.inferences) inferences.push_back(inference_json(s));
  return {{"participant", in.participant},
          {"denom", in.denom},
          {"mlnode_version", in.mlnode_version},
          {"block",
           in.height ? json{{"height", *in.height}, {"time_unix_ms", in.block_time_unix_ms}} : json(nullptr)},
          {"epoch", in.epoch ? epoch_json(*in.epoch) : json(nullptr)},
          {"nodes", std::move(nodes)},
          {"participants", participants_json(in)},
          {"inferences", std::move(inferences)}};
}

}  // namespace api::status
