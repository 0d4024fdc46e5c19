// Result codes returned in tx results, CheckTx and query answers (0 = success), with their codespace. They
// are part of the tx protocol: the chain sets them and clients (dapi, the CLI, tests) act on them, never on
// log text. Every code is documented in docs/errors.md; a unit test (tests/unit/common/codes_doc_test.cpp)
// checks that table against kAll below, so the two cannot drift.
//
// Two codespaces (Cosmos SDK style: a client matches the pair (codespace, code)):
//   - "sdk": the Cosmos SDK's generic codes, same numbers (1-99);
//   - "inference": one code per kind of refusal of this chain's modules (1000-999999), grouped by module in
//     ranges of 100: nodes 1100, inference 1200, poc 1300, gov 1400, upgrade 1500.
// A malformed message, query or params object (a field out of range, a wrong format: what the Cosmos SDK's
// ValidateBasic catches) is one kind, kInvalidRequest; the log names the field. A number is never reused for
// another kind, and a code is set only from these constants (src/chain holds no code as a literal). Result
// codes of delivered txs are hashed into CometBFT's LastResultsHash: changing one is a consensus change.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace common::tx::codes {

inline constexpr uint32_t kOk = 0;

// ---- codespace "sdk" ----
inline constexpr uint32_t kInternal = 1;  // the node failed, not the input (Cosmos: undefined codespace, 1)
inline constexpr uint32_t kTxDecode = 2;
inline constexpr uint32_t kUnauthorized = 4;
inline constexpr uint32_t kInsufficientFunds = 5;
inline constexpr uint32_t kUnknownRequest = 6;
inline constexpr uint32_t kInvalidAddress = 7;
inline constexpr uint32_t kInvalidPubKey = 8;
inline constexpr uint32_t kUnknownAddress = 9;
inline constexpr uint32_t kInvalidCoins = 10;
inline constexpr uint32_t kInvalidRequest = 18;
inline constexpr uint32_t kTxInMempoolCache = 19;
inline constexpr uint32_t kMempoolFull = 20;
inline constexpr uint32_t kTxTooLarge = 21;
inline constexpr uint32_t kInvalidHeight = 26;
inline constexpr uint32_t kInvalidChainId = 28;
inline constexpr uint32_t kTxTimeoutHeight = 30;
inline constexpr uint32_t kWrongSequence = 32;
inline constexpr uint32_t kNotFound = 38;

// ---- codespace "inference" ----
// nodes (participants and hardware records)
inline constexpr uint32_t kValidatorKeyTaken = 1101;  // the validator key is bound to another participant
inline constexpr uint32_t kUnknownModel = 1102;       // a hardware node names a model not in the registry
inline constexpr uint32_t kTooManyNodes = 1103;       // the participant would exceed its node limit
// inference (accounting of inference requests)
inline constexpr uint32_t kInferenceExists = 1201;         // an inference with this id was already started
inline constexpr uint32_t kModelNotServed = 1202;          // the model has no sub-group in the current epoch
inline constexpr uint32_t kExecutorNodeUnknown = 1203;     // the executor has no such node in the epoch
inline constexpr uint32_t kExecutorNodeNotServing = 1204;  // the node does not serve the model now
inline constexpr uint32_t kInferenceFinished = 1205;  // MsgFinishInference for an inference already finished
inline constexpr uint32_t kInferenceExpired = 1206;   // MsgFinishInference after the inference expired
inline constexpr uint32_t kTokensAboveMax = 1207;     // reported tokens exceed the inference's max_tokens
inline constexpr uint32_t kNotAwaitingValidation = 1208;  // MsgValidateInference for an undecidable inference
// poc (batches, validations, seeds)
inline constexpr uint32_t kPocNotInProgress = 1301;          // no upcoming epoch: no PoC running now
inline constexpr uint32_t kPocStartMismatch = 1302;          // poc_stage_start_block_height is not this PoC's
inline constexpr uint32_t kPocNodeHasSlot = 1303;            // the node holds POC_SLOT: it mines nothing
inline constexpr uint32_t kPocBatchWindowClosed = 1304;      // outside the batch window
inline constexpr uint32_t kPocBatchAlreadySubmitted = 1305;  // this batch_id of this node is on chain
inline constexpr uint32_t kPocBatchTooManyNonces = 1306;     // above the epoch's max_nonces_per_batch
inline constexpr uint32_t kPocNodeBatchLimit = 1307;         // the node reached max_batches_per_node
inline constexpr uint32_t kPocNodeNonceLimit = 1308;         // the node would pass max_nonces_per_node
inline constexpr uint32_t kPocValidationWindowClosed = 1309;  // outside the validation window
inline constexpr uint32_t kPocNoBatches = 1310;               // the validated participant sent no batch
inline constexpr uint32_t kSeedWrongEpoch = 1311;        // a seed for another epoch than the upcoming one
inline constexpr uint32_t kSeedWindowClosed = 1312;      // outside the seed window
inline constexpr uint32_t kSeedAlreadySubmitted = 1313;  // this participant's seed is on chain
// gov
inline constexpr uint32_t kProposalNotVoting = 1401;  // a vote on a proposal outside its voting period
// upgrade
inline constexpr uint32_t kUpgradeHeightPassed = 1501;  // a partial upgrade at a height not in the future

inline constexpr std::string_view kCodespaceSdk = "sdk";
inline constexpr std::string_view kCodespaceInference = "inference";

// The codespace of a code: "" for success, "inference" for 1000-999999, "sdk" otherwise.
constexpr std::string_view codespace_of(uint32_t code) {
  if (code == kOk) return "";
  return code >= 1000 && code < 1000000 ? kCodespaceInference : kCodespaceSdk;
}

// Every code with the name of its constant, for docs/errors.md's check and for logs that name a code.
struct CodeName {
  uint32_t code;
  std::string_view name;
};
inline constexpr std::array kAll{
    CodeName{kOk, "kOk"},
    CodeName{kInternal, "kInternal"},
    CodeName{kTxDecode, "kTxDecode"},
    CodeName{kUnauthorized, "kUnauthorized"},
    CodeName{kInsufficientFunds, "kInsufficientFunds"},
    CodeName{kUnknownRequest, "kUnknownRequest"},
    CodeName{kInvalidAddress, "kInvalidAddress"},
    CodeName{kInvalidPubKey, "kInvalidPubKey"},
    CodeName{kUnknownAddress, "kUnknownAddress"},
    CodeName{kInvalidCoins, "kInvalidCoins"},
    CodeName{kInvalidRequest, "kInvalidRequest"},
    CodeName{kTxInMempoolCache, "kTxInMempoolCache"},
    CodeName{kMempoolFull, "kMempoolFull"},
    CodeName{kTxTooLarge, "kTxTooLarge"},
    CodeName{kInvalidHeight, "kInvalidHeight"},
    CodeName{kInvalidChainId, "kInvalidChainId"},
    CodeName{kTxTimeoutHeight, "kTxTimeoutHeight"},
    CodeName{kWrongSequence, "kWrongSequence"},
    CodeName{kNotFound, "kNotFound"},
    CodeName{kValidatorKeyTaken, "kValidatorKeyTaken"},
    CodeName{kUnknownModel, "kUnknownModel"},
    CodeName{kTooManyNodes, "kTooManyNodes"},
    CodeName{kInferenceExists, "kInferenceExists"},
    CodeName{kModelNotServed, "kModelNotServed"},
    CodeName{kExecutorNodeUnknown, "kExecutorNodeUnknown"},
    CodeName{kExecutorNodeNotServing, "kExecutorNodeNotServing"},
    CodeName{kInferenceFinished, "kInferenceFinished"},
    CodeName{kInferenceExpired, "kInferenceExpired"},
    CodeName{kTokensAboveMax, "kTokensAboveMax"},
    CodeName{kNotAwaitingValidation, "kNotAwaitingValidation"},
    CodeName{kPocNotInProgress, "kPocNotInProgress"},
    CodeName{kPocStartMismatch, "kPocStartMismatch"},
    CodeName{kPocNodeHasSlot, "kPocNodeHasSlot"},
    CodeName{kPocBatchWindowClosed, "kPocBatchWindowClosed"},
    CodeName{kPocBatchAlreadySubmitted, "kPocBatchAlreadySubmitted"},
    CodeName{kPocBatchTooManyNonces, "kPocBatchTooManyNonces"},
    CodeName{kPocNodeBatchLimit, "kPocNodeBatchLimit"},
    CodeName{kPocNodeNonceLimit, "kPocNodeNonceLimit"},
    CodeName{kPocValidationWindowClosed, "kPocValidationWindowClosed"},
    CodeName{kPocNoBatches, "kPocNoBatches"},
    CodeName{kSeedWrongEpoch, "kSeedWrongEpoch"},
    CodeName{kSeedWindowClosed, "kSeedWindowClosed"},
    CodeName{kSeedAlreadySubmitted, "kSeedAlreadySubmitted"},
    CodeName{kProposalNotVoting, "kProposalNotVoting"},
    CodeName{kUpgradeHeightPassed, "kUpgradeHeightPassed"},
};

// The constant's name of `code` ("" when it is not a chain code).
constexpr std::string_view name_of(uint32_t code) {
  for (const auto& c : kAll) {
    if (c.code == code) return c.name;
  }
  return "";
}

}  // namespace common::tx::codes
