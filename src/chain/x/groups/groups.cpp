#include "chain/x/groups/groups.h"

#include <algorithm>
#include <stdexcept>

#include "chain/types/codes.h"
#include "chain/types/int128.h"
#include "chain/x/epochs/epochs.h"
#include "common/bytes.h"

namespace chain::x::groups {

using types::u128;

namespace keys {
constexpr std::string_view kDataPrefix = "groups/data/";
constexpr std::string_view kMemberPrefix = "groups/member/";
// Model ids are non-empty and never contain NUL: the parent ("") and every model have disjoint key ranges.
std::string data(uint64_t epoch, std::string_view model_id) {
  return std::string(kDataPrefix) + common::be64(epoch) + std::string(model_id);
}
std::string member_prefix(uint64_t epoch, std::string_view model_id) {
  return std::string(kMemberPrefix) + common::be64(epoch) + std::string(model_id) + std::string(1, '\0');
}
std::string member(uint64_t epoch, std::string_view model_id, const types::Address& a) {
  return member_prefix(epoch, model_id) + a;
}
}  // namespace keys

namespace {

template <typename Msg>
Msg parse_record(std::string_view bytes, const char* what) {
  Msg m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw std::logic_error(std::string("corrupt ") + what + " record in state");
  }
  return m;
}

uint64_t saturating(u128 v) {
  return v > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(v);
}

}  // namespace

void store_ml_node_info(ValidationWeight& member, const nodes::HardwareNode& node, uint64_t poc_weight,
                        const models::Model* model, bool first_model) {
  auto* info = member.add_ml_nodes();
  info->set_node_id(node.local_id());
  info->set_poc_weight(poc_weight);
  if (model) {
    info->set_throughput(saturating(u128(poc_weight) * model->throughput_per_nonce()));
    info->add_timeslot_allocation(first_model);  // PRE_POC_SLOT
    info->add_timeslot_allocation(false);        // POC_SLOT (chosen by the pre-PoC selection)
  }
}

FormedGroups build_epoch_groups(const FormationInput& in) {
  FormedGroups out;
  auto header = [&](std::string_view model_id) {
    EpochGroupData g;
    g.set_epoch_index(in.epoch_index);
    g.set_model_id(std::string(model_id));
    g.set_poc_start_block_height(in.poc_start_height);
    g.set_formed_height(in.height);
    g.set_unit_of_compute_price(in.unit_of_compute_price);
    return g;
  };
  out.parent.data = header("");
  out.sub_groups.reserve(in.models.size());
  std::vector<std::string_view> model_ids;  // sorted, as in.models
  for (const auto& m : in.models) {
    Group g{header(m.id()), {}};
    *g.data.mutable_model_snapshot() = m;
    out.parent.data.add_sub_group_models(m.id());
    out.sub_groups.push_back(std::move(g));
    model_ids.push_back(m.id());
  }
  auto model_index = [&](std::string_view id) -> int {
    auto it = std::lower_bound(model_ids.begin(), model_ids.end(), id);
    return it != model_ids.end() && *it == id ? static_cast<int>(it - model_ids.begin()) : -1;
  };
  std::vector<u128> sub_weight(in.models.size(), 0), sub_throughput(in.models.size(), 0);
  std::vector<ValidationWeight*> current(in.models.size(), nullptr);  // this member's record per model
  u128 parent_weight = 0;
  out.parent.members.reserve(in.members.size());
  for (const auto& m : in.members) {
    ValidationWeight pv;
    pv.set_member(m.address);
    pv.set_validator_public_key(m.validator_public_key);
    pv.set_url(m.url);
    std::fill(current.begin(), current.end(), nullptr);
    u128 member_sum = 0;
    for (const auto& node : m.nodes) {
      uint64_t w = 0;
      for (const auto& nw : m.node_weights) {
        if (nw.node_id == node.local_id()) {
          w = nw.poc_weight;
          break;
        }
      }
      member_sum += w;
      store_ml_node_info(pv, node, w, nullptr, false);
      bool first = true;
      for (const auto& model_id : node.models()) {
        int i = model_index(model_id);
        if (i < 0) continue;  // removed from the registry since the node declared it
        auto& sub = out.sub_groups[static_cast<size_t>(i)];
        if (!current[static_cast<size_t>(i)]) {
          sub.members.emplace_back();
          auto& rec = sub.members.back();
          rec.set_member(m.address);
          rec.set_validator_public_key(m.validator_public_key);
          rec.set_url(m.url);
          current[static_cast<size_t>(i)] = &rec;
        }
        auto& rec = *current[static_cast<size_t>(i)];
        store_ml_node_info(rec, node, w, &sub.data.model_snapshot(), first);
        first = false;
        rec.set_weight(saturating(u128(rec.weight()) + w));
        sub_weight[static_cast<size_t>(i)] += w;
        sub_throughput[static_cast<size_t>(i)] += rec.ml_nodes(rec.ml_nodes_size() - 1).throughput();
      }
    }
    // Only registered nodes count: the participant's weight is exactly the sum of its nodes' poc_weight.
    pv.set_weight(saturating(member_sum));
    parent_weight += pv.weight();
    out.parent.members.push_back(std::move(pv));
  }
  u128 parent_throughput = 0;
  for (size_t i = 0; i < out.sub_groups.size(); ++i) {
    auto& d = out.sub_groups[i].data;
    d.set_total_weight(saturating(sub_weight[i]));
    d.set_total_throughput(saturating(sub_throughput[i]));
    d.set_member_count(out.sub_groups[i].members.size());
    // Throughput vectors by TimeslotType: expected PRE_POC_SLOT = capacity at formation (docs/schedule.md).
    d.clear_expected_throughput_vector();
    d.add_expected_throughput_vector(d.total_throughput());
    d.add_expected_throughput_vector(0);
    d.clear_real_throughput_vector();
    d.add_real_throughput_vector(0);
    d.add_real_throughput_vector(0);
    parent_throughput += sub_throughput[i];
  }
  out.parent.data.set_total_weight(saturating(parent_weight));
  out.parent.data.set_total_throughput(saturating(parent_throughput));
  out.parent.data.set_member_count(out.parent.members.size());
  return out;
}

void store_epoch_groups(store::KvStore& state, const FormedGroups& groups) {
  auto write = [&](const Group& g) {
    const auto& d = g.data;
    state.set(keys::data(d.epoch_index(), d.model_id()), d.SerializeAsString());
    std::string prefix = keys::member_prefix(d.epoch_index(), d.model_id());
    std::string key;
    for (const auto& m : g.members) {
      key.assign(prefix).append(m.member());
      state.set(key, m.SerializeAsString());
    }
  };
  write(groups.parent);
  for (const auto& g : groups.sub_groups) write(g);
}

FormedGroups form_epoch_groups(app::Context& ctx, uint64_t epoch, uint64_t poc_start_height,
                               uint64_t unit_of_compute_price, const weights::WeightsResult& weights,
                               uint64_t previous_epoch, bool& carried_over) {
  const auto& st = ctx.reader();
  FormationInput in;
  in.epoch_index = epoch;
  in.poc_start_height = poc_start_height;
  in.height = ctx.height();
  in.unit_of_compute_price = unit_of_compute_price;
  in.models = models::get_governance_models(st);
  in.members.reserve(weights.accepted.size());
  for (const auto& pw : weights.accepted) {
    auto participant = nodes::get_participant(st, pw.participant);
    if (!participant) continue;  // batches are only accepted from participants; never reached
    FormationMember m;
    m.address = pw.participant;
    m.weight = pw.weight;
    m.node_weights = pw.nodes;
    m.nodes = nodes::get_hardware_nodes(st, pw.participant);
    m.validator_public_key = participant->validator_public_key();
    m.url = participant->url();
    in.members.push_back(std::move(m));
  }
  FormedGroups formed = build_epoch_groups(in);
  carried_over = formed.parent.data.total_weight() == 0;
  if (carried_over) {
    // Nobody earned weight: keep the previous members (and so the validator set and gov voting power).
    formed.parent.members.clear();
    u128 total = 0;
    for (auto m : get_members(st, previous_epoch, "")) {
      m.clear_ml_nodes();
      total += m.weight();
      formed.parent.members.push_back(std::move(m));
    }
    formed.parent.data.set_total_weight(saturating(total));
    formed.parent.data.set_member_count(formed.parent.members.size());
    for (auto& g : formed.sub_groups) {
      g.members.clear();
      g.data.set_total_weight(0);
      g.data.set_total_throughput(0);
      g.data.set_member_count(0);
      g.data.set_expected_throughput_vector(0, 0);
    }
    formed.parent.data.set_total_throughput(0);
  }
  store_epoch_groups(ctx.store(), formed);
  return formed;
}

void form_genesis_group(store::KvStore& state, const std::vector<app::GenesisValidator>& validators,
                        const std::string& hrp, uint64_t unit_of_compute_price) {
  std::map<types::Address, ValidationWeight> members;
  for (const auto& v : validators) {
    if (v.operator_address.empty() || v.power <= 0) continue;
    auto a = types::parse_address(hrp, v.operator_address);
    if (!a) continue;  // gov's genesis check reports it
    auto& m = members[*a];
    m.set_member(*a);
    m.set_weight(saturating(u128(m.weight()) + static_cast<uint64_t>(v.power)));
    if (m.validator_public_key().empty()) m.set_validator_public_key(v.pub_key);
  }
  FormedGroups g;
  g.parent.data.set_epoch_index(0);
  g.parent.data.set_unit_of_compute_price(unit_of_compute_price);
  u128 total = 0;
  for (auto& [_, m] : members) {
    total += m.weight();
    g.parent.members.push_back(std::move(m));
  }
  g.parent.data.set_total_weight(saturating(total));
  g.parent.data.set_member_count(g.parent.members.size());
  store_epoch_groups(state, g);
}

void set_effective_height(store::KvStore& state, uint64_t epoch, uint64_t height) {
  auto parent = get_group(state, epoch, "");
  if (!parent) throw std::logic_error("epoch " + std::to_string(epoch) + " has no parent group");
  std::vector<std::string> ids(parent->sub_group_models().begin(), parent->sub_group_models().end());
  ids.insert(ids.begin(), "");
  for (const auto& id : ids) {
    auto g = id.empty() ? *parent : get_group(state, epoch, id);
    if (!g) throw std::logic_error("epoch " + std::to_string(epoch) + " has no sub-group " + id);
    g->set_effective_block_height(height);
    state.set(keys::data(epoch, id), g->SerializeAsString());
  }
}

void set_group(store::KvStore& state, const EpochGroupData& header) {
  EpochGroupData h = header;
  h.clear_validation_weights();
  state.set(keys::data(h.epoch_index(), h.model_id()), h.SerializeAsString());
}

void set_member(store::KvStore& state, uint64_t epoch, std::string_view model_id, const ValidationWeight& member) {
  state.set(keys::member(epoch, model_id, member.member()), member.SerializeAsString());
}

std::optional<EpochGroupData> get_group(const store::KvReader& state, uint64_t epoch, std::string_view model_id) {
  if (model_id.find('\0') != std::string_view::npos) return std::nullopt;
  auto raw = state.get(keys::data(epoch, model_id));
  if (!raw) return std::nullopt;
  return parse_record<EpochGroupData>(*raw, "epoch group");
}

std::vector<ValidationWeight> get_members(const store::KvReader& state, uint64_t epoch, std::string_view model_id) {
  std::vector<ValidationWeight> out;
  if (model_id.find('\0') != std::string_view::npos) return out;
  state.scan_prefix(keys::member_prefix(epoch, model_id), [&](std::string_view, std::string_view value) {
    out.push_back(parse_record<ValidationWeight>(value, "epoch group member"));
    return true;
  });
  return out;
}

std::optional<EpochGroupData> get_group_with_members(const store::KvReader& state, uint64_t epoch,
                                                     std::string_view model_id) {
  auto g = get_group(state, epoch, model_id);
  if (!g) return g;
  for (auto& m : get_members(state, epoch, model_id)) *g->add_validation_weights() = std::move(m);
  return g;
}

std::optional<ValidationWeight> get_member(const store::KvReader& state, uint64_t epoch, std::string_view model_id,
                                           const types::Address& member) {
  if (model_id.find('\0') != std::string_view::npos) return std::nullopt;
  auto raw = state.get(keys::member(epoch, model_id, member));
  if (!raw) return std::nullopt;
  return parse_record<ValidationWeight>(*raw, "epoch group member");
}

uint64_t member_weight(const store::KvReader& state, uint64_t epoch, const types::Address& member) {
  auto m = get_member(state, epoch, "", member);
  return m ? m->weight() : 0;
}

uint64_t total_weight(const store::KvReader& state, uint64_t epoch) {
  auto g = get_group(state, epoch, "");
  return g ? g->total_weight() : 0;
}

std::optional<models::Model> get_epoch_model(const store::KvReader& state, uint64_t epoch, std::string_view model_id) {
  if (model_id.empty()) return std::nullopt;
  auto g = get_group(state, epoch, model_id);
  if (!g || !g->has_model_snapshot()) return std::nullopt;
  return g->model_snapshot();
}

nlohmann::json group_to_json(const EpochGroupData& g, const std::string& hrp) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : g.validation_weights()) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : m.ml_nodes()) {
      nodes.push_back({{"node_id", n.node_id()},
                       {"throughput", n.throughput()},
                       {"poc_weight", n.poc_weight()},
                       {"timeslot_allocation",
                        std::vector<bool>(n.timeslot_allocation().begin(), n.timeslot_allocation().end())}});
    }
    members.push_back({{"member_address", types::to_bech32(hrp, m.member())},
                       {"weight", m.weight()},
                       {"reputation", m.reputation()},
                       {"validator_public_key", common::to_base64(m.validator_public_key())},
                       {"url", m.url()},
                       {"ml_nodes", nodes}});
  }
  nlohmann::json j = {{"epoch_index", g.epoch_index()},
                      {"model_id", g.model_id()},
                      {"poc_start_block_height", g.poc_start_block_height()},
                      {"formed_height", g.formed_height()},
                      {"effective_block_height", g.effective_block_height()},
                      {"total_weight", g.total_weight()},
                      {"total_throughput", g.total_throughput()},
                      {"unit_of_compute_price", g.unit_of_compute_price()},
                      {"member_count", g.member_count()},
                      {"sub_group_models", std::vector<std::string>(g.sub_group_models().begin(),
                                                                    g.sub_group_models().end())},
                      {"validation_weights", members},
                      {"expected_throughput_vector", std::vector<uint64_t>(g.expected_throughput_vector().begin(),
                                                                           g.expected_throughput_vector().end())},
                      {"real_throughput_vector", std::vector<uint64_t>(g.real_throughput_vector().begin(),
                                                                       g.real_throughput_vector().end())}};
  j["model_snapshot"] = g.has_model_snapshot() ? models::model_to_json(g.model_snapshot()) : nlohmann::json(nullptr);
  return j;
}

namespace {

common::Result<uint64_t> parse_epoch(const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return common::make_error(codes::kInvalidRequest,
                              "epoch must be a non-negative integer, \"current\" or \"upcoming\", got \"" + text + "\"");
  }
  return std::stoull(text);
}

common::Result<nlohmann::json> answer(const app::QueryRequest& req, uint64_t epoch, const std::string& model_id) {
  auto g = get_group_with_members(req.state, epoch, model_id);
  if (!g) {
    return common::make_error(codes::kNotFound,
                              model_id.empty() ? "epoch " + std::to_string(epoch) + " has no group (yet)"
                                               : "epoch " + std::to_string(epoch) + " has no sub-group for model \"" +
                                                     model_id + "\"");
  }
  return nlohmann::json{{"epoch_group", group_to_json(*g, req.hrp)}};
}

// The upcoming epoch once it is formed, or an error saying when it forms.
common::Result<uint64_t> upcoming_index(const store::KvReader& state) {
  auto u = epochs::upcoming_epoch(state);
  if (!u) {
    auto e = epochs::get_epoch(state, epochs::effective_epoch_index(state));
    return common::make_error(codes::kNotFound, "no upcoming epoch: the next PoC starts at height " +
                                                    std::to_string(e ? epochs::next_poc_start(*e) : 0));
  }
  if (!u->formed()) {
    return common::make_error(codes::kNotFound, "upcoming epoch " + std::to_string(u->index()) +
                                                    " is not formed yet; it forms at height " +
                                                    std::to_string(epochs::stages_of(*u).validation_end));
  }
  return u->index();
}

}  // namespace

void GroupsModule::register_queries(app::QueryRouter& router) {
  using app::QueryRequest;
  using Json = common::Result<nlohmann::json>;
  // Literal routes first: the router tries routes of the same shape in registration order.
  router.add("/inference/epoch-groups/current", [](const QueryRequest& req) -> Json {
    return answer(req, epochs::effective_epoch_index(req.state), "");
  });
  router.add("/inference/epoch-groups/upcoming", [](const QueryRequest& req) -> Json {
    auto u = upcoming_index(req.state);
    if (!u) return u.error();
    return answer(req, *u, "");
  });
  router.add("/inference/epoch-groups/{epoch}", [](const QueryRequest& req) -> Json {
    auto e = parse_epoch(req.param("epoch"));
    if (!e) return e.error();
    return answer(req, *e, "");
  });
  router.add("/inference/epoch-groups/current/{model_id...}", [](const QueryRequest& req) -> Json {
    return answer(req, epochs::effective_epoch_index(req.state), models::decode_model_id(req.param("model_id")));
  });
  router.add("/inference/epoch-groups/upcoming/{model_id...}", [](const QueryRequest& req) -> Json {
    auto u = upcoming_index(req.state);
    if (!u) return u.error();
    return answer(req, *u, models::decode_model_id(req.param("model_id")));
  });
  router.add("/inference/epoch-groups/{epoch}/{model_id...}", [](const QueryRequest& req) -> Json {
    auto e = parse_epoch(req.param("epoch"));
    if (!e) return e.error();
    return answer(req, *e, models::decode_model_id(req.param("model_id")));
  });
  router.add("/inference/epoch-models/{epoch}/{model_id...}", [](const QueryRequest& req) -> Json {
    auto e = parse_epoch(req.param("epoch"));
    if (!e) return e.error();
    std::string id = models::decode_model_id(req.param("model_id"));
    auto m = get_epoch_model(req.state, *e, id);
    if (!m) return common::make_error(codes::kNotFound, "epoch " + std::to_string(*e) + " has no snapshot of \"" + id + "\"");
    return nlohmann::json{{"epoch_index", *e}, {"model", models::model_to_json(*m)}};
  });
}

}  // namespace chain::x::groups
