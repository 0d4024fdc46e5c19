// Inference accounting (ARCHITECTURE §6, §7.6, §7.8; docs/schedule.md).
//   MsgStartInference (transfer agent): escrow = max_tokens × per_token_price moves from the requester to the
//     inference escrow module account; per_token_price = units_of_compute_per_token × unit_of_compute_price
//     of the effective epoch's model sub-group (the epoch snapshot, never the registry).
//   MsgFinishInference (executor only): cost = (prompt + completion) × per_token_price paid to the executor,
//   the rest
//     refunded; the model's counter of the block is incremented.
//   Expiry: EndBlock of expiry_height = start + inference_expiration_blocks refunds an unfinished inference.
// Hot paths touch only small keyed records: the inference, its expiry index entry, one counter, balances.
#pragma once

#include <optional>
#include <string>

#include "chain/app/module.h"
#include "chain/types/address.h"
#include "inference/inference.pb.h"

namespace chain::x::infer {  // not `inference`: it would shadow the protobuf package ::inference in chain::x

using Inference = ::inference::inference::Inference;
using InferenceStatus = ::inference::inference::InferenceStatus;
using MsgStartInference = ::inference::inference::MsgStartInference;
using MsgFinishInference = ::inference::inference::MsgFinishInference;
using TokenCounter = ::inference::inference::TokenCounter;
using MsgValidateInference = ::inference::inference::MsgValidateInference;

inline constexpr std::string_view kMsgStartInferenceUrl = "/inference.inference.MsgStartInference";
inline constexpr std::string_view kMsgFinishInferenceUrl = "/inference.inference.MsgFinishInference";
inline constexpr std::string_view kMsgValidateInferenceUrl = "/inference.inference.MsgValidateInference";
inline constexpr std::string_view kEscrowModule = "inference_escrow";
// Validation of finished inferences (issue 12 item 6; docs/inference-validation.md). At finish an inference
// is sampled iff rate_ppm > 0 and draw 0 of rng::seed(kValidationSampleDomain, chain_id, finish height,
// last_block_hash || inference_id) mod 10^6 < rate_ppm (rate 10^6: every one). A sampled inference's cost
// stays in escrow; the first MsgValidateInference of a registered participant other than the executor
// decides: valid -> the executor is paid, invalid -> the cost goes back to the requester and the executor is
// not paid. With no vote by the deadline (finish height + inference_expiration_blocks, moved past a PoC by
// validation_deadline_past_poc) the executor is paid (abstentions never count as invalid).
inline constexpr std::string_view kValidationSampleDomain = "inference/validation_sample";
bool sampled_for_validation(std::string_view chain_id, uint64_t height, std::string_view last_block_hash,
                            std::string_view inference_id, uint64_t rate_ppm);

// Validation deadlines and PoC (docs/inference-validation.md "Deadlines and PoC"; ARCHITECTURE §7.1, §7.7).
// From a PoC start P to its epoch switch S (set_new_validators) only POC_SLOT nodes serve, so a validator
// without one cannot re-run a sampled inference then; a deadline inside [P, S] would pay the executor
// unchallenged. One PoC phase as the rule sees it (stage heights of one epoch):
struct ValidationPocPhase {
  uint64_t start = 0;       // P, poc_start
  uint64_t end = 0;         // S, set_new_validators (the last height at which only POC_SLOT nodes serve)
  uint64_t next_start = 0;  // the next PoC start (P + epoch_length)
};
// The deadline of a sampled inference finished at `finish` whose deadline is `deadline`, given one PoC phase:
// when the validation window [finish, deadline] meets [P, S] (finish <= S and deadline >= P), the deadline
// becomes max(deadline, S + min(window, L)) with L = next_start - S - 1, the inference-phase heights after
// the switch (>= 2 under the epoch params' rules; taken as >= 1): validators get `window` heights after the
// switch to re-run it, but never past the next PoC start, so a deadline is moved a bounded number of times.
// Otherwise `deadline` unchanged. Pure integer function (saturating); `window` >= 1 is
// inference_expiration_blocks.
uint64_t validation_deadline_past_poc(uint64_t finish, uint64_t deadline, uint64_t window,
                                      const ValidationPocPhase& poc);
inline constexpr size_t kMaxInferenceIdLength = 128;
inline constexpr uint64_t kMaxTokens = 100'000'000;

types::Address escrow_address();
// A requester other than the transfer agent signs (common/requester_signature.h, docs/requester-signature.md)
// the chain id, the transfer agent (creator), request_timestamp_ms and request_hash; the chain checks the
// signature with the requester's on-chain public key, |block time - request_timestamp_ms| <=
// kMaxRequestSkewMs (401-like kUnauthorized otherwise) and that the same signed request was never used
// (replay index inference/req/<be64 ts><requester><request_hash>, pruned once older than the skew window).
inline constexpr size_t kMaxPrunedRequestsPerBlock = 1000;
size_t prune_used_requests(store::KvStore& state, int64_t block_time_ms, size_t max_entries);

std::optional<Inference> get_inference(const store::KvReader& state, std::string_view id);
// Σ over blocks [from, to] (inclusive) of one model's counters.
TokenCounter sum_counters(const store::KvReader& state, std::string_view model_id, uint64_t from,
                          uint64_t to);

nlohmann::json inference_to_json(const Inference& inf, const std::string& hrp);

// ---- bounded state (issue 13; docs/schedule.md)
// Finished and expired inferences of epoch e (the epoch they started in) are deleted once e +
// inference_retention_epochs is effective, at most this many per block. Started ones are never pruned.
inline constexpr size_t kMaxPrunedInferencesPerBlock = 1000;
// Deletes finished/expired inference records of epochs < `below`, oldest first, at most `max_records`; a
// persistent floor remembers where it got to. Returns the number deleted.
size_t prune_done_inferences_before(store::KvStore& state, uint64_t below, size_t max_records);

class InferenceModule final : public app::Module {
 public:
  std::string_view name() const override { return "inference"; }
  void register_messages(app::MsgRouter& router) override;
  void register_queries(app::QueryRouter& router) override;
  // Refunds inferences whose expiry height is reached.
  void end_block(app::Context& ctx, std::vector<app::ValidatorUpdate>& validator_updates) override;
};

}  // namespace chain::x::infer
