// Validation of other participants' PoC batches (issue 11 item 7; docs/epochs.md): in the validation window
// the participant validates every other participant's batches of the epoch — a sample of their distinct
// nonces — through its own MLNodes (pow/validate); the verdicts come back on the validated callback and
// become MsgSubmitPocValidation (callbacks.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/broker/mlnode_driver.h"
#include "api/chain/types.h"

namespace api::poc {

inline constexpr size_t kDefaultValidationSampleSize = 200;

struct ValidationInput {
  std::vector<chain::PocBatch> batches;  // all batches of the epoch (ChainClient::poc_batches)
  std::string own_address;               // seeds the sample; our own batches are skipped unless include_own
  // Validate our own batches too (the chain accepts a member validating itself; while one participant holds
  // all of the current weight, e.g. the genesis validator in epoch 1, its own verdict is what accepts it).
  bool include_own = false;
  std::map<std::string, std::string> public_keys;     // participant address -> poc_public_key_hex
  uint64_t poc_start_height = 0;                      // P of the epoch
  std::string block_hash;                             // hash of block P
  size_t sample_size = kDefaultValidationSampleSize;  // nonces per participant (all of them if fewer)
};

// One participant's sample, ready for pow/validate.
struct ValidationJob {
  std::string participant;
  broker::PocProofBatch batch;
};

struct ValidationPlan {
  std::vector<ValidationJob> jobs;   // sorted by participant
  std::vector<std::string> skipped;  // "<address>: <why>" (no public key known, batches of another PoC)
};

// Pure and deterministic: per participant (other than us), its distinct nonces over all its batches (the
// first dist seen for a nonce), a sample of sample_size of them chosen by a SHA-256 counter stream seeded
// with (our address, participant, block hash, P) — unpredictable to the prover before P, reproducible by us —
// sorted.
ValidationPlan plan_poc_validation(const ValidationInput& input);

struct ValidationSent {
  std::string participant;
  std::string node_id;  // the node that queued it (empty if none did)
  bool ok = false;
  std::string error;  // the last failure when !ok
};

// Sends each job to one of `validators` (our nodes in POC_VALIDATE): job i starts at node i mod n and moves
// to the next node after a failure, at most max_attempts nodes. Blocking (call it off the block-processing
// path); every call has the driver's timeout and status checks.
std::vector<ValidationSent> send_validation_jobs(
    const std::vector<ValidationJob>& jobs,
    const std::vector<std::pair<std::string, std::shared_ptr<broker::MlnodeDriver>>>& validators,
    int max_attempts = 3);

}  // namespace api::poc
