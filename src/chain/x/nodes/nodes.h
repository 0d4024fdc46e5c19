// Participants and their MLNodes (ARCHITECTURE §6, seed section 2). The hardware registry changes
// immediately; an epoch group snapshots it at formation (§7.2). Each MLNode is its own small record.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "inference/nodes.pb.h"

namespace chain::x::nodes {

using Participant = inference::inference::Participant;
using HardwareNode = inference::inference::HardwareNode;
using MsgSubmitNewParticipant = inference::inference::MsgSubmitNewParticipant;
using MsgSubmitHardwareDiff = inference::inference::MsgSubmitHardwareDiff;

inline constexpr std::string_view kMsgSubmitNewParticipantUrl =
    "/inference.inference.MsgSubmitNewParticipant";
inline constexpr std::string_view kMsgSubmitHardwareDiffUrl = "/inference.inference.MsgSubmitHardwareDiff";

inline constexpr size_t kMaxNodesPerParticipant = 256;
inline constexpr size_t kMaxModelsPerNode = 32;
inline constexpr size_t kMaxHardwarePerNode = 16;

std::optional<Participant> get_participant(const store::KvReader& state, const types::Address& address);
// Sorted by address bytes.
std::vector<Participant> get_participants(const store::KvReader& state);
void set_participant(store::KvStore& state, const Participant& participant);

// A participant's MLNodes sorted by local_id (empty for an unknown participant).
std::vector<HardwareNode> get_hardware_nodes(const store::KvReader& state, const types::Address& participant);
// Bulk reads for epoch formation, linear in the records between the first and last address instead of a
// lookup per participant. `sorted` is ascending without duplicates. get_participants has one entry per
// address (nullopt when it has none); for_each_hardware_node calls fn(index in sorted, record bytes) for
// every node of those participants, in key order (registry_snapshot.h builds on it).
std::vector<std::optional<Participant>> get_participants(const store::KvReader& state,
                                                         std::span<const types::Address> sorted);
void for_each_hardware_node(const store::KvReader& state, std::span<const types::Address> sorted,
                            const std::function<void(size_t, std::string_view)>& fn);
std::optional<HardwareNode> get_hardware_node(const store::KvReader& state, const types::Address& participant,
                                              std::string_view local_id);

struct NodeForModel {
  types::Address participant;
  HardwareNode node;
};
// Every MLNode in the hardware registry that lists `model_id`, sorted by (participant address bytes,
// local_id).
std::vector<NodeForModel> get_nodes_for_model(const store::KvReader& state, std::string_view model_id);

// Stateless checks of one node (local id, status, models syntax and duplicates, hardware, host, ports).
common::Status validate_hardware_node(const HardwareNode& node);
// The whole diff of `participant` (already authenticated): every model must be registered (the error lists
// every unknown id and the nodes naming it), every removed node must exist; nothing is written unless all
// checks pass.
common::Status apply_hardware_diff(app::Context& ctx, const types::Address& participant,
                                   const MsgSubmitHardwareDiff& diff);

// JSON shapes (queries, genesis, CLI files). Statuses as short names: "INFERENCE", "ACTIVE".
nlohmann::json participant_to_json(const Participant& p, const std::string& hrp);
nlohmann::json hardware_node_to_json(const HardwareNode& node);
common::Result<HardwareNode> hardware_node_from_json(const nlohmann::json& j);
// {"new_or_modified": [node...], "removed": ["local-id", ...]} (removed entries may also be node objects).
common::Result<MsgSubmitHardwareDiff> hardware_diff_from_json(const nlohmann::json& j);

class NodesModule final : public app::Module {
 public:
  std::string_view name() const override { return "nodes"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::nodes
