// Epoch groups with frozen snapshots (ARCHITECTURE §6, §7.2-§7.4; seed sections 3, 4, 5; docs/epochs.md).
// Formed once per epoch at the end of PoC validation: a parent group (model_id "") and one sub-group per
// governance model, each holding the complete Model as it was in the registry at formation, and per member
// the MLNodes snapshotted from the hardware registry with their poc_weight, throughput and timeslots.
// Storage: one header record per (epoch, model) and one record per (epoch, model, member); built in memory,
// written once. Nothing here is read-modify-written by a transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/weights/weights.h"
#include "inference/groups.pb.h"

namespace chain::x::groups {

using EpochGroupData = inference::inference::EpochGroupData;
using ValidationWeight = inference::inference::ValidationWeight;
using MLNodeInfo = inference::inference::MLNodeInfo;

// ---- formation (pure)
struct FormationMember {
  types::Address address;
  uint64_t weight = 0;  // Σ node_weights (from compute_new_weights)
  std::vector<weights::NodeWeight> node_weights;
  std::vector<nodes::HardwareNode> nodes;  // the hardware registry at formation, sorted by local_id
  std::string validator_public_key;
  std::string url;
};
struct FormationInput {
  uint64_t epoch_index = 0;
  uint64_t poc_start_height = 0;
  uint64_t height = 0;  // formation height
  uint64_t unit_of_compute_price = 0;
  std::vector<models::Model> models;     // the registry at formation, sorted by id
  std::vector<FormationMember> members;  // sorted by address
};
struct Group {
  EpochGroupData data;                    // header (validation_weights empty)
  std::vector<ValidationWeight> members;  // sorted by address
};
struct FormedGroups {
  Group parent;
  std::vector<Group> sub_groups;  // sorted by model id
};

// Appends the snapshot of node `node_id` for a group whose model snapshot is `model` (nullptr = parent
// group): throughput = poc_weight × throughput_per_nonce (saturating), timeslots [PRE_POC_SLOT = first_model,
// POC_SLOT = false].
void store_ml_node_info(ValidationWeight& member, std::string_view node_id, uint64_t poc_weight,
                        const models::Model* model, bool first_model);
// A node counts toward a sub-group's member weight, total_weight and total_throughput only for its first
// registered model (the model it serves in the epoch, PRE_POC_SLOT = true); in the other sub-groups it is
// listed with PRE_POC_SLOT = false and adds nothing (ARCHITECTURE §7.4). Linear in members × nodes ×
// models-per-node.
FormedGroups build_epoch_groups(const FormationInput& input);
// Writes headers and member records (one write each).
void store_epoch_groups(store::KvStore& state, const FormedGroups& groups);
// Reads the registry and hardware for the accepted participants, builds and stores the groups of `epoch`.
// If nobody was accepted, the members of `previous_epoch`'s parent group are carried over (without nodes)
// so the epoch never has an empty validator set. Uses the hardware registry read by compute_new_weights
// (weights.registry) where it has it. Returns the headers of the formed groups; members are written, not
// returned, except the carried-over parent members.
FormedGroups form_epoch_groups(app::Context& ctx, uint64_t epoch, uint64_t poc_start_height,
                               uint64_t unit_of_compute_price, const weights::WeightsResult& weights,
                               uint64_t previous_epoch, bool& carried_over);
// Genesis epoch 0: the genesis validators with an operator account, weight = power, no sub-groups.
void form_genesis_group(store::KvStore& state, const std::vector<app::GenesisValidator>& validators,
                        const std::string& hrp, uint64_t unit_of_compute_price);
void set_effective_height(store::KvStore& state, uint64_t epoch, uint64_t height);
// Rewrites one header (validation_weights are not stored) or one member record (schedule: POC_SLOT, vectors).
void set_group(store::KvStore& state, const EpochGroupData& header);
void set_member(store::KvStore& state, uint64_t epoch, std::string_view model_id,
                const ValidationWeight& member);

// ---- reads
// Header of (epoch, model_id) ("" = parent), without members.
std::optional<EpochGroupData> get_group(const store::KvReader& state, uint64_t epoch,
                                        std::string_view model_id);
// Header with validation_weights filled (sorted by address).
std::optional<EpochGroupData> get_group_with_members(const store::KvReader& state, uint64_t epoch,
                                                     std::string_view model_id);
std::optional<ValidationWeight> get_member(const store::KvReader& state, uint64_t epoch,
                                           std::string_view model_id, const types::Address& member);
std::vector<ValidationWeight> get_members(const store::KvReader& state, uint64_t epoch,
                                          std::string_view model_id);
// Weight of `member` in the parent group of `epoch` (0 if absent).
uint64_t member_weight(const store::KvReader& state, uint64_t epoch, const types::Address& member);
uint64_t total_weight(const store::KvReader& state, uint64_t epoch);
// The model snapshot of the epoch's sub-group (GetEpochModel).
std::optional<models::Model> get_epoch_model(const store::KvReader& state, uint64_t epoch,
                                             std::string_view model_id);

nlohmann::json group_to_json(const EpochGroupData& g, const std::string& hrp);

class GroupsModule final : public app::Module {
 public:
  std::string_view name() const override { return "groups"; }
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::groups
