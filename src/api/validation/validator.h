// The validator of other participants' sampled inferences (issue 12 item 6; docs/inference-validation.md
// "Validator"). Thin loop over narrow interfaces, so the decisions are unit-tested with fakes.
// on_block: every `inference_finished` tx event with validation=sampled is remembered durably
// (validation/todo/<id>) before the block counts as processed.
// step(now): for each remembered inference whose retry time has come, `decide` one step:
// - record not PENDING, unknown, or our own: forgotten (skipped);
// - payload from the executor's public URL: retried; still missing at the give-up height: INVALID
//   (a URL this dapi's address policy refuses: abstain, our policy and not the executor's doing);
// - sha256(content) != response_hash, sha256(prompt) != prompt_hash, payload of another id: INVALID;
// - n != 1, or a prompt that is not a JSON object: abstain;
// - own MLNode: none for the model in this epoch: abstain; ours all mine during PoC: retried (the chain moves
//   the deadline past the PoC); a failure: retried, at the give-up height abstain;
// - compare_logprobs(threshold): valid, invalid or abstain.
// A vote is queued through the tx queue (idempotency key inference_validation/<id>) in the same atomic write
// that records validation/done/<id>; abstentions and skips record done too. So a restart neither loses a
// remembered inference nor votes twice. Outcomes are pruned (prune) long after their deadline.
// give-up height = deadline - max(3, (deadline - finish_height) / 4): a vote then still lands before the
// deadline's EndBlock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/chain/types.h"
#include "api/server/metrics.h"
#include "api/state/state_store.h"
#include "api/validation/logprobs.h"
#include "api/validation/payload.h"
#include "common/result.h"

namespace api::validation {

// The on-chain record fields the validator reads (/inference/inferences/{id}).
struct InferenceRecord {
  std::string id;
  std::string model;
  std::string executor;
  std::string status;      // STARTED | FINISHED | EXPIRED
  std::string validation;  // NOT_SAMPLED | PENDING | VALID | INVALID | UNCHALLENGED
  uint64_t finish_height = 0;
  uint64_t validation_deadline = 0;
  std::string prompt_hash;    // lower-case hex
  std::string response_hash;  // lower-case hex
};
std::optional<InferenceRecord> record_from_json(const nlohmann::json& inference);

// Error codes of the interfaces below.
inline constexpr uint32_t kNotFound = 404;  // ValidatorChain::inference: unknown inference
inline constexpr uint32_t kNoNode = 1001;   // Replayer: no local MLNode serves the model in this epoch
// Replayer: during a PoC phase this participant's nodes of the model mine (none holds POC_SLOT). The chain
// never settles a validation during PoC (its deadline moves past the epoch switch,
// docs/inference-validation.md "Deadlines and PoC"), so this is retried, never an abstention.
inline constexpr uint32_t kNoNodeDuringPoc = 1003;
// PayloadFetcher: this dapi's outbound address policy refuses the executor's URL (nothing was sent).
inline constexpr uint32_t kRefusedAddress = 1002;

class ValidatorChain {
 public:
  virtual ~ValidatorChain() = default;
  virtual common::Result<InferenceRecord> inference(const std::string& id) = 0;
  virtual common::Result<std::string> participant_url(const std::string& address) = 0;
  virtual common::Result<double> validation_threshold(const std::string& model) = 0;
};

class PayloadFetcher {
 public:
  virtual ~PayloadFetcher() = default;
  // The executor's payload of `id` from its public URL (signed request; timeout; no redirect followed).
  virtual common::Result<Payload> fetch(const std::string& executor_url, const std::string& executor,
                                        const std::string& id) = 0;
};

class Replayer {
 public:
  virtual ~Replayer() = default;
  // Runs `request` (replay_request) on a local MLNode of `model`; the tokens of choice 0 and their logprobs.
  // Error kNoNode when no local MLNode serves the model in this epoch.
  virtual common::Result<std::vector<TokenLogprob>> replay(const std::string& model,
                                                           const nlohmann::json& request) = 0;
};

// What one step decided for one inference.
enum class Action { kRetry, kVoteValid, kVoteInvalid, kAbstain, kSkip };
std::string action_name(Action a);

struct Decision {
  Action action = Action::kRetry;
  std::string reason;
  bool after_poc = false;  // kRetry because our nodes mine during PoC: tried again after poc_retry_delay
};

struct ValidatorDeps {
  std::string address;  // this participant
  ValidatorChain* chain = nullptr;
  PayloadFetcher* fetcher = nullptr;
  Replayer* replayer = nullptr;
  state::StateStore* store = nullptr;
  server::Metrics* metrics = nullptr;  // optional
  // Durably queues MsgValidateInference{inference_id, valid} with `extra` in the same atomic write.
  std::function<common::Status(const std::string& id, bool valid, const state::WriteSet& extra)> vote;
};

struct ValidatorOptions {
  std::chrono::milliseconds retry_delay{1000};  // between attempts on one inference
  // Between attempts while our nodes of the model mine during PoC (the vote can only come after the switch).
  std::chrono::milliseconds poc_retry_delay{5000};
  std::chrono::milliseconds idle_wait{500};  // the thread's pause between steps
};

class Validator {
 public:
  Validator(ValidatorDeps deps, ValidatorOptions options = {});
  ~Validator();  // stop()

  // Remembers the sampled inferences finished in `block` (durably) and the chain height.
  void on_block(const chain::Block& block);
  // One pass over the remembered inferences whose retry time has come. Returns how many were settled.
  std::size_t step(std::chrono::steady_clock::time_point now);
  // One decision (no state written): used by step and by tests.
  Decision decide(const std::string& id, uint64_t height);

  // Forgets the outcomes settled below `below_height` (their deadlines are long past: a replayed event of
  // such an inference finds it decided on chain and is skipped). Returns how many.
  std::size_t prune(uint64_t below_height);

  void start();  // a thread calling step
  void stop();

  std::vector<std::string> remembered() const;                      // ids still to decide
  std::optional<std::string> outcome(const std::string& id) const;  // recorded action name, if settled

  static std::string todo_key(const std::string& id);
  static std::string done_key(const std::string& id);

 private:
  bool settle(const std::string& id, const Decision& d);  // false when the outcome could not be written
  ValidatorDeps d_;
  ValidatorOptions o_;
  std::atomic<uint64_t> height_{0};
  std::mutex mu_;  // next_try_
  std::map<std::string, std::chrono::steady_clock::time_point> next_try_;
  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::thread thread_;
};

}  // namespace api::validation
