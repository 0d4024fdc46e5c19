#include "chain/x/epochs/epochs.h"

#include <algorithm>
#include <stdexcept>

#include "chain/types/codes.h"
#include "chain/types/coins.h"
#include "chain/types/int128.h"
#include "chain/x/gov/authority.h"
#include "chain/x/groups/groups.h"
#include "chain/x/models/models.h"
#include "chain/x/record.h"
#include "chain/x/weights/weights.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/json_text.h"

namespace chain::x::epochs {

using types::u128;

namespace keys {
constexpr std::string_view kParams = "epochs/params";
constexpr std::string_view kEffective = "epochs/effective";
constexpr std::string_view kEpochPrefix = "epochs/epoch/";
constexpr std::string_view kValidatorPrefix = "epochs/valset/";
std::string epoch(uint64_t index) {
  return std::string(kEpochPrefix) + common::be64(index);
}
std::string validator(std::string_view pub_key) {
  return std::string(kValidatorPrefix) + std::string(pub_key);
}
}  // namespace keys

namespace {

// CometBFT caps the total voting power at MaxInt64/8; stay well below it.
constexpr uint64_t kMaxTotalPower = uint64_t(1) << 59;

EpochParams from_stage_params(const common::epochs::EpochParams& s, uint64_t price) {
  EpochParams p;
  p.set_epoch_length(s.epoch_length);
  p.set_epoch_shift(s.epoch_shift);
  p.set_poc_stage_duration(s.poc_stage_duration);
  p.set_poc_exchange_duration(s.poc_exchange_duration);
  p.set_poc_validation_delay(s.poc_validation_delay);
  p.set_poc_validation_duration(s.poc_validation_duration);
  p.set_model_loading_duration(s.model_loading_duration);
  p.set_wind_down_percent(s.wind_down_percent);
  p.set_default_unit_of_compute_price(price);
  p.set_max_nonces_per_batch(kDefaultMaxNoncesPerBatch);
  p.set_max_batches_per_node(kDefaultMaxBatchesPerNode);
  p.set_max_nonces_per_node(kDefaultMaxNoncesPerNode);
  p.set_poc_retention_epochs(kDefaultPocRetentionEpochs);
  p.set_inference_retention_epochs(kDefaultInferenceRetentionEpochs);
  return p;
}

// Consensus power of each member with a 32-byte key and positive weight, scaled down proportionally (exact
// integers, at least 1) if the total exceeds what CometBFT accepts.
std::map<std::string, int64_t> validator_set_of(const std::vector<groups::ValidationWeight>& members) {
  u128 total = 0;
  for (const auto& m : members) {
    if (m.validator_public_key().size() == 32 && m.weight() > 0) total += m.weight();
  }
  std::map<std::string, int64_t> out;
  for (const auto& m : members) {
    if (m.validator_public_key().size() != 32 || m.weight() == 0) continue;
    u128 power = m.weight();
    if (total > kMaxTotalPower) power = std::max<u128>(1, power * kMaxTotalPower / total);
    auto& slot = out[m.validator_public_key()];
    slot = static_cast<int64_t>(std::min<u128>(u128(slot) + power, kMaxTotalPower));
  }
  return out;
}

void set_effective(store::KvStore& state, uint64_t index) {
  state.set(keys::kEffective, common::be64(index));
}

std::vector<app::ValidatorUpdate> switch_validator_set(store::KvStore& state,
                                                       const std::map<std::string, int64_t>& next) {
  auto old = get_validator_set(state);
  std::vector<app::ValidatorUpdate> updates;
  for (const auto& [key, power] : old) {
    if (!next.count(key)) {
      updates.push_back({key, 0});
      state.erase(keys::validator(key));
    }
  }
  for (const auto& [key, power] : next) {
    auto it = old.find(key);
    if (it != old.end() && it->second == power) continue;
    updates.push_back({key, power});
    state.set(keys::validator(key), common::be64(static_cast<uint64_t>(power)));
  }
  return updates;
}

common::Result<uint64_t> parse_index(const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid("epoch index must be a non-negative integer, got \"" + text + "\"");
  }
  return std::stoull(text);
}

void form_next_epoch(app::Context& ctx, Epoch& u, uint64_t current) {
  auto result = weights::compute_new_weights(ctx.reader(), u.index());
  bool carried_over = false;
  auto formed =
      groups::form_epoch_groups(ctx, u.index(), u.poc_start_height(),
                                u.params().default_unit_of_compute_price(), result, current, carried_over);
  u.set_formed(true);
  u.set_formed_height(ctx.height());
  u.set_carried_over(carried_over);
  set_epoch(ctx.store(), u);
  for (const auto& r : result.rejected) {
    ctx.emit(types::Event{common::events::kPocParticipantRejected,
                          {{"epoch_index", std::to_string(u.index())},
                           {"participant", types::to_bech32(ctx.hrp(), r.participant)},
                           {"reason", r.reason}}});
  }
  ctx.emit(types::Event{common::events::kNextEpochFormed,
                        {{"epoch_index", std::to_string(u.index())},
                         {"members", std::to_string(formed.parent.data.member_count())},
                         {"total_weight", std::to_string(formed.parent.data.total_weight())},
                         {"sub_group_models", std::to_string(formed.sub_groups.size())},
                         {"carried_over", carried_over ? "true" : "false"}}});
}

void switch_epoch(app::Context& ctx, Epoch& u, std::vector<app::ValidatorUpdate>& validator_updates) {
  u.set_effective_height(ctx.height());
  set_epoch(ctx.store(), u);
  set_effective(ctx.store(), u.index());
  groups::set_effective_height(ctx.store(), u.index(), ctx.height());
  auto next = validator_set_of(groups::get_members(ctx.reader(), u.index(), ""));
  size_t changed = 0;
  if (next.empty()) {
    // Never leave consensus without validators: keep the old set.
    ctx.emit(types::Event{common::events::kValidatorSetKept,
                          {{"epoch_index", std::to_string(u.index())},
                           {"reason", "no member of the new epoch has a validator key and weight"}}});
  } else {
    auto updates = switch_validator_set(ctx.store(), next);
    changed = updates.size();
    validator_updates.insert(validator_updates.end(), updates.begin(), updates.end());
  }
  ctx.emit(types::Event{
      common::events::kEpochSwitched,
      {{"epoch_index", std::to_string(u.index())}, {"validator_updates", std::to_string(changed)}}});
}

}  // namespace

// ---- params

StateLimits state_limits(const EpochParams& p) {
  auto or_default = [](uint64_t v, uint64_t d) { return v == 0 ? d : v; };
  return {or_default(p.max_nonces_per_batch(), kDefaultMaxNoncesPerBatch),
          or_default(p.max_batches_per_node(), kDefaultMaxBatchesPerNode),
          or_default(p.max_nonces_per_node(), kDefaultMaxNoncesPerNode),
          or_default(p.poc_retention_epochs(), kDefaultPocRetentionEpochs),
          or_default(p.inference_retention_epochs(), kDefaultInferenceRetentionEpochs)};
}

EpochParams default_params(std::string_view preset) {
  auto s = common::epochs::EpochParams::preset(preset);
  if (!s) s = common::epochs::EpochParams::preset("localnet");
  return from_stage_params(*s, kDefaultUnitOfComputePrice);
}

common::epochs::EpochParams stage_params(const EpochParams& p) {
  common::epochs::EpochParams s;
  s.epoch_length = p.epoch_length();
  s.epoch_shift = p.epoch_shift();
  s.poc_stage_duration = p.poc_stage_duration();
  s.poc_exchange_duration = p.poc_exchange_duration();
  s.poc_validation_delay = p.poc_validation_delay();
  s.poc_validation_duration = p.poc_validation_duration();
  s.model_loading_duration = p.model_loading_duration();
  s.wind_down_percent = p.wind_down_percent();
  return s;
}

common::Status validate_params(const EpochParams& p) {
  constexpr uint64_t kMaxBlocks = 100'000'000;
  for (uint64_t v : {p.epoch_length(), p.poc_stage_duration(), p.poc_exchange_duration(),
                     p.poc_validation_delay(), p.poc_validation_duration(), p.model_loading_duration()}) {
    if (v > kMaxBlocks)
      return invalid("epoch params: durations must be at most " + std::to_string(kMaxBlocks) + " blocks");
  }
  if (auto why = stage_params(p).validate(); !why.empty()) return invalid("epoch params: " + why);
  if (p.default_unit_of_compute_price() == 0 || p.default_unit_of_compute_price() > 1'000'000'000'000ULL) {
    return invalid("epoch params: default_unit_of_compute_price must be in [1, 1000000000000]");
  }
  if (p.max_nonces_per_batch() == 0 || p.max_nonces_per_batch() > 100'000) {
    return invalid("epoch params: max_nonces_per_batch must be in [1, 100000]");
  }
  if (p.max_batches_per_node() == 0 || p.max_batches_per_node() > 100'000) {
    return invalid("epoch params: max_batches_per_node must be in [1, 100000]");
  }
  if (p.max_nonces_per_node() == 0 || p.max_nonces_per_node() > 100'000'000) {
    return invalid("epoch params: max_nonces_per_node must be in [1, 100000000]");
  }
  if (p.poc_retention_epochs() == 0 || p.poc_retention_epochs() > 1000) {
    return invalid(
        "epoch params: poc_retention_epochs must be in [1, 1000] (PoC data of an epoch is needed until it "
        "is formed)");
  }
  if (p.inference_retention_epochs() == 0 || p.inference_retention_epochs() > 1000) {
    return invalid("epoch params: inference_retention_epochs must be in [1, 1000]");
  }
  return {};
}

EpochParams get_params(const store::KvReader& state) {
  auto raw = state.get(keys::kParams);
  if (!raw) return default_params();
  return parse_record<EpochParams>(*raw, "epoch params");
}

void set_params(store::KvStore& state, const EpochParams& p) {
  state.set(keys::kParams, p.SerializeAsString());
}

nlohmann::json params_to_json(const EpochParams& p) {
  return {{"epoch_length", p.epoch_length()},
          {"epoch_shift", p.epoch_shift()},
          {"poc_stage_duration", p.poc_stage_duration()},
          {"poc_exchange_duration", p.poc_exchange_duration()},
          {"poc_validation_delay", p.poc_validation_delay()},
          {"poc_validation_duration", p.poc_validation_duration()},
          {"model_loading_duration", p.model_loading_duration()},
          {"wind_down_percent", p.wind_down_percent()},
          {"default_unit_of_compute_price", p.default_unit_of_compute_price()},
          {"max_nonces_per_batch", p.max_nonces_per_batch()},
          {"max_batches_per_node", p.max_batches_per_node()},
          {"max_nonces_per_node", p.max_nonces_per_node()},
          {"poc_retention_epochs", p.poc_retention_epochs()},
          {"inference_retention_epochs", p.inference_retention_epochs()}};
}

common::Result<EpochParams> params_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return invalid("epoch params must be a JSON object");
  EpochParams p = default_params();
  for (const auto& [key, value] : j.items()) {
    uint64_t v = 0;
    if (value.is_number_unsigned()) {
      v = value.get<uint64_t>();
    } else if (value.is_string()) {
      auto parsed = parse_index(value.get<std::string>());
      if (!parsed) return invalid("epoch params: " + key + " must be a non-negative integer");
      v = *parsed;
    } else {
      return invalid("epoch params: " + key + " must be a non-negative integer");
    }
    if (key == "epoch_length")
      p.set_epoch_length(v);
    else if (key == "epoch_shift")
      p.set_epoch_shift(v);
    else if (key == "poc_stage_duration")
      p.set_poc_stage_duration(v);
    else if (key == "poc_exchange_duration")
      p.set_poc_exchange_duration(v);
    else if (key == "poc_validation_delay")
      p.set_poc_validation_delay(v);
    else if (key == "poc_validation_duration")
      p.set_poc_validation_duration(v);
    else if (key == "model_loading_duration")
      p.set_model_loading_duration(v);
    else if (key == "wind_down_percent")
      p.set_wind_down_percent(v);
    else if (key == "default_unit_of_compute_price")
      p.set_default_unit_of_compute_price(v);
    else if (key == "max_nonces_per_batch")
      p.set_max_nonces_per_batch(v);
    else if (key == "max_batches_per_node")
      p.set_max_batches_per_node(v);
    else if (key == "max_nonces_per_node")
      p.set_max_nonces_per_node(v);
    else if (key == "poc_retention_epochs")
      p.set_poc_retention_epochs(v);
    else if (key == "inference_retention_epochs")
      p.set_inference_retention_epochs(v);
    else
      return invalid("epoch params: unknown field \"" + key + "\"");
  }
  return p;
}

// ---- epochs

std::optional<Epoch> get_epoch(const store::KvReader& state, uint64_t index) {
  auto raw = state.get(keys::epoch(index));
  if (!raw) return std::nullopt;
  return parse_record<Epoch>(*raw, "epoch");
}

void set_epoch(store::KvStore& state, const Epoch& epoch) {
  state.set(keys::epoch(epoch.index()), epoch.SerializeAsString());
}

uint64_t effective_epoch_index(const store::KvReader& state) {
  auto raw = state.get(keys::kEffective);
  return raw && raw->size() == 8 ? common::get_be64(*raw) : 0;
}

std::optional<Epoch> upcoming_epoch(const store::KvReader& state) {
  return get_epoch(state, effective_epoch_index(state) + 1);
}

common::epochs::EpochStages stages_of(const Epoch& epoch) {
  if (epoch.index() == 0) {
    common::epochs::EpochStages s;
    s.next_poc_start = common::epochs::first_poc_start(stage_params(epoch.params()));
    return s;
  }
  return common::epochs::compute_stages(stage_params(epoch.params()), epoch.poc_start_height());
}

uint64_t next_poc_start(const Epoch& epoch) {
  return stages_of(epoch).next_poc_start;
}

nlohmann::json epoch_to_json(const Epoch& e) {
  return {{"index", e.index()},
          {"poc_start_height", e.poc_start_height()},
          {"params", params_to_json(e.params())},
          {"formed", e.formed()},
          {"formed_height", e.formed_height()},
          {"ready", e.ready()},
          {"effective_height", e.effective_height()},
          {"carried_over", e.carried_over()},
          {"stages", stages_to_json(stages_of(e))}};
}

std::map<std::string, int64_t> get_validator_set(const store::KvReader& state) {
  std::map<std::string, int64_t> out;
  state.scan_prefix(keys::kValidatorPrefix, [&](std::string_view key, std::string_view value) {
    if (value.size() != 8) throw std::logic_error("corrupt validator power record in state");
    out[std::string(key.substr(keys::kValidatorPrefix.size()))] =
        static_cast<int64_t>(common::get_be64(value));
    return true;
  });
  return out;
}

// ---- module

common::Status EpochsModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  EpochParams p = default_params("localnet");
  if (app_state.contains("epochs")) {
    if (auto e = common::unknown_key_error(app_state.at("epochs"), {"params"}, "app_state.epochs"))
      return invalid(*e);
  }
  if (app_state.contains("epochs") && app_state.at("epochs").contains("params")) {
    auto parsed = params_from_json(app_state.at("epochs").at("params"));
    if (!parsed) return invalid("genesis epochs: " + parsed.error().message);
    p = *parsed;
  }
  if (auto st = validate_params(p); !st) return invalid("genesis " + st.error().message);
  set_params(ctx.store(), p);
  Epoch zero;
  zero.set_index(0);
  zero.set_poc_start_height(0);
  *zero.mutable_params() = p;
  zero.set_formed(true);
  zero.set_ready(true);
  set_epoch(ctx.store(), zero);
  set_effective(ctx.store(), 0);
  return {};
}

common::Status EpochsModule::init_genesis_validators(app::Context& ctx,
                                                     const std::vector<app::GenesisValidator>& validators) {
  groups::form_genesis_group(ctx.store(), validators, ctx.hrp(),
                             get_params(ctx.reader()).default_unit_of_compute_price());
  for (const auto& v : validators) {
    if (v.power > 0 && !v.pub_key.empty())
      ctx.store().set(keys::validator(v.pub_key), common::be64(static_cast<uint64_t>(v.power)));
  }
  return {};
}

nlohmann::json EpochsModule::default_genesis(std::string_view preset) const {
  return {{"params", params_to_json(default_params(preset))}};
}

void EpochsModule::register_messages(app::MsgRouter& router) {
  router.add_typed<MsgUpdateEpochParams>(
      std::string(kMsgUpdateEpochParamsUrl),
      [](const MsgUpdateEpochParams& msg, const types::Address& signer,
         const std::string& hrp) -> common::Status {
        TRY_STATUS(gov::check_authority("MsgUpdateEpochParams", msg.authority(), signer, hrp));
        if (!msg.has_params()) return invalid("MsgUpdateEpochParams: params are missing");
        return validate_params(msg.params());
      },
      [](app::Context& ctx, const MsgUpdateEpochParams& msg, const types::Address&) -> common::Status {
        set_params(ctx.store(), msg.params());
        ctx.emit(types::Event{common::events::kEpochParamsUpdated,
                              {{"params", params_to_json(msg.params()).dump()}}});
        return {};
      });
}

void EpochsModule::register_queries(app::QueryRouter& router) {
  using app::QueryRequest;
  using Json = common::Result<nlohmann::json>;
  router.add("/inference/epoch-params", [](const QueryRequest& req) -> Json {
    return nlohmann::json{{"params", params_to_json(get_params(req.state))}};
  });
  router.add("/inference/epoch", [](const QueryRequest& req) -> Json {
    uint64_t effective = effective_epoch_index(req.state);
    auto e = get_epoch(req.state, effective);
    if (!e) return common::make_error(codes::kNotFound, "no epoch yet (chain without genesis?)");
    auto u = get_epoch(req.state, effective + 1);
    const Epoch& latest = u ? *u : *e;
    auto stages = stages_of(latest);
    // App::query passes the committed height as "height" (a caller may ask for another height's phase).
    uint64_t height = 0;
    if (auto h = req.params.find("height"); h != req.params.end()) {
      auto parsed = parse_index(h->second);
      if (!parsed) return parsed.error();
      height = *parsed;
    }
    auto phase =
        latest.index() == 0 ? common::epochs::Phase::kInference : common::epochs::phase_at(stages, height);
    nlohmann::json j = {{"epoch_index", effective},
                        {"upcoming_epoch_index", u ? nlohmann::json(u->index()) : nlohmann::json(nullptr)},
                        {"latest_epoch_index", latest.index()},
                        {"block_height", height},
                        {"phase", common::epochs::phase_name(phase)},
                        {"stages", stages_to_json(stages)},
                        {"params", params_to_json(latest.params())}};
    return j;
  });
  // The governance pricing (seed 3.7): every registered model at the unit_of_compute_price the next epoch
  // formation will use — the upcoming epoch's params once its PoC started, else the governance params. The
  // served price of the current epoch is its snapshot (/inference/epoch-groups/current), not this.
  router.add("/inference/governance/pricing", [](const QueryRequest& req) -> Json {
    uint64_t effective = effective_epoch_index(req.state);
    auto u = get_epoch(req.state, effective + 1);
    uint64_t unit = u ? u->params().default_unit_of_compute_price()
                      : get_params(req.state).default_unit_of_compute_price();
    nlohmann::json models = nlohmann::json::array();
    for (const auto& m : models::get_governance_models(req.state)) {
      auto price = types::checked_mul(m.units_of_compute_per_token(), unit);
      models.push_back(
          {{"id", m.id()},
           {"units_of_compute_per_token", m.units_of_compute_per_token()},
           {"price_per_token", price ? nlohmann::json(std::to_string(*price)) : nlohmann::json(nullptr)}});
    }
    return nlohmann::json{{"unit_of_compute_price", unit},
                          {"for_epoch_index", effective + 1},
                          {"source", u ? "upcoming_epoch_params" : "governance_params"},
                          {"models", models}};
  });
  router.add("/inference/epochs/{index}", [](const QueryRequest& req) -> Json {
    auto index = parse_index(req.param("index"));
    if (!index) return index.error();
    auto e = get_epoch(req.state, *index);
    if (!e)
      return common::make_error(codes::kNotFound,
                                "epoch " + std::to_string(*index) + " does not exist (yet)");
    return nlohmann::json{{"epoch", epoch_to_json(*e)}};
  });
}

void EpochsModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) {
  uint64_t h = ctx.height();
  uint64_t effective = effective_epoch_index(ctx.reader());
  auto current = get_epoch(ctx.reader(), effective);
  if (!current) throw std::logic_error("effective epoch " + std::to_string(effective) + " has no record");
  auto u = get_epoch(ctx.reader(), effective + 1);
  if (!u) {
    if (h < next_poc_start(*current)) return;
    Epoch next;
    next.set_index(effective + 1);
    next.set_poc_start_height(h);
    *next.mutable_params() = get_params(ctx.reader());
    set_epoch(ctx.store(), next);
    auto s = stages_of(next);
    ctx.emit(types::Event{common::events::kPocStarted,
                          {{"epoch_index", std::to_string(next.index())},
                           {"poc_start", std::to_string(s.poc_start)},
                           {"poc_exchange_end", std::to_string(s.poc_exchange_end)},
                           {"validation_end", std::to_string(s.validation_end)},
                           {"set_new_validators", std::to_string(s.set_new_validators)}}});
    return;
  }
  auto s = stages_of(*u);
  if (!u->formed() && h >= s.validation_end) form_next_epoch(ctx, *u, effective);
  if (u->formed() && !u->ready() && h >= s.model_loading_start) {
    u->set_ready(true);
    set_epoch(ctx.store(), *u);
    ctx.emit(types::Event{common::events::kNextEpochReady,
                          {{"epoch_index", std::to_string(u->index())},
                           {"set_new_validators", std::to_string(s.set_new_validators)}}});
  }
  if (u->ready() && h >= s.set_new_validators) switch_epoch(ctx, *u, validator_updates);
}

}  // namespace chain::x::epochs
