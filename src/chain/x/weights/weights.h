// Per-MLNode PoC weights (ARCHITECTURE §7.3; seed 5.4; docs/epochs.md). Pure integer computation:
//   node weight        = distinct nonces attributed to the node: a nonce counts once per participant, across
//                        all its nodes and batches, for the node with the smallest local id that submitted it
//                        (issue 13: the same nonces under 256 nodes must not count 256 times)
//   accepted           = 2 × Σ weight(current members judging it valid) > Σ weight(current members)
//   participant weight = Σ node weights (exact, checked), 0 → not a member
#pragma once

#include <map>
#include <string>
#include <vector>

#include "chain/store/kv.h"
#include "chain/types/address.h"
#include "chain/types/int128.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/nodes/registry_snapshot.h"

namespace chain::x::weights {

struct NodeNonces {
  std::string node_id;
  std::vector<uint64_t> nonces;  // every nonce of every batch of the node, any order, duplicates allowed
};
struct Verdict {
  types::Address validator;
  bool fraud_detected = false;
};
struct NodeWeight {
  std::string node_id;
  uint64_t poc_weight = 0;
};
struct Candidate {
  types::Address participant;
  std::vector<NodeNonces> nodes;  // one entry per node id
  std::vector<Verdict> verdicts;  // at most one per validator
};
// POC_SLOT nodes of the current epoch per participant (ARCHITECTURE §7.7): they mined nothing and keep their
// previous poc_weight. Nonces of these node ids are ignored (before attribution). A participant with only
// preserved nodes needs no verdicts (the weight was validated when it was earned); one that also mined must
// be accepted, or keeps nothing.
using PreservedWeights = std::map<types::Address, std::vector<NodeWeight>>;
struct ParticipantWeight {
  types::Address participant;
  uint64_t weight = 0;            // Σ nodes[i].poc_weight
  std::vector<NodeWeight> nodes;  // sorted by node id
};
struct Rejection {
  types::Address participant;
  std::string reason;
};
struct WeightsResult {
  std::vector<ParticipantWeight> accepted;  // sorted by participant
  std::vector<Rejection> rejected;
  // The hardware registry of every candidate (with batches or preserved nodes) as read from state by
  // compute_new_weights(state, ...), so group formation in the same block does not read it again. Empty
  // otherwise.
  nodes::RegistrySnapshot registry;
};

// Node weights of one participant: every distinct nonce counts once, for the smallest node id that submitted
// it. `nodes` in any order, ids may repeat (merged); vectors are consumed. One entry per distinct node id,
// sorted by id (weight 0 when all of a node's nonces belong to a smaller id); Σ = the participant's
// distinct nonces.
std::vector<NodeWeight> count_participant_nonces(std::vector<NodeNonces>& nodes);

// `validator_weights`: the current epoch's members. Candidates may come in any order; their nonce vectors are
// sorted in place. Never throws on any input.
WeightsResult compute_new_weights(const std::map<types::Address, uint64_t>& validator_weights,
                                  std::vector<Candidate>& candidates, const PreservedWeights& preserved = {});

// Reads the batches and validations of `epoch` and the members of `epoch - 1` (the current epoch) from state,
// and the POC_SLOT nodes of `epoch - 1` (schedule::preserved_nodes). Nodes no longer in the participant's
// hardware registry at this point are ignored.
WeightsResult compute_new_weights(const store::KvReader& state, uint64_t epoch);

}  // namespace chain::x::weights
