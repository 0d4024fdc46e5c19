// Epochs (ARCHITECTURE §6, §7.1; docs/epochs.md): the stage machine that drives PoC, weights, group formation
// and the epoch switch. Stage heights come from the shared pure function in common/epoch_stages.h. Governance
// changes the params; each Epoch keeps the snapshot it started with, so a change applies from the next epoch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "chain/app/module.h"
#include "common/epoch_stages.h"
#include "inference/epochs.pb.h"

namespace chain::x::epochs {

using EpochParams = inference::inference::EpochParams;
using Epoch = inference::inference::Epoch;
using MsgUpdateEpochParams = inference::inference::MsgUpdateEpochParams;

inline constexpr std::string_view kMsgUpdateEpochParamsUrl = "/inference.inference.MsgUpdateEpochParams";
inline constexpr uint64_t kDefaultUnitOfComputePrice = 100;

// ---- params
// Defaults of the state limits (every preset): a batch ≤ 100,000 nonces (the stateless ceiling dapi assumes),
// ≤ 1,000 batches (an MLNode posts one every few seconds) and ≤ 500,000 nonces per MLNode and epoch; PoC data
// and finished inferences kept 2 epochs.
inline constexpr uint64_t kDefaultMaxNoncesPerBatch = 100'000;
inline constexpr uint64_t kDefaultMaxBatchesPerNode = 1'000;
inline constexpr uint64_t kDefaultMaxNoncesPerNode = 500'000;
inline constexpr uint64_t kDefaultPocRetentionEpochs = 2;
inline constexpr uint64_t kDefaultInferenceRetentionEpochs = 2;
// The state limits of a params snapshot, with the defaults for fields a record predates (0).
struct StateLimits {
  uint64_t max_nonces_per_batch, max_batches_per_node, max_nonces_per_node;
  uint64_t poc_retention_epochs, inference_retention_epochs;
};
StateLimits state_limits(const EpochParams& p);
EpochParams default_params(std::string_view preset = "localnet");
common::epochs::EpochParams stage_params(const EpochParams& p);
common::Status validate_params(const EpochParams& p);
EpochParams get_params(const store::KvReader& state);  // the governance params (for the next epoch)
void set_params(store::KvStore& state, const EpochParams& p);
nlohmann::json params_to_json(const EpochParams& p);
common::Result<EpochParams> params_from_json(const nlohmann::json& j);

// ---- epochs
std::optional<Epoch> get_epoch(const store::KvReader& state, uint64_t index);
void set_epoch(store::KvStore& state, const Epoch& epoch);
// The epoch whose group is the validator set (0 at genesis).
uint64_t effective_epoch_index(const store::KvReader& state);
// Epoch effective+1 while it exists (from its PoC start until it becomes effective).
std::optional<Epoch> upcoming_epoch(const store::KvReader& state);
// Stages of an epoch from its own params snapshot. Epoch 0 has no PoC: every height is 0 except
// next_poc_start.
common::epochs::EpochStages stages_of(const Epoch& epoch);
// The height at which the epoch after `epoch` starts its PoC.
uint64_t next_poc_start(const Epoch& epoch);
nlohmann::json epoch_to_json(const Epoch& epoch);
using common::epochs::stages_to_json;

// ---- consensus validator set (pub_key -> power) as last sent to the consensus engine
std::map<std::string, int64_t> get_validator_set(const store::KvReader& state);

class EpochsModule final : public app::Module {
 public:
  std::string_view name() const override { return "epochs"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  common::Status init_genesis_validators(app::Context& ctx,
                                         const std::vector<app::GenesisValidator>& validators) override;
  nlohmann::json default_genesis(std::string_view preset) const override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
  // PoC start (new Epoch), end of validation (weights + formation), model loading (next_epoch_ready),
  // epoch switch (effective index + 1, validator updates).
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;
};

}  // namespace chain::x::epochs
