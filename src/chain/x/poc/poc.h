// Proof-of-Compute on chain (ARCHITECTURE §6; seed section 5; docs/epochs.md): per-MLNode batches (node id
// stored), validations by current-epoch members, seeds. Each batch is its own small record keyed by
// (epoch, participant, node_id, batch_id): a batch tx never reads or writes a group.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "chain/types/int128.h"
#include "inference/poc.pb.h"

namespace chain::x::poc {

using PoCBatch = inference::inference::PoCBatch;
using PoCValidation = inference::inference::PoCValidation;
using RandomSeed = inference::inference::RandomSeed;
using MsgSubmitPocBatch = inference::inference::MsgSubmitPocBatch;
using MsgSubmitPocValidation = inference::inference::MsgSubmitPocValidation;
using MsgSubmitSeed = inference::inference::MsgSubmitSeed;

inline constexpr std::string_view kMsgSubmitPocBatchUrl = "/inference.inference.MsgSubmitPocBatch";
inline constexpr std::string_view kMsgSubmitPocValidationUrl = "/inference.inference.MsgSubmitPocValidation";
inline constexpr std::string_view kMsgSubmitSeedUrl = "/inference.inference.MsgSubmitSeed";

inline constexpr size_t kMaxNoncesPerBatch = 100000;
inline constexpr size_t kMaxBatchIdLength = 64;
inline constexpr size_t kMaxSeedSignatureLength = 256;

// The key prefix of every batch of `epoch`; a batch key continues with the 20 participant bytes.
std::string batch_epoch_prefix(uint64_t epoch);
// Visits every batch of an epoch in key order (participant bytes, node_id, batch_id).
void for_each_batch(const store::KvReader& state, uint64_t epoch,
                    const std::function<void(const PoCBatch&)>& fn);
std::vector<PoCBatch> get_poc_batches_for_participant(const store::KvReader& state, uint64_t epoch,
                                                      const types::Address& participant);
std::vector<PoCBatch> get_poc_batches_for_node(const store::KvReader& state, uint64_t epoch,
                                               const types::Address& participant, std::string_view node_id);
// Batches of every node that lists `model_id` in the hardware registry now, sorted by (participant, node,
// batch).
std::vector<PoCBatch> get_poc_batches_for_model(const store::KvReader& state, uint64_t epoch,
                                                std::string_view model_id);
// Number of distinct nonces (sorts and dedupes `nonces` in place).
uint64_t calculate_node_weight(std::vector<uint64_t>& nonces);
// The node's weight before validation: its share of the participant's distinct nonces (a nonce counts once
// per participant, for the smallest node id that submitted it; weights::count_participant_nonces).
uint64_t calculate_node_weight(const store::KvReader& state, uint64_t epoch,
                               const types::Address& participant, std::string_view node_id);
// Σ node weights (before validation) of the nodes serving `model_id`: nodes whose first model it is
// (an MLNode serves one model at a time, ARCHITECTURE §7.4).
types::u128 calculate_model_power(const store::KvReader& state, uint64_t epoch, std::string_view model_id);

// Validations of an epoch sorted by (participant, validator).
std::vector<PoCValidation> get_validations(const store::KvReader& state, uint64_t epoch);
std::optional<RandomSeed> get_seed(const store::KvReader& state, uint64_t epoch,
                                   const types::Address& participant);

nlohmann::json batch_to_json(const PoCBatch& b, const std::string& hrp);
nlohmann::json validation_to_json(const PoCValidation& v, const std::string& hrp);

// ---- bounded state (issue 13; docs/epochs.md "Bounded state")
// At most this many PoC records are deleted per block, so pruning never makes a block slow.
inline constexpr size_t kMaxPrunedKeysPerBlock = 2000;
// Deletes the PoC records (batches, validations, seeds, per-node counts) of every epoch < `below`, oldest
// first, at most `max_keys` of them; a persistent floor remembers where it got to. Returns the number
// deleted.
size_t prune_epochs_before(store::KvStore& state, uint64_t below, size_t max_keys);

class PocModule final : public app::Module {
 public:
  std::string_view name() const override { return "poc"; }
  // Once epoch E is effective, the PoC data of epochs ≤ E − poc_retention_epochs (E's params) is pruned,
  // kMaxPrunedKeysPerBlock records per block.
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::poc
