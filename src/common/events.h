// Names of the chain's events (block and tx events in /events/blocks, /blocks/{h}, CometBFT's results),
// shared by the chain, which emits them, and by dapi and the tests, which match them (issue 11 item 10). A
// rename here is a protocol change for every client. Attribute keys that clients read are listed under their
// event. Reference: docs/errors.md (events section).
#pragma once

namespace common::events {

// --- tx and bank
inline constexpr char kTx[] = "tx";  // hash, signer, sequence (first event of every successful tx)
inline constexpr char kTransfer[] = "transfer";
inline constexpr char kMint[] = "mint";
inline constexpr char kBurn[] = "burn";

// --- participants, MLNodes and models
inline constexpr char kParticipantRegistered[] = "participant_registered";
inline constexpr char kHardwareDiff[] = "hardware_diff";
inline constexpr char kModelRegistered[] = "model_registered";
inline constexpr char kModelRemoved[] = "model_removed";

// --- epochs and Proof-of-Compute (ARCHITECTURE §7.1)
inline constexpr char kPocStarted[] = "poc_started";
inline constexpr char kPocBatch[] = "poc_batch";
inline constexpr char kPocValidation[] = "poc_validation";
inline constexpr char kPocSeed[] = "poc_seed";
inline constexpr char kPocParticipantRejected[] = "poc_participant_rejected";
inline constexpr char kNextEpochFormed[] = "next_epoch_formed";
inline constexpr char kNextEpochReady[] = "next_epoch_ready";
inline constexpr char kEpochSwitched[] = "epoch_switched";
inline constexpr char kValidatorSetKept[] = "validator_set_kept";
inline constexpr char kEpochParamsUpdated[] = "epoch_params_updated";

// --- GPU uptime schedule and inference
inline constexpr char kPocSlotSelected[] = "poc_slot_selected";
inline constexpr char kThroughputExpected[] = "throughput_expected";
inline constexpr char kThroughputRecorded[] = "throughput_recorded";
inline constexpr char kScheduleParamsUpdated[] = "schedule_params_updated";
inline constexpr char kInferenceStarted[] = "inference_started";
inline constexpr char kInferenceFinished[] = "inference_finished";
inline constexpr char kInferenceExpired[] = "inference_expired";
inline constexpr char kInferenceValidated[] = "inference_validated";
inline constexpr char kInferenceValidationUnchallenged[] = "inference_validation_unchallenged";
// A sampled inference's validation deadline reached during (or right after) a PoC moved past it.
inline constexpr char kInferenceValidationDeadlineMoved[] = "inference_validation_deadline_moved";

// --- rewards
inline constexpr char kEpochSettled[] = "epoch_settled";
inline constexpr char kSettlementFailed[] = "settlement_failed";

// --- governance and upgrades
inline constexpr char kSubmitProposal[] = "submit_proposal";
inline constexpr char kProposalVote[] = "proposal_vote";
inline constexpr char kProposalTally[] = "proposal_tally";
inline constexpr char kGovParamsUpdated[] = "gov_params_updated";
inline constexpr char kProposalDepositShortfall[] = "proposal_deposit_shortfall";
inline constexpr char kPartialUpgradeCreated[] = "partial_upgrade_created";
inline constexpr char kPartialUpgradeApplied[] = "partial_upgrade_applied";
inline constexpr char kMLNodeVersionChanged[] = "mlnode_version_changed";

// Every event type above, for tests that check a block's events are all known.
inline constexpr const char* kAll[] = {kTx,
                                       kTransfer,
                                       kMint,
                                       kBurn,
                                       kParticipantRegistered,
                                       kHardwareDiff,
                                       kModelRegistered,
                                       kModelRemoved,
                                       kPocStarted,
                                       kPocBatch,
                                       kPocValidation,
                                       kPocSeed,
                                       kPocParticipantRejected,
                                       kNextEpochFormed,
                                       kNextEpochReady,
                                       kEpochSwitched,
                                       kValidatorSetKept,
                                       kEpochParamsUpdated,
                                       kPocSlotSelected,
                                       kThroughputExpected,
                                       kThroughputRecorded,
                                       kScheduleParamsUpdated,
                                       kInferenceStarted,
                                       kInferenceFinished,
                                       kInferenceExpired,
                                       kInferenceValidated,
                                       kInferenceValidationUnchallenged,
                                       kInferenceValidationDeadlineMoved,
                                       kEpochSettled,
                                       kSettlementFailed,
                                       kSubmitProposal,
                                       kProposalVote,
                                       kProposalTally,
                                       kGovParamsUpdated,
                                       kProposalDepositShortfall,
                                       kPartialUpgradeCreated,
                                       kPartialUpgradeApplied,
                                       kMLNodeVersionChanged};

}  // namespace common::events
