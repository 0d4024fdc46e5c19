// The phase dispatcher (issue 11 item 4; ARCHITECTURE §7.1): from a block height, the stage heights of the
// shared function (common/epoch_stages.h) and each node's epoch data, the intended state of every MLNode and
// the one-shot duties due at that height. `dispatch` is pure; `Dispatcher` keeps its inputs between blocks
// (epoch data, PoC block hash, the node index assignment frozen per PoC) and filters duties through a
// DutyTracker.
//
// Epoch N below is the epoch whose PoC runs or comes next, P its PoC start; N-1 is effective until the
// switch.
//   h <  P                         INFERENCE with N-1's model (merge_model_args); STOPPED if not in N-1.
//   P <= h < poc_end               POC_SLOT nodes of N-1 keep INFERENCE; the others POC_GENERATE. Until N-1
//   was
//                                  re-read at a height >= P (POC_SLOT is chosen at P-1), nodes keep their
//                                  intent.
//   poc_end <= h <= validation_end POC_SLOT nodes keep INFERENCE; the others POC_VALIDATE (same PocInit).
//   validation_end < h < switch    load_models_for_next_epoch: the others load N's model, POC_SLOT keep
//   serving. h >= set_new_validators        INFERENCE with N's model.
// A disabled node is STOPPED. A node added after P (not in the frozen assignment) sits the PoC out (STOPPED).
// Epoch 0 has no PoC and no model sub-groups: its nodes are STOPPED until epoch 1 is formed.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/broker/node_state.h"
#include "api/chain/types.h"
#include "api/dispatch/duties.h"
#include "api/epoch/epoch_data.h"
#include "api/poc/model_loading.h"
#include "api/poc/node_index.h"
#include "common/epoch_stages.h"

namespace api::dispatch {

// Epoch N and its stage heights.
struct EpochFrame {
  uint64_t epoch_index = 0;  // N (>= 1)
  common::epochs::EpochStages stages;
};

// From GET /inference/epoch: the upcoming epoch while it exists; else the effective epoch when its PoC has
// started (its stages are reported), or the next one (stages computed from next_poc_start with the reported
// params) — epoch 0 reports only next_poc_start.
EpochFrame frame_from_epoch_info(const chain::EpochInfo& info);

// Epoch data as read at some height.
struct EpochDataEntry {
  epoch::EpochData data;
  uint64_t read_height = 0;  // the height being processed when it was read
};

struct DispatchInput {
  uint64_t height = 0;
  EpochFrame frame;
  std::vector<poc::LocalNode> nodes;
  std::map<uint64_t, EpochDataEntry> epoch_data;  // by epoch index (N-1 and N are used)
  std::optional<std::string> poc_block_hash;      // hash of block P
  std::optional<poc::PocAssignment> assignment;   // for N's PoC (poc_start_height == P)
  std::string public_key_hex;                     // poc_public_key_hex of our account key
  std::string callback_url;                       // {callback_url}/generated|validated
};

struct NodeDecision {
  broker::IntendedState intended;
  std::string reason;
};

struct DispatchOutput {
  common::epochs::Phase phase = common::epochs::Phase::kInference;
  uint64_t effective_epoch = 0;  // N-1 before the switch, N from it
  std::map<std::string, NodeDecision> nodes;
  std::vector<Duty> duties;  // due at this height (before any tracker filtering)
};

DispatchOutput dispatch(const DispatchInput& input);

// Keys of the duties (stable strings).
std::string duty_key(DutyKind kind, uint64_t epoch_index, uint64_t qualifier = 0);

// Thread-safe: duties may finish (set_epoch_data, set_poc_block_hash, tracker) on other threads than
// on_block's.
class Dispatcher {
 public:
  Dispatcher(std::string public_key_hex, std::string callback_url);

  void set_nodes(std::vector<poc::LocalNode> nodes);
  // Results of the read duties. They also clear those duties' keys, so the reads are due again only if the
  // data is missing (reads are state, not one-shots: a restart simply reads again). Persist only the done
  // keys of kSubmitSeed and kValidatePocBatches.
  void set_epoch_data(uint64_t epoch_index, epoch::EpochData data, uint64_t read_height);
  void set_poc_block_hash(uint64_t poc_start_height, uint64_t epoch_index, std::string hash);
  std::map<uint64_t, EpochDataEntry> epoch_data() const;  // a copy (for /admin/v1/nodes)
  std::optional<poc::PocAssignment> assignment() const;   // of the current PoC, once its first block was seen
  // Puts back a persisted assignment after a restart mid-PoC, so node indices stay those the MLNodes mine
  // with even if the node list changed meanwhile (persist assignment() whenever it changes).
  void restore_assignment(poc::PocAssignment assignment);

  // dispatch() on the kept inputs; `duties` of the result are only those this call began in the tracker (due,
  // not done, not in flight): the caller runs each and calls tracker().complete(key) or fail(key). The node
  // assignment for N's PoC is frozen on the first block >= P; data of epochs < N-1 is dropped.
  DispatchOutput on_block(uint64_t height, const EpochFrame& frame);

  DutyTracker& tracker() { return tracker_; }

 private:
  mutable std::mutex mu_;
  std::string public_key_hex_;
  std::string callback_url_;
  std::vector<poc::LocalNode> nodes_;
  std::map<uint64_t, EpochDataEntry> epoch_data_;
  std::map<uint64_t, std::string> poc_block_hash_;  // by P
  std::optional<poc::PocAssignment> assignment_;
  DutyTracker tracker_;
};

}  // namespace api::dispatch
