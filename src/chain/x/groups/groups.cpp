#include "chain/x/groups/groups.h"

#include <algorithm>
#include <stdexcept>

#include "chain/types/codes.h"
#include "chain/types/int128.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/nodes/registry_snapshot.h"
#include "chain/x/record.h"
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

uint64_t saturating(u128 v) {
  return v > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(v);
}

}  // namespace

void store_ml_node_info(ValidationWeight& member, std::string_view node_id, uint64_t poc_weight,
                        const models::Model* model, bool first_model) {
  auto* info = member.add_ml_nodes();
  info->set_node_id(std::string(node_id));
  info->set_poc_weight(poc_weight);
  if (model) {
    info->set_throughput(saturating(u128(poc_weight) * model->throughput_per_nonce()));
    info->add_timeslot_allocation(first_model);  // PRE_POC_SLOT
    info->add_timeslot_allocation(false);        // POC_SLOT (chosen by the pre-PoC selection)
  }
}

namespace {

// Builds the headers of one formation and, member by member, the member records: the parent record and one
// record per sub-group the member serves. Shared by build_epoch_groups (which keeps the records) and
// form_epoch_groups (which serializes them as they come, reusing the message objects).
class GroupBuilder {
 public:
  GroupBuilder(uint64_t epoch_index, uint64_t poc_start_height, uint64_t height,
               uint64_t unit_of_compute_price, const std::vector<models::Model>& models)
      : epoch_index_(epoch_index),
        poc_start_height_(poc_start_height),
        height_(height),
        unit_of_compute_price_(unit_of_compute_price) {
    out_.parent.data = header("");
    out_.sub_groups.reserve(models.size());
    for (const auto& m : models) {
      Group g{header(m.id()), {}};
      *g.data.mutable_model_snapshot() = m;
      out_.parent.data.add_sub_group_models(m.id());
      out_.sub_groups.push_back(std::move(g));
    }
    for (const auto& g : out_.sub_groups) model_ids_.push_back(g.data.model_id());
    sub_weight_.assign(models.size(), 0);
    sub_throughput_.assign(models.size(), 0);
    sub_count_.assign(models.size(), 0);
    recs_.resize(models.size());
    used_.assign(models.size(), false);
  }

  // The group index of each model of `registry` (-1: no longer a registered model).
  std::vector<int> group_indices(const nodes::RegistrySnapshot& registry) const {
    std::vector<int> out;
    out.reserve(registry.model_ids().size());
    for (const auto& id : registry.model_ids()) out.push_back(model_index(id));
    return out;
  }

  // The member's nodes are entry `index` of `registry`; `group_of` = group_indices(registry).
  // sink(model index, record): index -1 is the parent group. Records are only valid during the call.
  template <typename Sink>
  void add_member(const types::Address& address, const std::vector<weights::NodeWeight>& node_weights,
                  const nodes::RegistrySnapshot& registry, size_t index, const std::vector<int>& group_of,
                  const std::string& validator_public_key, const std::string& url, Sink&& sink) {
    pv_.Clear();
    pv_.set_member(address);
    pv_.set_validator_public_key(validator_public_key);
    pv_.set_url(url);
    std::fill(used_.begin(), used_.end(), false);
    u128 member_sum = 0;
    for (const auto& node : registry.nodes(index)) {
      uint64_t w = 0;
      for (const auto& nw : node_weights) {
        if (nw.node_id == node.local_id) {
          w = nw.poc_weight;
          break;
        }
      }
      member_sum += w;
      store_ml_node_info(pv_, node.local_id, w, nullptr, false);
      bool first = true;
      for (uint32_t model : registry.models(node)) {
        int i = group_of[model];
        if (i < 0) continue;  // removed from the registry since the node declared it
        auto idx = static_cast<size_t>(i);
        auto& sub = out_.sub_groups[idx];
        auto& rec = recs_[idx];
        if (!used_[idx]) {
          rec.Clear();
          rec.set_member(address);
          rec.set_validator_public_key(validator_public_key);
          rec.set_url(url);
          used_[idx] = true;
        }
        store_ml_node_info(rec, node.local_id, w, &sub.data.model_snapshot(), first);
        // An MLNode serves one model at a time (§7.4): it is listed in every sub-group it supports, so it can
        // be moved, but counts toward weight, capacity (total_throughput) and coverage only for its first.
        if (first) {
          rec.set_weight(saturating(u128(rec.weight()) + w));
          sub_weight_[idx] += w;
          sub_throughput_[idx] += rec.ml_nodes(rec.ml_nodes_size() - 1).throughput();
        }
        first = false;
      }
    }
    // Only registered nodes count: the participant's weight is exactly the sum of its nodes' poc_weight.
    pv_.set_weight(saturating(member_sum));
    parent_weight_ += pv_.weight();
    ++parent_count_;
    sink(-1, static_cast<const ValidationWeight&>(pv_));
    for (size_t i = 0; i < recs_.size(); ++i) {
      if (!used_[i]) continue;
      ++sub_count_[i];
      sink(static_cast<int>(i), static_cast<const ValidationWeight&>(recs_[i]));
    }
  }

  // Sets the totals and counts of the headers; the returned groups hold no members.
  FormedGroups finish() {
    u128 parent_throughput = 0;
    for (size_t i = 0; i < out_.sub_groups.size(); ++i) {
      auto& d = out_.sub_groups[i].data;
      d.set_total_weight(saturating(sub_weight_[i]));
      d.set_total_throughput(saturating(sub_throughput_[i]));
      d.set_member_count(sub_count_[i]);
      // Throughput vectors by TimeslotType: expected PRE_POC_SLOT = capacity at formation (docs/schedule.md).
      d.clear_expected_throughput_vector();
      d.add_expected_throughput_vector(d.total_throughput());
      d.add_expected_throughput_vector(0);
      d.clear_real_throughput_vector();
      d.add_real_throughput_vector(0);
      d.add_real_throughput_vector(0);
      parent_throughput += sub_throughput_[i];
    }
    out_.parent.data.set_total_weight(saturating(parent_weight_));
    out_.parent.data.set_total_throughput(saturating(parent_throughput));
    out_.parent.data.set_member_count(parent_count_);
    return std::move(out_);
  }

 private:
  EpochGroupData header(std::string_view model_id) const {
    EpochGroupData g;
    g.set_epoch_index(epoch_index_);
    g.set_model_id(std::string(model_id));
    g.set_poc_start_block_height(poc_start_height_);
    g.set_formed_height(height_);
    g.set_unit_of_compute_price(unit_of_compute_price_);
    return g;
  }
  int model_index(std::string_view id) const {
    auto it = std::lower_bound(model_ids_.begin(), model_ids_.end(), id);
    return it != model_ids_.end() && *it == id ? static_cast<int>(it - model_ids_.begin()) : -1;
  }

  uint64_t epoch_index_, poc_start_height_, height_, unit_of_compute_price_;
  FormedGroups out_;
  std::vector<std::string_view> model_ids_;  // sorted, as the models
  std::vector<u128> sub_weight_, sub_throughput_;
  std::vector<uint64_t> sub_count_;
  std::vector<ValidationWeight> recs_;  // this member's record per model (reused)
  std::vector<bool> used_;
  ValidationWeight pv_;  // this member's parent record (reused)
  u128 parent_weight_ = 0;
  uint64_t parent_count_ = 0;
};

}  // namespace

FormedGroups build_epoch_groups(const FormationInput& in) {
  GroupBuilder b(in.epoch_index, in.poc_start_height, in.height, in.unit_of_compute_price, in.models);
  std::vector<ValidationWeight> parent;
  std::vector<std::vector<ValidationWeight>> subs(in.models.size());
  parent.reserve(in.members.size());
  nodes::RegistrySnapshot registry;
  for (const auto& m : in.members) {
    registry.add_participant(m.address);
    for (const auto& n : m.nodes) registry.add_node(n);
  }
  const auto group_of = b.group_indices(registry);
  for (size_t k = 0; k < in.members.size(); ++k) {
    const auto& m = in.members[k];
    b.add_member(m.address, m.node_weights, registry, k, group_of, m.validator_public_key, m.url,
                 [&](int i, const ValidationWeight& rec) {
                   (i < 0 ? parent : subs[static_cast<size_t>(i)]).push_back(rec);
                 });
  }
  FormedGroups out = b.finish();
  out.parent.members = std::move(parent);
  for (size_t i = 0; i < subs.size(); ++i) out.sub_groups[i].members = std::move(subs[i]);
  return out;
}

void store_epoch_groups(store::KvStore& state, const FormedGroups& groups) {
  std::string key, value;
  auto write = [&](const Group& g) {
    const auto& d = g.data;
    state.set(keys::data(d.epoch_index(), d.model_id()), d.SerializeAsString());
    std::string prefix = keys::member_prefix(d.epoch_index(), d.model_id());
    for (const auto& m : g.members) {
      key.assign(prefix).append(m.member());
      value.clear();
      m.SerializeToString(&value);
      state.set(key, value);
    }
  };
  write(groups.parent);
  for (const auto& g : groups.sub_groups) write(g);
}

FormedGroups form_epoch_groups(app::Context& ctx, uint64_t epoch, uint64_t poc_start_height,
                               uint64_t unit_of_compute_price, const weights::WeightsResult& weights,
                               uint64_t previous_epoch, bool& carried_over) {
  const auto& st = ctx.reader();
  const auto registry_models = models::get_governance_models(st);
  GroupBuilder b(epoch, poc_start_height, ctx.height(), unit_of_compute_price, registry_models);
  // Member records are serialized as they are built and written once the formation is known not to be
  // carried over (the bytes are those of build_epoch_groups + store_epoch_groups). One list per group:
  // members come by ascending address, so each list is in key order, and the parent's prefix sorts before the
  // models'.
  std::vector<std::string> prefixes;
  prefixes.push_back(keys::member_prefix(epoch, ""));
  for (const auto& m : registry_models) prefixes.push_back(keys::member_prefix(epoch, m.id()));
  std::vector<store::KeyValues> pending(prefixes.size());
  pending[0].reserve(weights.accepted.size());
  // accepted, the registry and the bulk reads are all sorted by address: merged, not looked up. Members
  // whose hardware the weights result did not read (only results not computed from state) are read here.
  std::vector<types::Address> addresses, unread;
  std::vector<std::pair<const nodes::RegistrySnapshot*, size_t>> where(weights.accepted.size());
  addresses.reserve(weights.accepted.size());
  for (size_t i = 0, r = 0; i < weights.accepted.size(); ++i) {
    const auto& who = weights.accepted[i].participant;
    addresses.push_back(who);
    while (r < weights.registry.size() && weights.registry.participant(r) < who) ++r;
    if (r < weights.registry.size() && weights.registry.participant(r) == who) {
      where[i] = {&weights.registry, r};
    } else {
      where[i] = {nullptr, unread.size()};
      unread.push_back(who);
    }
  }
  const auto extra = nodes::read_registry_snapshot(st, unread);
  const auto group_of = b.group_indices(weights.registry), extra_group_of = b.group_indices(extra);
  const auto participants = nodes::get_participants(st, addresses);
  for (size_t i = 0; i < weights.accepted.size(); ++i) {
    const auto& pw = weights.accepted[i];
    const auto& participant = participants[i];
    if (!participant) continue;  // batches are only accepted from participants; never reached
    auto [registry, index] = where[i];
    const bool own = registry != nullptr;
    b.add_member(pw.participant, pw.nodes, own ? *registry : extra, index, own ? group_of : extra_group_of,
                 participant->validator_public_key(), participant->url(),
                 [&](int i, const ValidationWeight& rec) {
                   const auto g = static_cast<size_t>(i + 1);
                   auto& [key, value] = pending[g].emplace_back();
                   key.reserve(prefixes[g].size() + rec.member().size());
                   key.assign(prefixes[g]).append(rec.member());
                   rec.SerializeToString(&value);
                 });
  }
  FormedGroups formed = b.finish();
  carried_over = formed.parent.data.total_weight() == 0;
  if (carried_over) {
    // Nobody earned weight: keep the previous members (and so the validator set and gov voting power).
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
  } else {
    for (auto& records : pending) ctx.store().set_many(std::move(records));
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

void set_member(store::KvStore& state, uint64_t epoch, std::string_view model_id,
                const ValidationWeight& member) {
  state.set(keys::member(epoch, model_id, member.member()), member.SerializeAsString());
}

std::optional<EpochGroupData> get_group(const store::KvReader& state, uint64_t epoch,
                                        std::string_view model_id) {
  if (model_id.find('\0') != std::string_view::npos) return std::nullopt;
  auto raw = state.get(keys::data(epoch, model_id));
  if (!raw) return std::nullopt;
  return parse_record<EpochGroupData>(*raw, "epoch group");
}

std::vector<ValidationWeight> get_members(const store::KvReader& state, uint64_t epoch,
                                          std::string_view model_id) {
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

std::optional<ValidationWeight> get_member(const store::KvReader& state, uint64_t epoch,
                                           std::string_view model_id, const types::Address& member) {
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

std::optional<models::Model> get_epoch_model(const store::KvReader& state, uint64_t epoch,
                                             std::string_view model_id) {
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
  nlohmann::json j = {
      {"epoch_index", g.epoch_index()},
      {"model_id", g.model_id()},
      {"poc_start_block_height", g.poc_start_block_height()},
      {"formed_height", g.formed_height()},
      {"effective_block_height", g.effective_block_height()},
      {"total_weight", g.total_weight()},
      {"total_throughput", g.total_throughput()},
      {"unit_of_compute_price", g.unit_of_compute_price()},
      {"member_count", g.member_count()},
      {"sub_group_models",
       std::vector<std::string>(g.sub_group_models().begin(), g.sub_group_models().end())},
      {"validation_weights", members},
      {"expected_throughput_vector",
       std::vector<uint64_t>(g.expected_throughput_vector().begin(), g.expected_throughput_vector().end())},
      {"real_throughput_vector",
       std::vector<uint64_t>(g.real_throughput_vector().begin(), g.real_throughput_vector().end())}};
  j["model_snapshot"] =
      g.has_model_snapshot() ? models::model_to_json(g.model_snapshot()) : nlohmann::json(nullptr);
  return j;
}

namespace {

common::Result<uint64_t> parse_epoch(const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return common::make_error(
        codes::kInvalidRequest,
        "epoch must be a non-negative integer, \"current\" or \"upcoming\", got \"" + text + "\"");
  }
  return std::stoull(text);
}

common::Result<nlohmann::json> answer(const app::QueryRequest& req, uint64_t epoch,
                                      const std::string& model_id) {
  auto g = get_group_with_members(req.state, epoch, model_id);
  if (!g) {
    return common::make_error(codes::kNotFound, model_id.empty()
                                                    ? "epoch " + std::to_string(epoch) + " has no group (yet)"
                                                    : "epoch " + std::to_string(epoch) +
                                                          " has no sub-group for model \"" + model_id + "\"");
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
    return answer(req, epochs::effective_epoch_index(req.state),
                  models::decode_model_id(req.param("model_id")));
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
    if (!m)
      return common::make_error(codes::kNotFound,
                                "epoch " + std::to_string(*e) + " has no snapshot of \"" + id + "\"");
    return nlohmann::json{{"epoch_index", *e}, {"model", models::model_to_json(*m)}};
  });
}

}  // namespace chain::x::groups
