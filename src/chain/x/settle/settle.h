// Per-epoch rewards (ARCHITECTURE §7.8, seed section 6; docs/rewards.md): a geometrically decaying subsidy
// split by the weights of the epoch's parent group (floor; remainder to the community pool), plus
// coverage_bonus_bps on the mining reward of participants that, for every model sub-group of the epoch, have
// an MLNode serving that model (its first model, with weight; get_participant_model_coverage). The bonus is
// minted on top of the subsidy. Paid at the settlement stage (the block after the epoch switch) for the epoch
// that just ended; credited directly to balances. All arithmetic is integer (u128 intermediates); the pure
// functions below are what the EndBlock hook runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "chain/types/int128.h"
#include "chain/x/groups/groups.h"
#include "inference/settle.pb.h"

namespace chain::x::settle {

using SettleParams = inference::inference::SettleParams;
using EpochSettlement = inference::inference::EpochSettlement;
using SettleAmount = inference::inference::SettleAmount;

inline constexpr uint64_t kOneE18 = 1'000'000'000'000'000'000ULL;
inline constexpr uint32_t kBpsDenominator = 10000;
inline constexpr uint64_t kMaxInitialEpochSubsidy = uint64_t(1) << 62;
inline constexpr std::string_view kCommunityPoolModule = "community_pool";

// ---- params
SettleParams default_params(std::string_view preset = "localnet");
common::Status validate_params(const SettleParams& p);
SettleParams get_params(const store::KvReader& state);
void set_params(store::KvStore& state, const SettleParams& p);
nlohmann::json params_to_json(const SettleParams& p);
common::Result<SettleParams> params_from_json(const nlohmann::json& j);

// ---- pure arithmetic
// r^n in 10^18 fixed point by square-and-multiply, flooring after every product (r ≤ 10^18, so every product
// ≤ 10^36 fits in u128):  result = 10^18, base = r; for each bit of n from the lowest: if set, result =
// ⌊result·base/10^18⌋; base = ⌊base·base/10^18⌋.
uint64_t decay_power_e18(uint64_t decay_factor_e18, uint64_t n);
// subsidy(E) = ⌊initial × r^(E−1) / 10^18⌋ for E ≥ 1; 0 for E = 0 (the genesis epoch has no PoC).
uint64_t epoch_subsidy(const SettleParams& p, uint64_t epoch_index);

struct ParticipantInput {
  types::Address participant;
  uint64_t weight = 0;
  bool covers_all_models = false;
};
struct SettleAmounts {
  uint64_t subsidy = 0;
  types::u128 total_weight = 0;
  std::vector<SettleAmount> amounts;  // participants with weight > 0, in input order
  uint64_t base_total = 0, bonus_total = 0, paid = 0, remainder = 0, minted = 0;
};
// base_i = ⌊subsidy·w_i/W⌋ (W = Σ w, u128), bonus_i = ⌊base_i·bps/10000⌋ if covering else 0,
// total_i = base_i + bonus_i; remainder = subsidy − Σ base_i (< number of participants) to the community
// pool; minted = subsidy + Σ bonus_i = paid + remainder. Weight-0 participants are left out. Requires subsidy
// ≤ 2^62 and bps ≤ 10000 (validate_params), so no sum overflows u64.
SettleAmounts get_settle_amounts(uint64_t subsidy, uint32_t coverage_bonus_bps,
                                 const std::vector<ParticipantInput>& participants);

// True iff `membership` is non-empty and in every sub-group the participant has an MLNode serving the model:
// PRE_POC_SLOT = true (the node's first model, ARCHITECTURE §7.4) and poc_weight > 0. A node listing the
// model as a second choice does not count. `membership[i]` is the participant's record in sub-group i
// (nullopt = absent).
bool covers_every_model(const std::vector<std::optional<groups::ValidationWeight>>& membership);
// get_participant_model_coverage: coverage of `participant` over every model sub-group of `epoch` (the parent
// group's sub_group_models).
bool get_participant_model_coverage(const store::KvReader& state, uint64_t epoch,
                                    const types::Address& participant);

// ---- state
std::optional<EpochSettlement> get_epoch_settlement(const store::KvReader& state, uint64_t epoch);
std::vector<SettleAmount> get_epoch_amounts(const store::KvReader& state, uint64_t epoch);
std::optional<SettleAmount> get_settle_amount(const store::KvReader& state, uint64_t epoch,
                                              const types::Address& participant);
types::Address community_pool();

// Settles `epoch` (≥ 1, formed, not yet settled): computes the amounts from its parent group and sub-groups,
// mints and records them. Returns false (and changes nothing) if it was already settled or cannot be.
bool settle_epoch(app::Context& ctx, uint64_t epoch);

nlohmann::json settlement_to_json(const EpochSettlement& s);
nlohmann::json amount_to_json(const SettleAmount& a, const std::string& hrp);

class SettleModule final : public app::Module {
 public:
  std::string_view name() const override { return "settle"; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  nlohmann::json default_genesis(std::string_view preset) const override;
  void register_queries(app::QueryRouter& router) override;
  // At the settlement stage of the effective epoch E (its switch height + 1), settles epoch E−1.
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;
};

}  // namespace chain::x::settle
