#include "chain/x/weights/weights.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <queue>
#include <stdexcept>

#include "chain/x/groups/groups.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "chain/x/schedule/schedule.h"

namespace chain::x::weights {

using types::u128;

namespace {

void calculate_node_weight_in_place(std::vector<uint64_t>& nonces) {
  std::sort(nonces.begin(), nonces.end());
  nonces.erase(std::unique(nonces.begin(), nonces.end()), nonces.end());
}

bool by_node_id(const NodeWeight& a, const NodeWeight& b) {
  return a.node_id < b.node_id;
}

// A candidate whose nodes' distinct nonces are already counted: what the decision needs, without the nonces.
struct Counted {
  types::Address participant;
  std::vector<NodeWeight> mined;  // one entry per node id
  std::vector<Verdict> verdicts;
};

// Acceptance by verdicts and the participant weights; `counted` in any order, one entry per participant.
WeightsResult decide(const std::map<types::Address, uint64_t>& validator_weights,
                     std::vector<Counted>& counted, const PreservedWeights& preserved_weights) {
  WeightsResult out;
  auto by_participant = [](const Counted& a, const Counted& b) { return a.participant < b.participant; };
  std::sort(counted.begin(), counted.end(), by_participant);
  if (!preserved_weights.empty()) {
    // Participants with preserved nodes but no batches become candidates too.
    size_t n = counted.size();
    for (const auto& [who, list] : preserved_weights) {
      auto end = counted.begin() + static_cast<std::ptrdiff_t>(n);
      auto it = std::lower_bound(counted.begin(), end, who,
                                 [](const Counted& c, const types::Address& a) { return c.participant < a; });
      if (it == end || it->participant != who) counted.push_back(Counted{who, {}, {}});
    }
    std::sort(counted.begin(), counted.end(), by_participant);
  }
  u128 total = 0;
  for (const auto& [_, w] : validator_weights) total += w;
  for (auto& c : counted) {
    std::vector<NodeWeight> preserved;
    if (auto it = preserved_weights.find(c.participant); it != preserved_weights.end())
      preserved = it->second;
    std::sort(preserved.begin(), preserved.end(), by_node_id);
    auto is_preserved = [&](const NodeWeight& m) {
      return std::binary_search(preserved.begin(), preserved.end(), m, by_node_id);
    };
    c.mined.erase(std::remove_if(c.mined.begin(), c.mined.end(), is_preserved), c.mined.end());
    if (c.mined.empty() && !preserved.empty()) {
      ParticipantWeight pw{c.participant, 0, {}};
      u128 sum = 0;
      for (const auto& p : preserved) {
        if (!pw.nodes.empty() && pw.nodes.back().node_id == p.node_id) continue;  // one entry per node
        sum += p.poc_weight;
        pw.nodes.push_back(p);
      }
      if (sum == 0 || sum > UINT64_MAX) {
        out.rejected.push_back({c.participant, sum == 0 ? "no nonces" : "weight overflows 64 bits"});
        continue;
      }
      pw.weight = static_cast<uint64_t>(sum);
      out.accepted.push_back(std::move(pw));
      continue;
    }
    // One verdict per validator (the caller's data may repeat one; the first counts).
    u128 valid = 0, fraud = 0;
    std::vector<types::Address> seen;
    for (const auto& v : c.verdicts) {
      auto it = validator_weights.find(v.validator);
      if (it == validator_weights.end()) continue;
      if (std::find(seen.begin(), seen.end(), v.validator) != seen.end()) continue;
      seen.push_back(v.validator);
      (v.fraud_detected ? fraud : valid) += it->second;
    }
    if (total == 0 || valid * 2 <= total) {
      std::string why = total == 0 ? "the current epoch has no weight to validate with"
                        : fraud * 2 > total
                            ? "validators holding more than half of the weight found fraud"
                            : "validators holding more than half of the weight did not judge it valid";
      out.rejected.push_back({c.participant, why});
      continue;
    }
    ParticipantWeight pw{c.participant, 0, std::move(c.mined)};
    u128 sum = 0;
    for (const auto& m : pw.nodes) sum += m.poc_weight;
    for (const auto& p : preserved) {
      sum += p.poc_weight;
      pw.nodes.push_back(p);
    }
    std::sort(pw.nodes.begin(), pw.nodes.end(), by_node_id);
    if (sum == 0) {
      out.rejected.push_back({c.participant, "no nonces"});
      continue;
    }
    if (sum > UINT64_MAX) {
      out.rejected.push_back({c.participant, "weight overflows 64 bits"});
      continue;
    }
    pw.weight = static_cast<uint64_t>(sum);
    out.accepted.push_back(std::move(pw));
  }
  return out;
}

}  // namespace

std::vector<NodeWeight> count_participant_nonces(std::vector<NodeNonces>& nodes) {
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeNonces& a, const NodeNonces& b) { return a.node_id < b.node_id; });
  // One sorted, duplicate-free nonce list per distinct node id (entries of the same id are merged).
  std::vector<NodeWeight> out;
  std::vector<std::vector<uint64_t>> lists;
  out.reserve(nodes.size());
  lists.reserve(nodes.size());
  for (auto& n : nodes) {
    if (out.empty() || out.back().node_id != n.node_id) {
      out.push_back({n.node_id, 0});
      lists.push_back(std::move(n.nonces));
    } else {
      lists.back().insert(lists.back().end(), n.nonces.begin(), n.nonces.end());
    }
    n.nonces = {};
  }
  for (auto& l : lists) calculate_node_weight_in_place(l);
  // k-way merge by (nonce, node index): the first time a nonce comes out it is from the smallest node id
  // holding it, which gets it; later copies count for nobody. Memory: the lists plus one entry per node.
  using Head = std::pair<uint64_t, uint32_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
  std::vector<size_t> next(lists.size(), 0);
  for (size_t k = 0; k < lists.size(); ++k) {
    if (!lists[k].empty()) heap.push({lists[k][0], static_cast<uint32_t>(k)});
  }
  bool any = false;
  uint64_t last = 0;
  while (!heap.empty()) {
    auto [nonce, k] = heap.top();
    heap.pop();
    if (!any || nonce != last) {
      ++out[k].poc_weight;
      last = nonce;
      any = true;
    }
    if (++next[k] < lists[k].size()) heap.push({lists[k][next[k]], k});
  }
  return out;
}

WeightsResult compute_new_weights(const std::map<types::Address, uint64_t>& validator_weights,
                                  std::vector<Candidate>& candidates,
                                  const PreservedWeights& preserved_weights) {
  // One entry per participant: a participant listed twice has its nodes and verdicts merged, in the given
  // order.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.participant < b.participant; });
  std::vector<Counted> counted;
  counted.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    auto& c = candidates[i];
    while (i + 1 < candidates.size() && candidates[i + 1].participant == c.participant) {
      auto& next = candidates[++i];
      std::move(next.nodes.begin(), next.nodes.end(), std::back_inserter(c.nodes));
      c.verdicts.insert(c.verdicts.end(), next.verdicts.begin(), next.verdicts.end());
      next.nodes.clear();
    }
    // Preserved (POC_SLOT) nodes mined nothing: their nonces are dropped before attribution.
    if (auto it = preserved_weights.find(c.participant); it != preserved_weights.end()) {
      std::erase_if(c.nodes, [&](const NodeNonces& n) {
        return std::any_of(it->second.begin(), it->second.end(),
                           [&](const NodeWeight& p) { return p.node_id == n.node_id; });
      });
    }
    counted.push_back(Counted{c.participant, count_participant_nonces(c.nodes), c.verdicts});
  }
  return decide(validator_weights, counted, preserved_weights);
}

WeightsResult compute_new_weights(const store::KvReader& state, uint64_t epoch) {
  if (epoch == 0) throw std::logic_error("compute_new_weights: epoch 0 has no PoC");
  std::map<types::Address, uint64_t> validators;
  for (const auto& m : groups::get_members(state, epoch - 1, "")) validators[m.member()] = m.weight();

  // Pass 1: the candidates' addresses from the batch keys (participant, node, batch order), without parsing.
  std::vector<types::Address> addresses;
  const std::string epoch_prefix = poc::batch_epoch_prefix(epoch);
  state.scan_prefix(epoch_prefix, [&](std::string_view key, std::string_view) {
    auto who = key.substr(epoch_prefix.size(), types::kAddressLength);
    if (addresses.empty() || addresses.back() != who) addresses.emplace_back(who);
    return true;
  });
  std::vector<Counted> candidates;
  candidates.reserve(addresses.size());
  for (const auto& a : addresses) candidates.push_back(Counted{a, {}, {}});
  // POC_SLOT nodes of the current epoch keep their poc_weight (if still registered).
  auto slots = schedule::preserved_nodes(state, epoch - 1);
  for (const auto& s : slots) addresses.push_back(s.participant());
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  // One range scan reads the registry of every candidate; batches and slots of nodes removed from it since
  // are ignored.
  auto registry = nodes::read_registry_snapshot(state, addresses);
  // A participant's nodes come sorted by local id (key order).
  auto has_node = [&](size_t participant, std::string_view node_id) {
    auto list = registry.nodes(participant);
    auto it = std::lower_bound(
        list.begin(), list.end(), node_id,
        [](const nodes::RegistrySnapshot::Node& n, std::string_view id) { return n.local_id < id; });
    return it != list.end() && it->local_id == node_id;
  };
  PreservedWeights preserved;
  for (const auto& s : slots) {
    auto i = registry.find(s.participant());
    if (i && has_node(*i, s.node_id())) preserved[s.participant()].push_back({s.node_id(), s.poc_weight()});
  }
  auto is_preserved = [&](const types::Address& who, std::string_view node_id) {
    auto it = preserved.find(who);
    return it != preserved.end() && std::any_of(it->second.begin(), it->second.end(),
                                                [&](const NodeWeight& p) { return p.node_id == node_id; });
  };
  // Pass 2: batches by participant, then node id. One participant's nonces are held at a time and attributed
  // across its registered, non-preserved nodes (a nonce counts once per participant).
  std::vector<NodeNonces> pending;
  size_t c = 0, r = 0;  // current candidate; its entry in the registry (both sorted by address)
  std::optional<std::string> node_id;  // the node whose batches are being read
  bool skip_node = false;              // not registered any more, or POC_SLOT
  auto finish = [&] {
    if (!pending.empty()) candidates[c].mined = count_participant_nonces(pending);
    pending.clear();
    node_id.reset();
  };
  // The cursors move at every new participant, the first one included: the registry also holds participants
  // with POC_SLOT nodes and no batches, so its first entry need not be the first batch's participant (a
  // cursor left at 0 read that participant's registry instead and dropped every nonce of the first one).
  bool first_batch = true;
  poc::for_each_batch(state, epoch, [&](const poc::PoCBatch& b) {
    if (first_batch || candidates[c].participant != b.participant()) {
      first_batch = false;
      finish();
      while (candidates[c].participant != b.participant()) ++c;
      while (registry.participant(r) < b.participant()) ++r;
    }
    if (!node_id || *node_id != b.node_id()) {
      node_id = b.node_id();
      skip_node = !has_node(r, b.node_id()) || is_preserved(b.participant(), b.node_id());
      if (!skip_node) pending.push_back({b.node_id(), {}});
    }
    if (skip_node) return;
    pending.back().nonces.insert(pending.back().nonces.end(), b.nonces().begin(), b.nonces().end());
  });
  finish();
  // Validations come sorted by participant, as do candidates: one merge pass.
  auto vals = poc::get_validations(state, epoch);
  size_t vi = 0;
  for (auto& c : candidates) {
    while (vi < vals.size() && vals[vi].participant() < c.participant) ++vi;
    for (; vi < vals.size() && vals[vi].participant() == c.participant; ++vi) {
      c.verdicts.push_back({vals[vi].validator(), vals[vi].fraud_detected()});
    }
  }
  auto out = decide(validators, candidates, preserved);
  out.registry = std::move(registry);
  return out;
}

}  // namespace chain::x::weights
