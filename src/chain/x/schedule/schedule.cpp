#include "chain/x/schedule/schedule.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "chain/types/codes.h"
#include "chain/types/int128.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/gov/authority.h"
#include "chain/x/groups/groups.h"
#include "chain/x/inference/inference.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/record.h"
#include "common/bytes.h"
#include "common/events.h"
#include "common/json_text.h"

namespace chain::x::schedule {

using types::u128;

namespace keys {
constexpr std::string_view kParams = "schedule/params";
constexpr std::string_view kSlotPrefix = "schedule/slot/";
std::string slot_epoch(uint64_t epoch) {
  return std::string(kSlotPrefix) + common::be64(epoch);
}
std::string slot(uint64_t epoch, const types::Address& participant, std::string_view node_id) {
  return slot_epoch(epoch) + participant + std::string(node_id);
}
}  // namespace keys

namespace {

bool set_vector_entry(store::KvStore& state, uint64_t epoch, std::string_view model_id, size_t slot,
                      uint64_t value, bool expected) {
  if (model_id.empty() || slot > kPocSlot) return false;
  auto g = groups::get_group(state, epoch, model_id);
  if (!g) return false;
  auto* v = expected ? g->mutable_expected_throughput_vector() : g->mutable_real_throughput_vector();
  while (v->size() < 2) v->Add(0);
  v->Set(static_cast<int>(slot), value);
  groups::set_group(state, *g);
  return true;
}

uint64_t vector_entry(const google::protobuf::RepeatedField<uint64_t>& v, size_t slot) {
  return static_cast<int>(slot) < v.size() ? v.Get(static_cast<int>(slot)) : 0;
}

common::Result<uint64_t> parse_u64(const std::string& name, const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid(name + " must be a non-negative integer, got \"" + text + "\"");
  }
  return std::stoull(text);
}

nlohmann::json params_to_json(const ScheduleParams& p) {
  return {{"inference_expiration_blocks", p.inference_expiration_blocks()},
          {"scale_preserved_weight_by_throughput", p.scale_preserved_weight_by_throughput()},
          {"poc_slot_max_capacity_bps", p.poc_slot_max_capacity_bps()},
          {"inference_validation_rate_ppm", p.inference_validation_rate_ppm()}};
}

// The effective epoch's record if the next PoC starts at `height` + 1 (and there is no upcoming epoch yet).
std::optional<epochs::Epoch> epoch_before_poc(const store::KvReader& st, uint64_t height) {
  if (epochs::upcoming_epoch(st)) return std::nullopt;
  auto current = epochs::get_epoch(st, epochs::effective_epoch_index(st));
  if (!current || epochs::next_poc_start(*current) != height + 1) return std::nullopt;
  return current;
}

void record_real_throughput(app::Context& ctx, const epochs::Epoch& upcoming) {
  uint64_t e = upcoming.index() - 1;
  auto parent = groups::get_group(ctx.reader(), e, "");
  if (!parent) return;
  for (const auto& model : parent->sub_group_models()) {
    // Only tokens of nodes holding POC_SLOT for the model count (issue 13; ARCHITECTURE §7.6-§7.7).
    uint64_t real =
        infer::sum_counters(ctx.reader(), model, upcoming.poc_start_height(), ctx.height()).poc_slot_tokens();
    if (!set_real_throughput(ctx.store(), e, model, kPocSlot, real)) continue;
    auto g = groups::get_group(ctx.reader(), e, model);
    uint64_t expected = vector_entry(g->expected_throughput_vector(), kPocSlot);
    ctx.emit(
        types::Event{common::events::kThroughputRecorded,
                     {{"epoch_index", std::to_string(e)},
                      {"model_id", model},
                      {"timeslot", "POC_SLOT"},
                      {"from", std::to_string(upcoming.poc_start_height())},
                      {"to", std::to_string(ctx.height())},
                      {"expected", std::to_string(expected)},
                      {"real", std::to_string(real)},
                      {"performance_bps", std::to_string(validate_throughput_performance(expected, real))}}});
  }
}

}  // namespace

// ---- params

ScheduleParams default_params() {
  ScheduleParams p;
  p.set_inference_expiration_blocks(20);
  p.set_scale_preserved_weight_by_throughput(false);
  p.set_poc_slot_max_capacity_bps(5000);
  return p;
}

ScheduleParams get_params(const store::KvReader& state) {
  auto raw = state.get(keys::kParams);
  if (!raw) return default_params();
  return parse_record<ScheduleParams>(*raw, "schedule params");
}

void set_params(store::KvStore& state, const ScheduleParams& p) {
  state.set(keys::kParams, p.SerializeAsString());
}

common::Status validate_params(const ScheduleParams& p) {
  if (p.inference_expiration_blocks() == 0 || p.inference_expiration_blocks() > 1'000'000) {
    return invalid("schedule params: inference_expiration_blocks must be in [1, 1000000]");
  }
  if (p.inference_validation_rate_ppm() > 1'000'000) {
    return invalid(
        "schedule params: inference_validation_rate_ppm must be at most 1000000 (every inference)");
  }
  if (p.poc_slot_max_capacity_bps() > 5000) {
    return invalid(
        "schedule params: poc_slot_max_capacity_bps must be at most 5000 (50% of a model's capacity)");
  }
  return {};
}

// ---- throughput

uint64_t measure_model_throughput_for_blocks(const store::KvReader& state, std::string_view model_id,
                                             uint64_t from, uint64_t to) {
  return infer::sum_counters(state, model_id, from, to).tokens();
}

bool set_expected_throughput(store::KvStore& state, uint64_t epoch, std::string_view model_id, size_t slot,
                             uint64_t value) {
  return set_vector_entry(state, epoch, model_id, slot, value, true);
}

bool set_real_throughput(store::KvStore& state, uint64_t epoch, std::string_view model_id, size_t slot,
                         uint64_t value) {
  return set_vector_entry(state, epoch, model_id, slot, value, false);
}

uint64_t validate_throughput_performance(uint64_t expected, uint64_t real) {
  if (expected == 0 || real >= expected) return kBps;
  return static_cast<uint64_t>(u128(real) * kBps / expected);
}

// ---- selection

SelectionResult select_poc_slots(const std::vector<SelectionModel>& models, rng::Stream& rng,
                                 uint64_t cap_bps) {
  SelectionResult out;
  std::set<std::pair<types::Address, std::string>> chosen;
  for (const auto& m : models) {
    ModelOutcome o;
    o.model_id = m.model_id;
    o.expected = m.expected;
    o.cap = static_cast<uint64_t>(u128(m.total_throughput) * std::min(cap_bps, kBps) / kBps);
    o.target = std::min(o.expected, o.cap);
    // Eligible nodes per participant, in snapshot order (queue), and the participants that still have one.
    std::vector<std::vector<const SelectionNode*>> queue(m.participants.size());
    for (size_t p = 0; p < m.participants.size(); ++p) {
      for (const auto& n : m.participants[p].nodes) {
        if (!n.pre_poc_slot || n.poc_weight == 0 || n.throughput == 0 || n.pending_change) continue;
        if (chosen.count({m.participants[p].address, n.node_id})) continue;
        queue[p].push_back(&n);
      }
    }
    std::vector<size_t> head(m.participants.size(), 0);
    while (o.selected_throughput < o.target) {
      std::vector<size_t> candidates;
      std::vector<uint64_t> weights;
      for (size_t p = 0; p < m.participants.size(); ++p) {
        if (head[p] < queue[p].size()) {
          candidates.push_back(p);
          weights.push_back(m.participants[p].weight);
        }
      }
      if (candidates.empty()) break;
      uint64_t d = rng.next();
      size_t k = rng::weighted_index(weights, d);
      if (k == rng::kNone) break;  // every remaining participant has weight 0
      size_t p = candidates[k];
      const SelectionNode& n = *queue[p][head[p]++];
      // §7.5 as written: take the node, add its throughput, stop once the target is reached. The cap bounds
      // the target, not each pick, so a lone node (or a first node larger than the target) is selected and
      // the selection exceeds the target by less than one node's throughput (docs/schedule.md).
      o.selected_throughput =
          static_cast<uint64_t>(std::min<u128>(u128(o.selected_throughput) + n.throughput, UINT64_MAX));
      ++o.selected_nodes;
      chosen.insert({m.participants[p].address, n.node_id});
      out.selected.push_back(
          {m.model_id, m.participants[p].address, n.node_id, n.throughput, n.poc_weight, d});
    }
    out.models.push_back(std::move(o));
  }
  return out;
}

SelectionResult run_pre_poc_selection(app::Context& ctx) {
  const auto& st = ctx.reader();
  uint64_t P = ctx.height() + 1;
  uint64_t e = epochs::effective_epoch_index(st);
  auto parent = groups::get_group(st, e, "");
  if (!parent || parent->sub_group_models().empty()) return {};
  auto stages = common::epochs::compute_stages(epochs::stage_params(epochs::get_params(st)), P);
  uint64_t period = stages.validation_end - stages.poc_start + 1;  // the PoC period length
  uint64_t from = P > period ? P - period : 0;
  std::vector<std::string> model_ids(parent->sub_group_models().begin(), parent->sub_group_models().end());

  // Snapshot of every (participant, node): its models in this epoch and the one where PRE_POC_SLOT is true.
  struct NodeSnapshot {
    std::set<std::string> models;
    std::string first_model;
  };
  std::map<std::pair<types::Address, std::string>, NodeSnapshot> snapshot;
  std::vector<std::vector<groups::ValidationWeight>> members(model_ids.size());
  for (size_t i = 0; i < model_ids.size(); ++i) {
    members[i] = groups::get_members(st, e, model_ids[i]);
    for (const auto& m : members[i]) {
      for (const auto& n : m.ml_nodes()) {
        auto& s = snapshot[{m.member(), n.node_id()}];
        s.models.insert(model_ids[i]);
        if (n.timeslot_allocation_size() > 0 && n.timeslot_allocation(0)) s.first_model = model_ids[i];
      }
    }
  }
  std::set<std::string> epoch_models(model_ids.begin(), model_ids.end());
  // The node's registry record (nullopt: removed since formation, a pending change).
  auto pending_change = [&](const types::Address& who, const std::string& node_id,
                            const std::optional<nodes::HardwareNode>& hw) {
    if (!hw) return true;
    std::set<std::string> now;
    std::string first;
    for (const auto& id : hw->models()) {
      if (!epoch_models.count(id)) continue;
      if (first.empty()) first = id;
      now.insert(id);
    }
    const auto& s = snapshot[{who, node_id}];
    return now != s.models || first != s.first_model;
  };

  std::vector<SelectionModel> input;
  auto params = get_params(st);
  for (size_t i = 0; i < model_ids.size(); ++i) {
    auto g = groups::get_group(st, e, model_ids[i]);
    if (!g) continue;
    SelectionModel sm;
    sm.model_id = model_ids[i];
    sm.total_throughput = g->total_throughput();
    sm.expected = measure_model_throughput_for_blocks(st, model_ids[i], from, ctx.height());
    for (const auto& m : members[i]) {
      SelectionParticipant p;
      p.address = m.member();
      p.weight = groups::member_weight(st, e, m.member());
      std::vector<std::pair<uint64_t, SelectionNode>> ordered;  // (added_seq, node)
      for (const auto& n : m.ml_nodes()) {
        SelectionNode sn;
        sn.node_id = n.node_id();
        sn.throughput = n.throughput();
        sn.poc_weight = n.poc_weight();
        sn.pre_poc_slot = n.timeslot_allocation_size() > 0 && n.timeslot_allocation(0);
        uint64_t seq = UINT64_MAX;  // ineligible nodes go last; their order does not matter
        if (sn.pre_poc_slot) {
          auto hw = nodes::get_hardware_node(st, m.member(), n.node_id());
          sn.pending_change = pending_change(m.member(), n.node_id(), hw);
          if (hw) seq = hw->added_seq();
        }
        ordered.emplace_back(seq, std::move(sn));
      }
      // The order the participant added its nodes (§7.5); equal sequence numbers (records from before the
      // field existed) by local id.
      std::stable_sort(ordered.begin(), ordered.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [_, sn] : ordered) p.nodes.push_back(std::move(sn));
      sm.participants.push_back(std::move(p));
    }
    input.push_back(std::move(sm));
  }
  rng::Stream stream(
      rng::seed(kSelectionDomain, ctx.block().chain_id, ctx.height(), ctx.block().last_block_hash));
  auto result = select_poc_slots(input, stream, params.poc_slot_max_capacity_bps());

  // Record: POC_SLOT in the member records of the current epoch, the index, the vectors, events.
  for (const auto& s : result.selected) {
    auto member = groups::get_member(st, e, s.model_id, s.participant);
    if (!member) throw std::logic_error("pre-PoC selection: selected member vanished");
    for (auto& n : *member->mutable_ml_nodes()) {
      if (n.node_id() != s.node_id) continue;
      while (n.timeslot_allocation_size() < 2) n.add_timeslot_allocation(false);
      n.set_timeslot_allocation(static_cast<int>(kPocSlot), true);
    }
    groups::set_member(ctx.store(), e, s.model_id, *member);
    PocSlot slot;
    slot.set_participant(s.participant);
    slot.set_node_id(s.node_id);
    slot.set_model_id(s.model_id);
    slot.set_poc_weight(s.poc_weight);
    slot.set_throughput(s.throughput);
    slot.set_selected_height(ctx.height());
    ctx.store().set(keys::slot(e, s.participant, s.node_id), slot.SerializeAsString());
    ctx.emit(types::Event{common::events::kPocSlotSelected,
                          {{"epoch_index", std::to_string(e)},
                           {"model_id", s.model_id},
                           {"participant", types::to_bech32(ctx.hrp(), s.participant)},
                           {"node_id", s.node_id},
                           {"throughput", std::to_string(s.throughput)},
                           {"poc_weight", std::to_string(s.poc_weight)},
                           {"draw", std::to_string(s.draw)}}});
  }
  for (size_t i = 0; i < result.models.size(); ++i) {
    const auto& o = result.models[i];
    auto g = groups::get_group(st, e, o.model_id);
    uint64_t real_pre =
        measure_model_throughput_for_blocks(st, o.model_id, g->effective_block_height(), ctx.height());
    set_expected_throughput(ctx.store(), e, o.model_id, kPocSlot, o.expected);
    set_real_throughput(ctx.store(), e, o.model_id, kPrePocSlot, real_pre);
    ctx.emit(types::Event{common::events::kThroughputExpected,
                          {{"epoch_index", std::to_string(e)},
                           {"model_id", o.model_id},
                           {"from", std::to_string(from)},
                           {"to", std::to_string(ctx.height())},
                           {"expected", std::to_string(o.expected)},
                           {"cap", std::to_string(o.cap)},
                           {"target", std::to_string(o.target)},
                           {"selected_throughput", std::to_string(o.selected_throughput)},
                           {"selected_nodes", std::to_string(o.selected_nodes)},
                           {"real_pre_poc", std::to_string(real_pre)}}});
  }
  return result;
}

// ---- index

std::optional<PocSlot> get_poc_slot(const store::KvReader& state, uint64_t epoch,
                                    const types::Address& participant, std::string_view node_id) {
  auto raw = state.get(keys::slot(epoch, participant, node_id));
  if (!raw) return std::nullopt;
  return parse_record<PocSlot>(*raw, "POC_SLOT");
}

std::vector<PocSlot> preserved_nodes(const store::KvReader& state, uint64_t epoch) {
  std::vector<PocSlot> out;
  state.scan_prefix(keys::slot_epoch(epoch), [&](std::string_view, std::string_view value) {
    out.push_back(parse_record<PocSlot>(value, "POC_SLOT"));
    return true;
  });
  if (!get_params(state).scale_preserved_weight_by_throughput()) return out;
  std::map<std::string, uint64_t> bps;
  for (auto& s : out) {
    auto it = bps.find(s.model_id());
    if (it == bps.end()) {
      auto g = groups::get_group(state, epoch, s.model_id());
      uint64_t v =
          g ? validate_throughput_performance(vector_entry(g->expected_throughput_vector(), kPocSlot),
                                              vector_entry(g->real_throughput_vector(), kPocSlot))
            : kBps;
      it = bps.emplace(s.model_id(), v).first;
    }
    s.set_poc_weight(static_cast<uint64_t>(u128(s.poc_weight()) * it->second / kBps));
  }
  return out;
}

// ---- module

common::Status ScheduleModule::init_genesis(app::Context& ctx, const nlohmann::json& app_state) {
  ScheduleParams p = default_params();
  if (app_state.contains("schedule")) {
    // Unknown keys are errors, not silently kept defaults (issue 13 fault 11).
    if (auto e = common::unknown_key_error(app_state.at("schedule"), {"params"}, "app_state.schedule")) return invalid(*e);
  }
  if (app_state.contains("schedule") && app_state.at("schedule").contains("params")) {
    const auto& j = app_state.at("schedule").at("params");
    if (!j.is_object()) return invalid("app_state.schedule.params must be an object");
    if (auto e = common::unknown_key_error(j, params_to_json(default_params()), "app_state.schedule.params")) {
      return invalid(*e);
    }
    if (j.contains("inference_expiration_blocks"))
      p.set_inference_expiration_blocks(j.at("inference_expiration_blocks").get<uint64_t>());
    if (j.contains("scale_preserved_weight_by_throughput")) {
      p.set_scale_preserved_weight_by_throughput(j.at("scale_preserved_weight_by_throughput").get<bool>());
    }
    if (j.contains("poc_slot_max_capacity_bps"))
      p.set_poc_slot_max_capacity_bps(j.at("poc_slot_max_capacity_bps").get<uint64_t>());
    if (j.contains("inference_validation_rate_ppm"))
      p.set_inference_validation_rate_ppm(j.at("inference_validation_rate_ppm").get<uint64_t>());
  }
  if (auto st = validate_params(p); !st) return invalid("genesis " + st.error().message);
  set_params(ctx.store(), p);
  return {};
}

nlohmann::json ScheduleModule::default_genesis(std::string_view preset) const {
  ScheduleParams p = default_params();
  // A local network shows inference validation at work (docs/inference-validation.md): one finished inference
  // in five is sampled and re-run by another participant's dapi. Other presets start with validation off.
  if (preset == "localnet") p.set_inference_validation_rate_ppm(200'000);
  return {{"params", params_to_json(p)}};
}

void ScheduleModule::register_messages(app::MsgRouter& router) {
  router.add_typed<MsgUpdateScheduleParams>(
      std::string(kMsgUpdateScheduleParamsUrl),
      [](const MsgUpdateScheduleParams& msg, const types::Address& signer,
         const std::string& hrp) -> common::Status {
        TRY_STATUS(gov::check_authority("MsgUpdateScheduleParams", msg.authority(), signer, hrp));
        if (!msg.has_params()) return invalid("MsgUpdateScheduleParams: params are missing");
        return validate_params(msg.params());
      },
      [](app::Context& ctx, const MsgUpdateScheduleParams& msg, const types::Address&) -> common::Status {
        set_params(ctx.store(), msg.params());
        ctx.emit(types::Event{common::events::kScheduleParamsUpdated, {{"params", params_to_json(msg.params()).dump()}}});
        return {};
      });
}

void ScheduleModule::register_queries(app::QueryRouter& router) {
  using app::QueryRequest;
  using Json = common::Result<nlohmann::json>;
  router.add("/inference/schedule-params", [](const QueryRequest& req) -> Json {
    return nlohmann::json{{"params", params_to_json(get_params(req.state))}};
  });
  router.add("/inference/throughput/{model_id...}", [](const QueryRequest& req) -> Json {
    std::string model = models::decode_model_id(req.param("model_id"));
    auto from = parse_u64("from", req.param("from", "0"));
    if (!from) return from.error();
    auto to = parse_u64("to", req.param("to", req.param("height", "0")));
    if (!to) return to.error();
    return nlohmann::json{{"model", model},
                          {"from", *from},
                          {"to", *to},
                          {"tokens", measure_model_throughput_for_blocks(req.state, model, *from, *to)}};
  });
  router.add("/inference/poc-slots/{epoch}", [](const QueryRequest& req) -> Json {
    auto e = parse_u64("epoch", req.param("epoch"));
    if (!e) return e.error();
    nlohmann::json slots = nlohmann::json::array();
    req.state.scan_prefix(keys::slot_epoch(*e), [&](std::string_view, std::string_view value) {
      auto s = parse_record<PocSlot>(value, "POC_SLOT");
      slots.push_back({{"participant", types::to_bech32(req.hrp, s.participant())},
                       {"node_id", s.node_id()},
                       {"model_id", s.model_id()},
                       {"poc_weight", s.poc_weight()},
                       {"throughput", s.throughput()},
                       {"selected_height", s.selected_height()}});
      return true;
    });
    return nlohmann::json{{"epoch_index", *e}, {"poc_slots", slots}};
  });
  // Executor for a model: weighted by the participant's weight in the model sub-group of the effective epoch;
  // from the start of PoC to the end of the epoch only among POC_SLOT nodes. Deterministic for (seed,
  // height).
  router.add("/inference/executor", [](const QueryRequest& req) -> Json {
    std::string model = req.param("model");
    if (model.empty()) return invalid("executor: the model query parameter is required (?model=ID)");
    auto height = parse_u64("height", req.param("height", "0"));
    if (!height) return height.error();
    uint64_t e = epochs::effective_epoch_index(req.state);
    auto g = groups::get_group(req.state, e, model);
    if (!g)
      return common::make_error(codes::kNotFound, "executor: model \"" + model +
                                                      "\" has no sub-group in epoch " + std::to_string(e));
    bool poc_only = epochs::upcoming_epoch(req.state).has_value();
    struct Choice {
      types::Address participant;
      std::string url;
      std::vector<std::string> nodes;
      std::vector<uint64_t> node_weights;
    };
    std::vector<Choice> choices;
    std::vector<uint64_t> weights;
    for (const auto& m : groups::get_members(req.state, e, model)) {
      Choice c{m.member(), m.url(), {}, {}};
      for (const auto& n : m.ml_nodes()) {
        // Outside PoC a node serves only its first model (PRE_POC_SLOT, §7.4); during PoC only POC_SLOT
        // nodes.
        size_t need = poc_only ? kPocSlot : kPrePocSlot;
        bool slot = n.timeslot_allocation_size() > static_cast<int>(need) &&
                    n.timeslot_allocation(static_cast<int>(need));
        if (!slot) continue;
        c.nodes.push_back(n.node_id());
        c.node_weights.push_back(std::max<uint64_t>(1, n.poc_weight()));
      }
      if (c.nodes.empty() || m.weight() == 0) continue;
      weights.push_back(m.weight());
      choices.push_back(std::move(c));
    }
    if (choices.empty()) {
      return common::make_error(
          codes::kNotFound, std::string("executor: no eligible node for model \"") + model + "\" in epoch " +
                                std::to_string(e) +
                                (poc_only ? " (during PoC only POC_SLOT nodes serve)" : ""));
    }
    std::string seed_text = req.param("seed", "height:" + std::to_string(*height));
    rng::Stream stream(rng::seed(kExecutorDomain, model, e, seed_text));
    uint64_t d0 = stream.next(), d1 = stream.next();
    const auto& c = choices[rng::weighted_index(weights, d0)];
    const auto& node = c.nodes[rng::weighted_index(c.node_weights, d1)];
    auto participant = nodes::get_participant(req.state, c.participant);
    return nlohmann::json{{"model", model},
                          {"epoch_index", e},
                          {"poc_slot_only", poc_only},
                          {"participant", types::to_bech32(req.hrp, c.participant)},
                          {"node_id", node},
                          {"url", participant ? participant->url() : c.url},
                          {"seed", seed_text},
                          {"candidates", choices.size()}};
  });
}

void ScheduleModule::end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>&) {
  const auto& st = ctx.reader();
  if (auto u = epochs::upcoming_epoch(st)) {
    if (!u->formed() && ctx.height() == epochs::stages_of(*u).validation_end) record_real_throughput(ctx, *u);
    return;
  }
  if (epoch_before_poc(st, ctx.height())) run_pre_poc_selection(ctx);
}

}  // namespace chain::x::schedule
