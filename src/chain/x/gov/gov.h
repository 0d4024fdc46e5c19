// Governance (ARCHITECTURE §5, docs/governance.md): proposals that hold messages, a deposit escrowed in the
// gov module account, votes weighted by the voter's current weight, an exact integer tally at the end of the
// voting period, and execution of passed proposals with the gov module account as signer (the authority).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/app/module.h"
#include "chain/types/coins.h"
#include "chain/types/int128.h"
#include "chain/x/gov/authority.h"
#include "inference/gov.pb.h"

namespace chain::x::gov {

using Params = inference::gov::Params;
using Proposal = inference::gov::Proposal;
using VoteOption = inference::gov::VoteOption;
using ProposalStatus = inference::gov::ProposalStatus;

inline constexpr std::string_view kMsgSubmitProposalUrl = "/inference.gov.MsgSubmitProposal";
inline constexpr std::string_view kMsgVoteUrl = "/inference.gov.MsgVote";
inline constexpr std::string_view kMsgUpdateParamsUrl = "/inference.gov.MsgUpdateParams";

// The only messages a proposal may hold and execute (ARCHITECTURE §5: the authority messages): the model
// registry, parameter updates and partial upgrades. Anything else (bank sends, any user message) could act as
// the gov account, which escrows every proposer's deposit (issue 13, fault 8). Checked at submit time and
// again at execution. Sorted, so a binary search finds an entry.
inline constexpr std::string_view kProposalMessageAllowList[] = {
    "/inference.gov.MsgUpdateParams",
    "/inference.inference.MsgCreatePartialUpgrade",
    "/inference.inference.MsgRegisterModel",
    "/inference.inference.MsgRemoveModel",
    "/inference.inference.MsgUpdateEpochParams",
    "/inference.inference.MsgUpdateScheduleParams",
};
bool allowed_in_proposal(std::string_view type_url);

inline constexpr size_t kMaxProposalMessages = 16;
inline constexpr size_t kMaxTitleLength = 140;
inline constexpr size_t kMaxSummaryLength = 10000;
inline constexpr uint32_t kBpsDenominator = 10000;

// ---- params
Params default_params(std::string_view preset = "");
common::Status validate_params(const Params& params);
Params get_params(const store::KvReader& state);
void set_params(store::KvStore& state, const Params& params);
nlohmann::json params_to_json(const Params& params);
common::Result<Params> params_from_json(const nlohmann::json& j);

// ---- voting power
// The voter's weight in the parent group of the current (effective) epoch. While the genesis epoch 0 is
// effective this is the genesis validator power of the operator address, stored under "gov/power/<address>".
uint64_t voting_power(const store::KvReader& state, const types::Address& voter);
types::u128 total_voting_power(const store::KvReader& state);
void set_voting_power(store::KvStore& state, const types::Address& voter, uint64_t power);

// ---- tally (pure, exact integer arithmetic)
struct TallyCounts {
  types::u128 yes = 0, abstain = 0, no = 0, no_with_veto = 0;
  types::u128 voted() const { return yes + abstain + no + no_with_veto; }
};
enum class TallyDecision { kPassed, kNoQuorum, kVetoed, kAllAbstain, kThresholdNotReached };
// quorum:    voted × 10000 ≥ quorum_bps × total_power (and total_power > 0)
// veto:      no_with_veto × 10000 > veto_threshold_bps × voted      → rejected, deposit burned
// threshold: yes × 10000 > threshold_bps × (yes + no + no_with_veto) → passed (a tie never passes)
TallyDecision decide(const Params& params, const TallyCounts& counts, types::u128 total_power);
std::string describe(TallyDecision decision, const Params& params, const TallyCounts& counts,
                     types::u128 total_power);
// Sums the current voting power of every voter of the proposal by option.
TallyCounts count_votes(const store::KvReader& state, uint64_t proposal_id);
std::string u128_to_string(types::u128 v);

// ---- proposals and votes
std::optional<Proposal> get_proposal(const store::KvReader& state, uint64_t id);
// All proposals, ascending id.
std::vector<Proposal> get_proposals(const store::KvReader& state);
std::optional<VoteOption> get_vote(const store::KvReader& state, uint64_t proposal_id,
                                   const types::Address& voter);
nlohmann::json proposal_to_json(const Proposal& p, const std::string& hrp);

class GovModule final : public app::Module {
 public:
  // `router` executes the messages of passed proposals and checks them at submission; it outlives the module.
  explicit GovModule(const app::MsgRouter& router) : router_(router) {}
  std::string_view name() const override { return kModuleName; }
  common::Status init_genesis(app::Context& ctx, const nlohmann::json& app_state) override;
  common::Status init_genesis_validators(app::Context& ctx,
                                         const std::vector<app::GenesisValidator>& validators) override;
  nlohmann::json default_genesis(std::string_view preset) const override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
  // Tallies every proposal whose voting period ends at this height and executes the passed ones.
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;

 private:
  common::Status check_proposal_messages(const inference::gov::MsgSubmitProposal& msg,
                                         const std::string& hrp) const;
  void finish_proposal(app::Context& ctx, Proposal& proposal);

  const app::MsgRouter& router_;
};

}  // namespace chain::x::gov
