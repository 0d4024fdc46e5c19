#include "chain/x/settle/settle.h"

#include <algorithm>
#include <stdexcept>

#include "chain/store/overlay.h"
#include "chain/types/codes.h"
#include "chain/types/coins.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/record.h"
#include "common/bytes.h"
#include "common/events.h"

namespace chain::x::settle {

using types::u128;

namespace keys {
constexpr std::string_view kParams = "settle/params";
constexpr std::string_view kEpochPrefix = "settle/epoch/";
constexpr std::string_view kAmountPrefix = "settle/amount/";
std::string epoch(uint64_t e) {
  return std::string(kEpochPrefix) + common::be64(e);
}
std::string amounts(uint64_t e) {
  return std::string(kAmountPrefix) + common::be64(e);
}
std::string amount(uint64_t e, const types::Address& a) {
  return amounts(e) + a;
}
}  // namespace keys

namespace {

std::string u128_text(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

std::optional<uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  u128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<u128>(c - '0');
  }
  if (v > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(v);
}

common::Result<uint64_t> json_u64(const nlohmann::json& j, const std::string& field) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  if (j.is_string()) {
    if (auto v = parse_u64(j.get<std::string>())) return *v;
  }
  return invalid("settle params: " + field + " must be a non-negative integer");
}

}  // namespace

// ---- params

SettleParams default_params(std::string_view preset) {
  SettleParams p;
  // exp(-0.000475) per epoch, the reference network's decay rate, as 10^18 fixed point.
  p.set_decay_factor_e18(999'525'112'794'640'142ULL);
  p.set_coverage_bonus_bps(1000);
  p.set_initial_epoch_subsidy(preset == "localnet" ? 1'000'000'000ULL : 323'000'000'000'000ULL);
  return p;
}

common::Status validate_params(const SettleParams& p) {
  if (p.initial_epoch_subsidy() > kMaxInitialEpochSubsidy) {
    return invalid("settle params: initial_epoch_subsidy must be at most 2^62 (" +
                   std::to_string(kMaxInitialEpochSubsidy) + ")");
  }
  if (p.decay_factor_e18() == 0 || p.decay_factor_e18() > kOneE18) {
    return invalid("settle params: decay_factor_e18 must be in [1, 10^18] (10^18 = no decay)");
  }
  if (p.coverage_bonus_bps() > kBpsDenominator) {
    return invalid("settle params: coverage_bonus_bps must be at most 10000 (+100%)");
  }
  return {};
}

SettleParams get_params(const store::KvReader& state) {
  auto raw = state.get(keys::kParams);
  if (!raw) return default_params();
  SettleParams p;
  if (!p.ParseFromString(*raw)) throw std::logic_error("corrupt settle params in state");
  return p;
}

void set_params(store::KvStore& state, const SettleParams& p) {
  state.set(keys::kParams, p.SerializeAsString());
}

nlohmann::json params_to_json(const SettleParams& p) {
  return {{"initial_epoch_subsidy", std::to_string(p.initial_epoch_subsidy())},
          {"decay_factor_e18", std::to_string(p.decay_factor_e18())},
          {"coverage_bonus_bps", p.coverage_bonus_bps()}};
}

common::Result<SettleParams> params_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid("settle params must be an object");
  SettleParams p = default_params();
  for (const auto& [key, value] : j.items()) {
    auto v = json_u64(value, key);
    if (!v) return v.error();
    if (key == "initial_epoch_subsidy") {
      p.set_initial_epoch_subsidy(*v);
    } else if (key == "decay_factor_e18") {
      p.set_decay_factor_e18(*v);
    } else if (key == "coverage_bonus_bps") {
      if (*v > kBpsDenominator)
        return invalid("settle params: coverage_bonus_bps must be at most 10000 (+100%)");
      p.set_coverage_bonus_bps(static_cast<uint32_t>(*v));
    } else {
      return invalid("settle params: unknown field \"" + key + "\"");
    }
  }
  TRY_STATUS(validate_params(p));
  return p;
}

// ---- pure arithmetic

uint64_t decay_power_e18(uint64_t decay_factor_e18, uint64_t n) {
  const u128 one = kOneE18;
  u128 result = one;
  u128 base = decay_factor_e18 > kOneE18 ? one : decay_factor_e18;
  while (n > 0 && result > 0) {
    if (n & 1) result = result * base / one;
    base = base * base / one;
    n >>= 1;
  }
  return static_cast<uint64_t>(result);
}

uint64_t epoch_subsidy(const SettleParams& p, uint64_t epoch_index) {
  if (epoch_index == 0) return 0;
  u128 factor = decay_power_e18(p.decay_factor_e18(), epoch_index - 1);
  return static_cast<uint64_t>(static_cast<u128>(p.initial_epoch_subsidy()) * factor / kOneE18);
}

SettleAmounts get_settle_amounts(uint64_t subsidy, uint32_t coverage_bonus_bps,
                                 const std::vector<ParticipantInput>& participants) {
  SettleAmounts out;
  out.subsidy = subsidy;
  for (const auto& p : participants) out.total_weight += p.weight;
  if (out.total_weight == 0) {
    out.remainder = subsidy;
    out.minted = subsidy;
    return out;
  }
  u128 base_total = 0, bonus_total = 0;
  for (const auto& p : participants) {
    if (p.weight == 0) continue;
    u128 base = static_cast<u128>(subsidy) * p.weight / out.total_weight;  // < 2^64 · 2^64
    u128 bonus = p.covers_all_models ? base * coverage_bonus_bps / kBpsDenominator : 0;
    SettleAmount a;
    a.set_participant(p.participant);
    a.set_weight(p.weight);
    a.set_base_reward(static_cast<uint64_t>(base));
    a.set_bonus(static_cast<uint64_t>(bonus));
    a.set_total(static_cast<uint64_t>(base + bonus));
    a.set_covers_all_models(p.covers_all_models);
    out.amounts.push_back(std::move(a));
    base_total += base;
    bonus_total += bonus;
  }
  // Σ base ≤ subsidy ≤ 2^62 and Σ bonus ≤ Σ base, so every sum below fits in u64.
  if (base_total > subsidy || bonus_total > base_total)
    throw std::logic_error("settle: split exceeds the subsidy");
  out.base_total = static_cast<uint64_t>(base_total);
  out.bonus_total = static_cast<uint64_t>(bonus_total);
  out.paid = out.base_total + out.bonus_total;
  out.remainder = subsidy - out.base_total;
  out.minted = subsidy + out.bonus_total;
  return out;
}

bool covers_every_model(const std::vector<std::optional<groups::ValidationWeight>>& membership) {
  if (membership.empty()) return false;
  for (const auto& m : membership) {
    if (!m) return false;
    // One of the participant's nodes serves the model: it is the node's first model (PRE_POC_SLOT) and the
    // node has weight. A node merely listing the model serves another one (ARCHITECTURE §7.4, §7.8).
    bool served = std::any_of(m->ml_nodes().begin(), m->ml_nodes().end(), [](const groups::MLNodeInfo& n) {
      return n.poc_weight() > 0 && n.timeslot_allocation_size() > 0 && n.timeslot_allocation(0);
    });
    if (!served) return false;
  }
  return true;
}

bool get_participant_model_coverage(const store::KvReader& state, uint64_t epoch,
                                    const types::Address& participant) {
  auto parent = groups::get_group(state, epoch, "");
  if (!parent) return false;
  std::vector<std::optional<groups::ValidationWeight>> membership;
  for (const auto& model : parent->sub_group_models()) {
    membership.push_back(groups::get_member(state, epoch, model, participant));
  }
  return covers_every_model(membership);
}

// ---- state

types::Address community_pool() {
  return types::module_address(kCommunityPoolModule);
}

std::optional<EpochSettlement> get_epoch_settlement(const store::KvReader& state, uint64_t epoch) {
  auto raw = state.get(keys::epoch(epoch));
  if (!raw) return std::nullopt;
  EpochSettlement s;
  if (!s.ParseFromString(*raw))
    throw std::logic_error("corrupt settlement of epoch " + std::to_string(epoch));
  return s;
}

std::vector<SettleAmount> get_epoch_amounts(const store::KvReader& state, uint64_t epoch) {
  std::vector<SettleAmount> out;
  state.scan_prefix(keys::amounts(epoch), [&](std::string_view, std::string_view value) {
    SettleAmount a;
    if (!a.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      throw std::logic_error("corrupt settle amount in epoch " + std::to_string(epoch));
    }
    out.push_back(std::move(a));
    return true;
  });
  return out;
}

std::optional<SettleAmount> get_settle_amount(const store::KvReader& state, uint64_t epoch,
                                              const types::Address& participant) {
  auto raw = state.get(keys::amount(epoch, participant));
  if (!raw) return std::nullopt;
  SettleAmount a;
  if (!a.ParseFromString(*raw))
    throw std::logic_error("corrupt settle amount in epoch " + std::to_string(epoch));
  return a;
}

bool settle_epoch(app::Context& ctx, uint64_t epoch_index) {
  if (epoch_index == 0 || get_epoch_settlement(ctx.reader(), epoch_index)) return false;
  auto epoch = epochs::get_epoch(ctx.reader(), epoch_index);
  auto parent = groups::get_group(ctx.reader(), epoch_index, "");
  if (!epoch || !epoch->formed() || !parent) return false;

  SettleParams params = get_params(ctx.reader());
  // A carried-over epoch had no accepted PoC: nothing is earned and nothing is minted.
  uint64_t subsidy = epoch->carried_over() ? 0 : epoch_subsidy(params, epoch_index);
  std::vector<ParticipantInput> inputs;
  for (const auto& m : groups::get_members(ctx.reader(), epoch_index, "")) {  // sorted by address
    if (m.weight() == 0) continue;
    inputs.push_back(
        {m.member(), m.weight(), get_participant_model_coverage(ctx.reader(), epoch_index, m.member())});
  }
  SettleAmounts amounts = get_settle_amounts(subsidy, params.coverage_bonus_bps(), inputs);

  // Mints on a branch: a bank failure (supply overflow, a broken invariant) changes nothing.
  store::Overlay branch(ctx.store());
  std::vector<types::Event> events;
  app::Context bctx(branch, ctx.block(), ctx.hrp(), events);
  std::string denom(types::kBaseDenom);
  auto fail = [&](const std::string& why) {
    ctx.emit(
        types::Event{common::events::kSettlementFailed, {{"epoch_index", std::to_string(epoch_index)}, {"error", why}}});
    return false;
  };
  uint32_t covering = 0;
  for (const auto& a : amounts.amounts) {
    if (a.covers_all_models()) ++covering;
    if (a.total() > 0) {
      if (auto st = bank::mint(bctx, a.participant(), {denom, a.total()}); !st)
        return fail(st.error().message);
    }
    SettleAmount record = a;
    record.set_epoch_index(epoch_index);
    branch.set(keys::amount(epoch_index, a.participant()), record.SerializeAsString());
  }
  if (amounts.remainder > 0) {
    if (auto st = bank::mint(bctx, community_pool(), {denom, amounts.remainder}); !st)
      return fail(st.error().message);
  }
  EpochSettlement s;
  s.set_epoch_index(epoch_index);
  s.set_settled_height(ctx.height());
  s.set_subsidy(subsidy);
  s.set_total_weight(u128_text(amounts.total_weight));
  s.set_base_total(amounts.base_total);
  s.set_bonus_total(amounts.bonus_total);
  s.set_paid(amounts.paid);
  s.set_remainder(amounts.remainder);
  s.set_minted(amounts.minted);
  s.set_participants(static_cast<uint32_t>(amounts.amounts.size()));
  s.set_covering_participants(covering);
  s.set_models(static_cast<uint32_t>(parent->sub_group_models_size()));
  s.set_coverage_bonus_bps(params.coverage_bonus_bps());
  s.set_carried_over(epoch->carried_over());
  branch.set(keys::epoch(epoch_index), s.SerializeAsString());
  branch.write_to(ctx.store());
  for (auto& e : events) ctx.emit(std::move(e));
  ctx.emit(types::Event{common::events::kEpochSettled,
                        {{"epoch_index", std::to_string(epoch_index)},
                         {"subsidy", std::to_string(subsidy)},
                         {"paid", std::to_string(amounts.paid)},
                         {"bonus_total", std::to_string(amounts.bonus_total)},
                         {"remainder", std::to_string(amounts.remainder)},
                         {"minted", std::to_string(amounts.minted)}}});
  return true;
}

nlohmann::json settlement_to_json(const EpochSettlement& s) {
  return {{"epoch_index", s.epoch_index()},
          {"settled_height", s.settled_height()},
          {"subsidy", std::to_string(s.subsidy())},
          {"total_weight", s.total_weight()},
          {"base_total", std::to_string(s.base_total())},
          {"bonus_total", std::to_string(s.bonus_total())},
          {"paid", std::to_string(s.paid())},
          {"remainder", std::to_string(s.remainder())},
          {"minted", std::to_string(s.minted())},
          {"participants", s.participants()},
          {"covering_participants", s.covering_participants()},
          {"models", s.models()},
          {"coverage_bonus_bps", s.coverage_bonus_bps()},
          {"carried_over", s.carried_over()}};
}

nlohmann::json amount_to_json(const SettleAmount& a, const std::string& hrp) {
  return {{"participant", types::to_bech32(hrp, a.participant())},
          {"epoch_index", a.epoch_index()},
          {"weight", a.weight()},
          {"base_reward", std::to_string(a.base_reward())},
          {"bonus", std::to_string(a.bonus())},
          {"total", std::to_string(a.total())},
          {"covers_all_models", a.covers_all_models()}};
}

// ---- module

common::Status SettleModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  SettleParams p = default_params();
  if (app_state.contains("settle")) {
    const auto& section = app_state.at("settle");
    if (!section.is_object()) return invalid("genesis settle: must be an object");
    for (const auto& [key, value] : section.items()) {
      if (key != "params") return invalid("genesis settle: unknown field \"" + key + "\"");
    }
    if (section.contains("params")) {
      auto parsed = params_from_json(section.at("params"));
      if (!parsed) return invalid("genesis " + parsed.error().message);
      p = *parsed;
    }
  }
  TRY_STATUS(validate_params(p));
  set_params(ctx.store(), p);
  return {};
}

nlohmann::json SettleModule::default_genesis(std::string_view preset) const {
  return {{"params", params_to_json(default_params(preset))}};
}

void SettleModule::register_queries(app::QueryRouter& router) {
  router.add("/inference/settle-params", [](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
    return nlohmann::json{{"params", params_to_json(get_params(req.state))},
                          {"community_pool", types::to_bech32(req.hrp, community_pool())}};
  });
  auto epoch_arg = [](const app::QueryRequest& req) -> common::Result<uint64_t> {
    auto e = parse_u64(req.param("epoch"));
    if (!e) return invalid("epoch \"" + req.param("epoch") + "\" must be a non-negative integer");
    return *e;
  };
  router.add("/inference/epoch-subsidy/{epoch}",
             [epoch_arg](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               auto e = epoch_arg(req);
               if (!e) return e.error();
               return nlohmann::json{{"epoch_index", *e},
                                     {"subsidy", std::to_string(epoch_subsidy(get_params(req.state), *e))}};
             });
  router.add("/inference/settle/{epoch}",
             [epoch_arg](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               auto e = epoch_arg(req);
               if (!e) return e.error();
               auto s = get_epoch_settlement(req.state, *e);
               if (!s)
                 return common::make_error(codes::kNotFound,
                                           "epoch " + std::to_string(*e) + " is not settled (yet)");
               nlohmann::json list = nlohmann::json::array();
               for (const auto& a : get_epoch_amounts(req.state, *e))
                 list.push_back(amount_to_json(a, req.hrp));
               return nlohmann::json{{"settlement", settlement_to_json(*s)}, {"amounts", list}};
             });
  // A participant with no weight in a settled epoch gets an all-zero answer (it earned nothing).
  router.add("/inference/settle/{epoch}/{participant}",
             [epoch_arg](const app::QueryRequest& req) -> common::Result<nlohmann::json> {
               auto e = epoch_arg(req);
               if (!e) return e.error();
               auto addr = types::parse_address(req.hrp, req.param("participant"));
               if (!addr) return addr.error();
               if (!get_epoch_settlement(req.state, *e))
                 return common::make_error(codes::kNotFound,
                                           "epoch " + std::to_string(*e) + " is not settled (yet)");
               auto a = get_settle_amount(req.state, *e, *addr);
               if (!a) {
                 a = SettleAmount();
                 a->set_participant(*addr);
                 a->set_epoch_index(*e);
               }
               return nlohmann::json{{"amount", amount_to_json(*a, req.hrp)}};
             });
}

void SettleModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>&) {
  uint64_t effective = epochs::effective_epoch_index(ctx.reader());
  if (effective < 2) return;
  auto epoch = epochs::get_epoch(ctx.reader(), effective);
  if (!epoch || ctx.height() != epochs::stages_of(*epoch).settlement) return;
  settle_epoch(ctx, effective - 1);
}

}  // namespace chain::x::settle
