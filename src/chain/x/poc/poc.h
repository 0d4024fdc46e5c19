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

// Visits every batch of an epoch in key order (participant bytes, node_id, batch_id).
void for_each_batch(const store::KvReader& state, uint64_t epoch,
                    const std::function<void(const PoCBatch&)>& fn);
std::vector<PoCBatch> get_poc_batches_for_participant(const store::KvReader& state, uint64_t epoch,
                                                      const types::Address& participant);
std::vector<PoCBatch> get_poc_batches_for_node(const store::KvReader& state, uint64_t epoch,
                                               const types::Address& participant, std::string_view node_id);
// Batches of every node that lists `model_id` in the hardware registry now, sorted by (participant, node, batch).
std::vector<PoCBatch> get_poc_batches_for_model(const store::KvReader& state, uint64_t epoch,
                                                std::string_view model_id);
// Node weight = number of distinct nonces (sorts and dedupes `nonces` in place).
uint64_t calculate_node_weight(std::vector<uint64_t>& nonces);
uint64_t calculate_node_weight(const store::KvReader& state, uint64_t epoch, const types::Address& participant,
                               std::string_view node_id);
// Σ node weights (distinct nonces, before validation) of the nodes serving `model_id`.
types::u128 calculate_model_power(const store::KvReader& state, uint64_t epoch, std::string_view model_id);

// Validations of an epoch sorted by (participant, validator).
std::vector<PoCValidation> get_validations(const store::KvReader& state, uint64_t epoch);
std::optional<RandomSeed> get_seed(const store::KvReader& state, uint64_t epoch, const types::Address& participant);

nlohmann::json batch_to_json(const PoCBatch& b, const std::string& hrp);
nlohmann::json validation_to_json(const PoCValidation& v, const std::string& hrp);

class PocModule final : public app::Module {
 public:
  std::string_view name() const override { return "poc"; }
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
};

}  // namespace chain::x::poc
