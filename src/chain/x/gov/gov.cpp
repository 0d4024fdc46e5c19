#include "chain/x/gov/gov.h"

#include <algorithm>
#include <iterator>

#include "chain/store/overlay.h"
#include "chain/types/codes.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/groups/groups.h"
#include "chain/x/record.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/json_text.h"

namespace chain::x::gov {

using types::u128;

namespace keys {
constexpr std::string_view kParams = "gov/params";
constexpr std::string_view kNextProposalId = "gov/next_proposal_id";
constexpr std::string_view kProposalPrefix = "gov/proposal/";
constexpr std::string_view kActivePrefix = "gov/active/";
constexpr std::string_view kVotePrefix = "gov/vote/";
constexpr std::string_view kPowerPrefix = "gov/power/";
std::string proposal(uint64_t id) {
  return std::string(kProposalPrefix) + common::be64(id);
}
// Voting-period queue: end height, then id, so EndBlock reads the proposals due in one ordered scan.
std::string active(uint64_t end_height, uint64_t id) {
  return std::string(kActivePrefix) + common::be64(end_height) + common::be64(id);
}
std::string vote_prefix(uint64_t id) {
  return std::string(kVotePrefix) + common::be64(id);
}
std::string vote(uint64_t id, const types::Address& voter) {
  return vote_prefix(id) + voter;
}
std::string power(const types::Address& voter) {
  return std::string(kPowerPrefix) + voter;
}
}  // namespace keys

namespace {

constexpr uint64_t kMaxVotingPeriod = 10'000'000;

std::string status_name(ProposalStatus s) {
  return inference::gov::ProposalStatus_Name(s);
}
std::string option_name(VoteOption o) {
  return inference::gov::VoteOption_Name(o);
}

nlohmann::json coins_to_json(const google::protobuf::RepeatedPtrField<inference::bank::Coin>& coins) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : coins) list.push_back({{"denom", c.denom()}, {"amount", c.amount()}});
  return list;
}

std::string coins_text(const google::protobuf::RepeatedPtrField<inference::bank::Coin>& coins) {
  std::string out;
  for (const auto& c : coins) out += (out.empty() ? "" : ",") + c.amount() + c.denom();
  return out.empty() ? "none" : out;
}

common::Result<std::vector<types::Coin>> optional_coins(
    const google::protobuf::RepeatedPtrField<inference::bank::Coin>& coins) {
  if (coins.empty()) return std::vector<types::Coin>{};
  return bank::coins_from_proto(coins);
}

nlohmann::json tally_to_json(const inference::gov::TallyResult& t) {
  return {{"yes", t.yes()},
          {"abstain", t.abstain()},
          {"no", t.no()},
          {"no_with_veto", t.no_with_veto()},
          {"total_power", t.total_power()}};
}

inference::gov::TallyResult to_tally_result(const TallyCounts& c, u128 total) {
  inference::gov::TallyResult t;
  t.set_yes(u128_to_string(c.yes));
  t.set_abstain(u128_to_string(c.abstain));
  t.set_no(u128_to_string(c.no));
  t.set_no_with_veto(u128_to_string(c.no_with_veto));
  t.set_total_power(u128_to_string(total));
  return t;
}

std::optional<uint64_t> parse_id(const std::string& text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : text) v = v * 10 + uint64_t(c - '0');
  return v;
}

std::string allow_list_text() {
  std::string out;
  for (auto url : kProposalMessageAllowList) out += (out.empty() ? "" : ", ") + std::string(url);
  return out;
}

}  // namespace

bool allowed_in_proposal(std::string_view type_url) {
  return std::binary_search(std::begin(kProposalMessageAllowList), std::end(kProposalMessageAllowList),
                            type_url);
}

// ---- params

Params default_params(std::string_view preset) {
  Params p;
  // Voting period in blocks: seconds on localnet (blocks of 100-200 ms), hours on testnet, a week on mainnet.
  if (preset == "localnet") {
    p.set_voting_period(30);
  } else if (preset == "testnet") {
    p.set_voting_period(1200);
  } else {
    p.set_voting_period(100800);
  }
  p.set_quorum_bps(3340);
  p.set_threshold_bps(5000);
  p.set_veto_threshold_bps(3340);
  auto* c = p.add_min_deposit();
  c->set_denom(std::string(types::kBaseDenom));
  c->set_amount("10000");
  return p;
}

common::Status validate_params(const Params& p) {
  if (p.voting_period() == 0 || p.voting_period() > kMaxVotingPeriod) {
    return invalid("gov params: voting_period must be in [1, " + std::to_string(kMaxVotingPeriod) +
                   "] blocks");
  }
  if (p.quorum_bps() == 0 || p.quorum_bps() > kBpsDenominator) {
    return invalid("gov params: quorum_bps must be in [1, 10000]");
  }
  if (p.threshold_bps() == 0 || p.threshold_bps() >= kBpsDenominator) {
    return invalid("gov params: threshold_bps must be in [1, 9999] (10000 would make every proposal fail)");
  }
  if (p.veto_threshold_bps() == 0 || p.veto_threshold_bps() > kBpsDenominator) {
    return invalid("gov params: veto_threshold_bps must be in [1, 10000]");
  }
  if (auto coins = optional_coins(p.min_deposit()); !coins) {
    return invalid("gov params: min_deposit: " + coins.error().message);
  }
  return {};
}

Params get_params(const store::KvReader& state) {
  auto raw = state.get(keys::kParams);
  if (!raw) return default_params();
  Params p;
  if (!p.ParseFromString(*raw)) throw std::logic_error("corrupt gov params in state");
  return p;
}

void set_params(store::KvStore& state, const Params& params) {
  state.set(keys::kParams, params.SerializeAsString());
}

nlohmann::json params_to_json(const Params& p) {
  return {{"voting_period", p.voting_period()},
          {"quorum_bps", p.quorum_bps()},
          {"threshold_bps", p.threshold_bps()},
          {"veto_threshold_bps", p.veto_threshold_bps()},
          {"min_deposit", coins_to_json(p.min_deposit())}};
}

common::Result<Params> params_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid("gov params must be a JSON object");
  Params p;
  for (const auto& [key, value] : j.items()) {
    if (key == "min_deposit") {
      if (!value.is_array()) return invalid("gov params: min_deposit must be an array of {denom, amount}");
      for (const auto& c : value) {
        if (!c.is_object() || !c.contains("denom") || !c.contains("amount") || !c.at("denom").is_string() ||
            !(c.at("amount").is_string() || c.at("amount").is_number_unsigned())) {
          return invalid("gov params: min_deposit must be an array of {denom, amount}");
        }
        auto* coin = p.add_min_deposit();
        coin->set_denom(c.at("denom").get<std::string>());
        coin->set_amount(c.at("amount").is_string() ? c.at("amount").get<std::string>()
                                                    : std::to_string(c.at("amount").get<uint64_t>()));
      }
      continue;
    }
    bool is_u32 = key == "quorum_bps" || key == "threshold_bps" || key == "veto_threshold_bps";
    if (key != "voting_period" && !is_u32) return invalid("gov params: unknown field \"" + key + "\"");
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
      return invalid("gov params: " + key + " must be a non-negative integer");
    }
    uint64_t v =
        value.is_number_unsigned() ? value.get<uint64_t>() : static_cast<uint64_t>(value.get<int64_t>());
    if (is_u32 && v > UINT32_MAX) return invalid("gov params: " + key + " is too large");
    if (key == "voting_period") p.set_voting_period(v);
    if (key == "quorum_bps") p.set_quorum_bps(static_cast<uint32_t>(v));
    if (key == "threshold_bps") p.set_threshold_bps(static_cast<uint32_t>(v));
    if (key == "veto_threshold_bps") p.set_veto_threshold_bps(static_cast<uint32_t>(v));
  }
  return p;
}

// ---- voting power

uint64_t voting_power(const store::KvReader& state, const types::Address& voter) {
  if (uint64_t epoch = epochs::effective_epoch_index(state); epoch > 0)
    return groups::member_weight(state, epoch, voter);
  auto raw = state.get(keys::power(voter));
  return raw && raw->size() == 8 ? common::get_be64(*raw) : 0;
}

u128 total_voting_power(const store::KvReader& state) {
  if (uint64_t epoch = epochs::effective_epoch_index(state); epoch > 0)
    return groups::total_weight(state, epoch);
  u128 total = 0;
  state.scan_prefix(keys::kPowerPrefix, [&](std::string_view, std::string_view value) {
    if (value.size() == 8) total += common::get_be64(value);
    return true;
  });
  return total;
}

void set_voting_power(store::KvStore& state, const types::Address& voter, uint64_t power) {
  if (power == 0) {
    state.erase(keys::power(voter));
  } else {
    state.set(keys::power(voter), common::be64(power));
  }
}

// ---- tally

std::string u128_to_string(u128 v) {
  if (v == 0) return "0";
  std::string out;
  while (v > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

TallyDecision decide(const Params& params, const TallyCounts& c, u128 total_power) {
  const u128 bps = kBpsDenominator;
  u128 voted = c.voted();
  if (total_power == 0 || voted * bps < u128(params.quorum_bps()) * total_power)
    return TallyDecision::kNoQuorum;
  if (c.no_with_veto * bps > u128(params.veto_threshold_bps()) * voted) return TallyDecision::kVetoed;
  u128 non_abstain = c.yes + c.no + c.no_with_veto;
  if (non_abstain == 0) return TallyDecision::kAllAbstain;
  if (c.yes * bps > u128(params.threshold_bps()) * non_abstain) return TallyDecision::kPassed;
  return TallyDecision::kThresholdNotReached;
}

std::string describe(TallyDecision d, const Params& p, const TallyCounts& c, u128 total) {
  switch (d) {
    case TallyDecision::kPassed:
      return "passed: yes " + u128_to_string(c.yes) + " of non-abstain " +
             u128_to_string(c.yes + c.no + c.no_with_veto) + " is above " +
             std::to_string(p.threshold_bps()) + " bps";
    case TallyDecision::kNoQuorum:
      return "no quorum: voted power " + u128_to_string(c.voted()) + " of total " + u128_to_string(total) +
             " is below " + std::to_string(p.quorum_bps()) + " bps";
    case TallyDecision::kVetoed:
      return "vetoed: no_with_veto " + u128_to_string(c.no_with_veto) + " of voted " +
             u128_to_string(c.voted()) + " is above " + std::to_string(p.veto_threshold_bps()) +
             " bps; deposit burned";
    case TallyDecision::kAllAbstain:
      return "rejected: every vote abstained";
    case TallyDecision::kThresholdNotReached:
      return "threshold not reached: yes " + u128_to_string(c.yes) + " of non-abstain " +
             u128_to_string(c.yes + c.no + c.no_with_veto) + " is not above " +
             std::to_string(p.threshold_bps()) + " bps";
  }
  return "";
}

TallyCounts count_votes(const store::KvReader& state, uint64_t proposal_id) {
  TallyCounts c;
  std::string prefix = keys::vote_prefix(proposal_id);
  state.scan_prefix(prefix, [&](std::string_view key, std::string_view value) {
    types::Address voter(key.substr(prefix.size()));
    u128 power = voting_power(state, voter);
    switch (value.empty() ? 0 : static_cast<int>(value[0])) {
      case inference::gov::VOTE_OPTION_YES:
        c.yes += power;
        break;
      case inference::gov::VOTE_OPTION_ABSTAIN:
        c.abstain += power;
        break;
      case inference::gov::VOTE_OPTION_NO:
        c.no += power;
        break;
      case inference::gov::VOTE_OPTION_NO_WITH_VETO:
        c.no_with_veto += power;
        break;
      default:
        throw std::logic_error("corrupt vote record in state");
    }
    return true;
  });
  return c;
}

// ---- proposals and votes

std::optional<Proposal> get_proposal(const store::KvReader& state, uint64_t id) {
  auto raw = state.get(keys::proposal(id));
  if (!raw) return std::nullopt;
  Proposal p;
  if (!p.ParseFromString(*raw)) throw std::logic_error("corrupt proposal record " + std::to_string(id));
  return p;
}

std::vector<Proposal> get_proposals(const store::KvReader& state) {
  std::vector<Proposal> out;
  state.scan_prefix(keys::kProposalPrefix, [&](std::string_view, std::string_view value) {
    Proposal p;
    if (!p.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      throw std::logic_error("corrupt proposal record");
    }
    out.push_back(std::move(p));
    return true;
  });
  return out;
}

std::optional<VoteOption> get_vote(const store::KvReader& state, uint64_t proposal_id,
                                   const types::Address& voter) {
  auto raw = state.get(keys::vote(proposal_id, voter));
  if (!raw || raw->size() != 1) return std::nullopt;
  return static_cast<VoteOption>((*raw)[0]);
}

nlohmann::json proposal_to_json(const Proposal& p, const std::string& hrp) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : p.messages())
    messages.push_back({{"type_url", m.type_url()}, {"value", common::to_base64(m.value())}});
  nlohmann::json j = {{"id", p.id()},
                      {"title", p.title()},
                      {"summary", p.summary()},
                      {"proposer", types::to_bech32(hrp, p.proposer())},
                      {"messages", messages},
                      {"deposit", coins_to_json(p.deposit())},
                      {"submit_height", p.submit_height()},
                      {"voting_end_height", p.voting_end_height()},
                      {"status", status_name(p.status())},
                      {"final_tally", nullptr},
                      {"failed_reason", p.failed_reason()},
                      {"deposit_burned", p.deposit_burned()}};
  if (p.has_final_tally()) j["final_tally"] = tally_to_json(p.final_tally());
  return j;
}

// ---- module

common::Status GovModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  Params params = default_params();
  if (app_state.contains("gov")) {
    if (auto e = common::unknown_key_error(app_state.at("gov"), {"params"}, "app_state.gov"))
      return invalid(*e);
  }
  if (app_state.contains("gov") && app_state.at("gov").contains("params")) {
    auto parsed = params_from_json(app_state.at("gov").at("params"));
    if (!parsed) return invalid("genesis gov: " + parsed.error().message);
    params = *parsed;
  }
  if (auto st = validate_params(params); !st) return invalid("genesis " + st.error().message);
  set_params(ctx.store(), params);
  return {};
}

common::Status GovModule::init_genesis_validators(app::Context& ctx,
                                                  const std::vector<app::GenesisValidator>& validators) {
  for (const auto& v : validators) {
    if (v.operator_address.empty()) continue;  // no operator account: no governance vote
    auto address = types::parse_address(ctx.hrp(), v.operator_address);
    if (!address)
      return invalid("genesis validator " + v.name + ": operator_address: " + address.error().message);
    if (v.power <= 0) return invalid("genesis validator " + v.name + ": power must be positive");
    auto sum = types::checked_add(voting_power(ctx.reader(), *address), static_cast<uint64_t>(v.power));
    if (!sum) return invalid("genesis validator " + v.name + ": voting power overflows");
    set_voting_power(ctx.store(), *address, *sum);
  }
  return {};
}

nlohmann::json GovModule::default_genesis(std::string_view preset) const {
  return {{"params", params_to_json(default_params(preset))}};
}

common::Status GovModule::check_proposal_messages(const inference::gov::MsgSubmitProposal& msg,
                                                  const std::string& hrp) const {
  if (static_cast<size_t>(msg.messages_size()) > kMaxProposalMessages) {
    return invalid("a proposal holds at most " + std::to_string(kMaxProposalMessages) + " messages");
  }
  for (int i = 0; i < msg.messages_size(); ++i) {
    const auto& any = msg.messages(i);
    std::string where = "proposal message " + std::to_string(i) + " (" + any.type_url() + "): ";
    if (!allowed_in_proposal(any.type_url())) {
      return common::make_error(
          codes::kUnauthorized,
          where + "not allowed inside a proposal; a proposal may only hold " + allow_list_text());
    }
    const app::MsgHandler* handler = router_.find(any.type_url());
    if (!handler) return common::make_error(codes::kUnknownRequest, where + "unknown message type");
    // Stateless check as the gov module account will execute it: authority fields must name that account.
    auto st = handler->check(any.value(), authority(), hrp);
    if (!st) return common::make_error(st.error().code, where + st.error().message);
  }
  return {};
}

void GovModule::register_messages(app::MsgRouter& router) {
  using inference::gov::MsgSubmitProposal;
  using inference::gov::MsgUpdateParams;
  using inference::gov::MsgVote;
  router.add_typed<MsgSubmitProposal>(
      std::string(kMsgSubmitProposalUrl),
      [this](const MsgSubmitProposal& msg, const types::Address& signer,
             const std::string& hrp) -> common::Status {
        auto proposer = types::parse_address(hrp, msg.proposer());
        if (!proposer) return proposer.error();
        if (*proposer != signer) {
          return common::make_error(
              codes::kUnauthorized,
              "proposer " + msg.proposer() + " is not the signer " + types::to_bech32(hrp, signer));
        }
        if (msg.title().empty() || msg.title().size() > kMaxTitleLength) {
          return invalid("proposal title must be 1-" + std::to_string(kMaxTitleLength) + " characters");
        }
        if (msg.summary().size() > kMaxSummaryLength) {
          return invalid("proposal summary is longer than " + std::to_string(kMaxSummaryLength) +
                         " characters");
        }
        if (auto coins = optional_coins(msg.deposit()); !coins) {
          return common::make_error(coins.error().code, "proposal deposit: " + coins.error().message);
        }
        return check_proposal_messages(msg, hrp);
      },
      [](app::Context& ctx, const MsgSubmitProposal& msg, const types::Address& signer) -> common::Status {
        auto& st = ctx.store();
        Params params = get_params(st);
        auto deposit = optional_coins(msg.deposit()).value();
        for (const auto& min : params.min_deposit()) {
          uint64_t need = *types::parse_amount(min.amount());
          auto it = std::find_if(deposit.begin(), deposit.end(),
                                 [&](const types::Coin& c) { return c.denom == min.denom(); });
          if (it == deposit.end() || it->amount < need) {
            return common::make_error(codes::kInsufficientFunds, "proposal deposit " +
                                                                     coins_text(msg.deposit()) +
                                                                     " is below the minimum deposit " +
                                                                     coins_text(params.min_deposit()));
          }
        }
        for (const auto& coin : deposit) TRY_STATUS(bank::send(ctx, signer, authority(), coin));
        uint64_t id = 1;
        if (auto raw = st.get(keys::kNextProposalId); raw && raw->size() == 8) id = common::get_be64(*raw);
        st.set(keys::kNextProposalId, common::be64(id + 1));
        Proposal p;
        p.set_id(id);
        *p.mutable_messages() = msg.messages();
        p.set_title(msg.title());
        p.set_summary(msg.summary());
        p.set_proposer(signer);
        *p.mutable_deposit() = msg.deposit();
        p.set_submit_height(ctx.height());
        p.set_voting_end_height(ctx.height() + params.voting_period());
        p.set_status(inference::gov::PROPOSAL_STATUS_VOTING_PERIOD);
        st.set(keys::proposal(id), p.SerializeAsString());
        st.set(keys::active(p.voting_end_height(), id), "");
        std::string types_list;
        for (const auto& m : msg.messages()) types_list += (types_list.empty() ? "" : ",") + m.type_url();
        ctx.emit(types::Event{common::events::kSubmitProposal,
                              {{"proposal_id", std::to_string(id)},
                               {"proposer", msg.proposer()},
                               {"messages", types_list},
                               {"deposit", coins_text(msg.deposit())},
                               {"voting_end_height", std::to_string(p.voting_end_height())}}});
        return {};
      });

  router.add_typed<MsgVote>(
      std::string(kMsgVoteUrl),
      [](const MsgVote& msg, const types::Address& signer, const std::string& hrp) -> common::Status {
        auto voter = types::parse_address(hrp, msg.voter());
        if (!voter) return voter.error();
        if (*voter != signer) {
          return common::make_error(codes::kUnauthorized, "voter " + msg.voter() + " is not the signer " +
                                                              types::to_bech32(hrp, signer));
        }
        if (msg.option() < inference::gov::VOTE_OPTION_YES ||
            msg.option() > inference::gov::VOTE_OPTION_NO_WITH_VETO) {
          return invalid("vote option must be yes, no, abstain or no_with_veto");
        }
        return {};
      },
      [](app::Context& ctx, const MsgVote& msg, const types::Address& signer) -> common::Status {
        auto p = get_proposal(ctx.reader(), msg.proposal_id());
        if (!p) {
          return common::make_error(codes::kNotFound,
                                    "proposal " + std::to_string(msg.proposal_id()) + " does not exist");
        }
        if (p->status() != inference::gov::PROPOSAL_STATUS_VOTING_PERIOD) {
          return reject(codes::kProposalNotVoting, "proposal " + std::to_string(p->id()) +
                                                       " is not in its voting period (status " +
                                                       status_name(p->status()) + ")");
        }
        uint64_t power = voting_power(ctx.reader(), signer);
        if (power == 0) {
          return common::make_error(
              codes::kUnauthorized,
              "voter " + msg.voter() +
                  " has no voting power: only participants with weight in the current epoch "
                  "(genesis validators until the first epoch) vote");
        }
        ctx.store().set(keys::vote(p->id(), signer), std::string(1, static_cast<char>(msg.option())));
        ctx.emit(types::Event{common::events::kProposalVote,
                              {{"proposal_id", std::to_string(p->id())},
                               {"voter", msg.voter()},
                               {"option", option_name(msg.option())},
                               {"power", std::to_string(power)}}});
        return {};
      });

  router.add_typed<MsgUpdateParams>(
      std::string(kMsgUpdateParamsUrl),
      [](const MsgUpdateParams& msg, const types::Address& signer, const std::string& hrp) -> common::Status {
        TRY_STATUS(check_authority("MsgUpdateParams", msg.authority(), signer, hrp));
        if (!msg.has_params()) return invalid("MsgUpdateParams: params are missing");
        return validate_params(msg.params());
      },
      [](app::Context& ctx, const MsgUpdateParams& msg, const types::Address&) -> common::Status {
        set_params(ctx.store(), msg.params());
        ctx.emit(types::Event{common::events::kGovParamsUpdated,
                              {{"params", params_to_json(msg.params()).dump()}}});
        return {};
      });
}

void GovModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>&) {
  // Everything due at or before this height (nothing is ever left behind, but a scan up to the height is
  // robust).
  std::vector<std::pair<uint64_t, uint64_t>> due;
  std::string start(keys::kActivePrefix);
  std::string end = keys::active(ctx.height() + 1, 0);
  ctx.reader().scan(start, end, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(keys::kActivePrefix.size());
    if (rest.size() != 16) throw std::logic_error("corrupt gov voting-period queue key");
    due.emplace_back(common::get_be64(rest.substr(0, 8)), common::get_be64(rest.substr(8)));
    return true;
  });
  for (const auto& [end_height, id] : due) {
    ctx.store().erase(keys::active(end_height, id));
    auto proposal = get_proposal(ctx.reader(), id);
    if (!proposal) throw std::logic_error("gov queue names missing proposal " + std::to_string(id));
    finish_proposal(ctx, *proposal);
  }
}

void GovModule::finish_proposal(app::Context& ctx, Proposal& p) {
  Params params = get_params(ctx.reader());
  TallyCounts counts = count_votes(ctx.reader(), p.id());
  u128 total = total_voting_power(ctx.reader());
  TallyDecision decision = decide(params, counts, total);
  *p.mutable_final_tally() = to_tally_result(counts, total);
  std::string id = std::to_string(p.id());
  ctx.emit(types::Event{common::events::kProposalTally,
                        {{"proposal_id", id},
                         {"result", decision == TallyDecision::kPassed ? "passed" : "rejected"},
                         {"reason", describe(decision, params, counts, total)},
                         {"yes", p.final_tally().yes()},
                         {"abstain", p.final_tally().abstain()},
                         {"no", p.final_tally().no()},
                         {"no_with_veto", p.final_tally().no_with_veto()},
                         {"total_power", p.final_tally().total_power()}}});

  if (decision == TallyDecision::kPassed) {
    // All messages on one branch: either every effect is kept or none.
    store::Overlay branch(ctx.store());
    std::vector<types::Event> events;
    app::Context exec(branch, ctx.block(), ctx.hrp(), events);
    std::string error;
    for (int i = 0; i < p.messages_size() && error.empty(); ++i) {
      const auto& any = p.messages(i);
      // Checked again here: a proposal stored under an older rule must not act as the gov account either.
      if (!allowed_in_proposal(any.type_url())) {
        error = "message " + std::to_string(i) + " (" + any.type_url() +
                "): not allowed inside a proposal; a proposal may only hold " + allow_list_text();
        break;
      }
      const app::MsgHandler* handler = router_.find(any.type_url());
      if (!handler) {
        error = "message " + std::to_string(i) + " (" + any.type_url() + "): unknown message type";
        break;
      }
      auto st = handler->execute(exec, any.value(), authority());
      if (!st) error = "message " + std::to_string(i) + " (" + any.type_url() + "): " + st.error().message;
    }
    if (error.empty()) {
      branch.write_to(ctx.store());
      for (auto& e : events) ctx.emit(std::move(e));
      p.set_status(inference::gov::PROPOSAL_STATUS_PASSED);
    } else {
      p.set_status(inference::gov::PROPOSAL_STATUS_FAILED);
      p.set_failed_reason(error);
    }
    ctx.emit(types::Event{
        "proposal_execution",
        {{"proposal_id", id}, {"status", error.empty() ? "executed" : "failed"}, {"error", error}}});
  } else {
    p.set_status(inference::gov::PROPOSAL_STATUS_REJECTED);
    p.set_failed_reason(describe(decision, params, counts, total));
  }

  // Deposit: burned on veto, otherwise returned to the proposer (passed, failed execution or rejected).
  // Never halts (issue 13): only allow-listed messages run as the gov account, so the escrow cannot be spent;
  // should it still fall short, what is there is moved, the shortfall is reported in an event, and the block
  // goes on. Each coin moves on its own branch, so a failed transfer changes nothing.
  bool burn = decision == TallyDecision::kVetoed;
  std::string shortfall;
  for (const auto& c : p.deposit()) {
    auto amount = types::parse_amount(c.amount());
    uint64_t want = amount ? *amount : 0;
    uint64_t have = bank::balance(ctx.reader(), authority(), c.denom());
    types::Coin coin{c.denom(), std::min(want, have)};
    common::Status st;
    if (coin.amount > 0) {
      store::Overlay coin_branch(ctx.store());
      std::vector<types::Event> coin_events;
      app::Context cctx(coin_branch, ctx.block(), ctx.hrp(), coin_events);
      st = burn ? bank::burn(cctx, authority(), coin) : bank::send(cctx, authority(), p.proposer(), coin);
      if (st) {
        coin_branch.write_to(ctx.store());
        for (auto& e : coin_events) ctx.emit(std::move(e));
      }
    }
    uint64_t moved = st ? coin.amount : 0;
    if (moved < want) {
      shortfall += (shortfall.empty() ? "" : ",") + std::to_string(want - moved) + c.denom() +
                   (st ? "" : " (" + st.error().message + ")");
    }
  }
  p.set_deposit_burned(burn && p.deposit_size() > 0);
  ctx.emit(types::Event{
      "proposal_deposit",
      {{"proposal_id", id}, {"action", burn ? "burned" : "refunded"}, {"amount", coins_text(p.deposit())}}});
  if (!shortfall.empty()) {
    ctx.emit(types::Event{common::events::kProposalDepositShortfall,
                          {{"proposal_id", id},
                           {"missing", shortfall},
                           {"reason", "the gov account holds less than the escrowed deposit"}}});
  }
  ctx.store().set(keys::proposal(p.id()), p.SerializeAsString());
}

void GovModule::register_queries(app::QueryRouter& router) {
  router.add("/gov/params", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    return nlohmann::json{{"params", params_to_json(get_params(req.state))}};
  });
  router.add("/gov/authority", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    return nlohmann::json{{"address", types::to_bech32(req.hrp, authority())}};
  });
  router.add("/gov/proposals", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    std::string filter = req.param("status");
    inference::gov::ProposalStatus wanted = inference::gov::PROPOSAL_STATUS_UNSPECIFIED;
    if (!filter.empty()) {
      std::string name = filter;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char c) { return c >= 'a' && c <= 'z' ? char(c - 32) : c; });
      if (name.rfind("PROPOSAL_STATUS_", 0) != 0) name = "PROPOSAL_STATUS_" + name;
      if (!inference::gov::ProposalStatus_Parse(name, &wanted) ||
          wanted == inference::gov::PROPOSAL_STATUS_UNSPECIFIED) {
        return invalid("unknown status \"" + filter + "\"; one of voting_period, passed, rejected, failed");
      }
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : get_proposals(req.state)) {
      if (wanted == inference::gov::PROPOSAL_STATUS_UNSPECIFIED || p.status() == wanted) {
        list.push_back(proposal_to_json(p, req.hrp));
      }
    }
    return nlohmann::json{{"proposals", list}};
  });
  auto load = [](const app::QueryRequest& req) -> common::Result<Proposal> {
    auto id = parse_id(req.param("id"));
    if (!id) return invalid("proposal id \"" + req.param("id") + "\" is not a number");
    auto p = get_proposal(req.state, *id);
    if (!p)
      return common::make_error(codes::kNotFound, "proposal " + std::to_string(*id) + " does not exist");
    return *p;
  };
  router.add("/gov/proposals/{id}", [load](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    auto p = load(req);
    if (!p) return p.error();
    return nlohmann::json{{"proposal", proposal_to_json(*p, req.hrp)}};
  });
  router.add(
      "/gov/proposals/{id}/votes", [load](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
        auto p = load(req);
        if (!p) return p.error();
        nlohmann::json votes = nlohmann::json::array();
        std::string prefix = keys::vote_prefix(p->id());
        req.state.scan_prefix(prefix, [&](std::string_view key, std::string_view value) {
          types::Address voter(key.substr(prefix.size()));
          votes.push_back({{"voter", types::to_bech32(req.hrp, voter)},
                           {"option", option_name(static_cast<VoteOption>(value.empty() ? 0 : value[0]))},
                           {"power", voting_power(req.state, voter)}});
          return true;
        });
        return nlohmann::json{{"proposal_id", p->id()}, {"votes", votes}};
      });
  router.add(
      "/gov/proposals/{id}/tally", [load](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
        auto p = load(req);
        if (!p) return p.error();
        if (p->status() != inference::gov::PROPOSAL_STATUS_VOTING_PERIOD) {
          return nlohmann::json{{"proposal_id", p->id()},
                                {"final", true},
                                {"status", status_name(p->status())},
                                {"tally", tally_to_json(p->final_tally())},
                                {"result", p->failed_reason()}};
        }
        Params params = get_params(req.state);
        TallyCounts counts = count_votes(req.state, p->id());
        u128 total = total_voting_power(req.state);
        return nlohmann::json{{"proposal_id", p->id()},
                              {"final", false},
                              {"status", status_name(p->status())},
                              {"tally", tally_to_json(to_tally_result(counts, total))},
                              {"result", "if the period ended now: " +
                                             describe(decide(params, counts, total), params, counts, total)}};
      });
}

}  // namespace chain::x::gov
