#include "chain/x/weights/weights.h"

#include <algorithm>
#include <stdexcept>

#include "chain/x/groups/groups.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "chain/x/schedule/schedule.h"

namespace chain::x::weights {

using types::u128;

namespace {
std::string_view local_id_of(const nodes::HardwareNode* n) {
  return n->local_id();
}
std::string_view local_id_of(const std::string& id) {
  return id;
}
}  // namespace

WeightsResult compute_new_weights(const std::map<types::Address, uint64_t>& validator_weights,
                                  std::vector<Candidate>& candidates,
                                  const PreservedWeights& preserved_weights) {
  WeightsResult out;
  auto by_participant = [](const Candidate& a, const Candidate& b) { return a.participant < b.participant; };
  if (!preserved_weights.empty()) {
    // Participants with preserved nodes but no batches become candidates too.
    std::sort(candidates.begin(), candidates.end(), by_participant);
    size_t n = candidates.size();
    for (const auto& [who, list] : preserved_weights) {
      auto it =
          std::lower_bound(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n), who,
                           [](const Candidate& c, const types::Address& a) { return c.participant < a; });
      if (it == candidates.begin() + static_cast<std::ptrdiff_t>(n) || it->participant != who) {
        candidates.push_back(Candidate{who, {}, {}});
      }
    }
  }
  u128 total = 0;
  for (const auto& [_, w] : validator_weights) total += w;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.participant < b.participant; });
  for (auto& c : candidates) {
    std::vector<NodeWeight> preserved_list;
    if (auto it = preserved_weights.find(c.participant); it != preserved_weights.end())
      preserved_list = it->second;
    auto& preserved = preserved_list;
    std::sort(preserved.begin(), preserved.end(),
              [](const NodeWeight& a, const NodeWeight& b) { return a.node_id < b.node_id; });
    auto is_preserved = [&](const std::string& id) {
      auto it = std::lower_bound(preserved.begin(), preserved.end(), id,
                                 [](const NodeWeight& a, const std::string& b) { return a.node_id < b; });
      return it != preserved.end() && it->node_id == id;
    };
    c.nodes.erase(std::remove_if(c.nodes.begin(), c.nodes.end(),
                                 [&](const NodeNonces& n) { return is_preserved(n.node_id); }),
                  c.nodes.end());
    if (c.nodes.empty() && !preserved.empty()) {
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
    std::sort(c.nodes.begin(), c.nodes.end(),
              [](const NodeNonces& a, const NodeNonces& b) { return a.node_id < b.node_id; });
    ParticipantWeight pw{c.participant, 0, {}};
    u128 sum = 0;
    for (size_t i = 0; i < c.nodes.size(); ++i) {
      auto& n = c.nodes[i];
      // Entries for the same node id are merged so a node is never counted twice.
      while (i + 1 < c.nodes.size() && c.nodes[i + 1].node_id == n.node_id) {
        auto& next = c.nodes[++i].nonces;
        n.nonces.insert(n.nonces.end(), next.begin(), next.end());
        next.clear();
      }
      uint64_t w = poc::calculate_node_weight(n.nonces);
      sum += w;
      pw.nodes.push_back({n.node_id, w});
    }
    for (const auto& p : preserved) {
      sum += p.poc_weight;
      pw.nodes.push_back(p);
    }
    std::sort(pw.nodes.begin(), pw.nodes.end(),
              [](const NodeWeight& a, const NodeWeight& b) { return a.node_id < b.node_id; });
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

WeightsResult compute_new_weights(const store::KvReader& state, uint64_t epoch) {
  if (epoch == 0) throw std::logic_error("compute_new_weights: epoch 0 has no PoC");
  std::map<types::Address, uint64_t> validators;
  for (const auto& m : groups::get_members(state, epoch - 1, "")) validators[m.member()] = m.weight();

  std::vector<Candidate> candidates;
  poc::for_each_batch(state, epoch, [&](const poc::PoCBatch& b) {
    if (candidates.empty() || candidates.back().participant != b.participant()) {
      candidates.push_back(Candidate{b.participant(), {}, {}});
    }
    auto& c = candidates.back();
    if (c.nodes.empty() || c.nodes.back().node_id != b.node_id()) c.nodes.push_back({b.node_id(), {}});
    auto& nonces = c.nodes.back().nonces;
    nonces.insert(nonces.end(), b.nonces().begin(), b.nonces().end());
  });
  // Batches come by participant, then node id: the candidates are sorted, and one range scan reads the
  // hardware of all of them. Batches of nodes removed from the registry since are ignored.
  std::vector<types::Address> addresses;
  addresses.reserve(candidates.size());
  for (const auto& c : candidates) addresses.push_back(c.participant);
  auto arena = std::make_unique<google::protobuf::Arena>();
  auto hardware = nodes::get_hardware_nodes(state, addresses, *arena);
  std::map<types::Address, std::vector<const nodes::HardwareNode*>> registry;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& hw = hardware[i];
    auto registered = [&](const NodeNonces& n) {
      return std::binary_search(hw.begin(), hw.end(), n.node_id,
                                [](const auto& a, const auto& b) { return local_id_of(a) < local_id_of(b); });
    };
    auto& c = candidates[i];
    c.nodes.erase(
        std::remove_if(c.nodes.begin(), c.nodes.end(), [&](const NodeNonces& n) { return !registered(n); }),
        c.nodes.end());
    registry.emplace_hint(registry.end(), std::move(addresses[i]), std::move(hardware[i]));
  }
  // POC_SLOT nodes of the current epoch keep their poc_weight (if still registered).
  PreservedWeights preserved;
  for (const auto& s : schedule::preserved_nodes(state, epoch - 1)) {
    if (!nodes::get_hardware_node(state, s.participant(), s.node_id())) continue;
    preserved[s.participant()].push_back({s.node_id(), s.poc_weight()});
  }
  // Validations come sorted by participant, as do candidates: one merge pass.
  auto vals = poc::get_validations(state, epoch);
  size_t vi = 0;
  for (auto& c : candidates) {
    while (vi < vals.size() && vals[vi].participant() < c.participant) ++vi;
    for (; vi < vals.size() && vals[vi].participant() == c.participant; ++vi) {
      c.verdicts.push_back({vals[vi].validator(), vals[vi].fraud_detected()});
    }
  }
  auto out = compute_new_weights(validators, candidates, preserved);
  out.arena = std::move(arena);
  out.registry = std::move(registry);
  return out;
}

}  // namespace chain::x::weights
