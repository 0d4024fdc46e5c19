// Runs PoC on this node: generation on all worker threads, validation of received batches, and a sender that
// posts results to the API node's callback every `send_interval` ({url}/generated, {url}/validated), retrying
// failed posts at the next tick, except those the API node refused for good (HTTP 410, see PostOutcome). The
// poster is injected so the service is testable without a network.
//
// Stages (issue 14, fault 8): a PoC stage is (block_hash, block_height). Everything pending — hits not yet
// posted, batches waiting for validation, validation results not yet posted — belongs to the stage it was
// made in and is posted with that stage's header to that stage's callback URL, never merged with another
// stage. An init request for another stage drops what is still pending from the previous one. The validation
// backlog (queued + being validated + results not yet posted) is bounded by max_validation_batches:
// validate() answers 503 when full.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "mlnode/poc/compute.h"
#include "mlnode/poc/messages.h"
#include "mlnode/poc/nonce_split.h"

namespace mlnode::poc {

// What became of one callback post (the contract with dapi's callback routes, src/api/poc/callbacks.h):
//   kDelivered  a 2xx answer: the API node queued it;
//   kRefused    410 Gone: refused for good (its PoC is over or its window closed): dropped, never resent;
//   kRetry      anything else (no answer, timeout, 409, 5xx, other 4xx): posted again at the next tick,
//               as long as its PoC stage is current.
enum class PostOutcome { kDelivered, kRetry, kRefused };
inline constexpr int kCallbackRefusedForGood = 410;
PostOutcome post_outcome_of_status(int http_status);

// Posts a JSON body to a URL and classifies the answer. Must time out on its own.
using Poster = std::function<PostOutcome(const std::string& url, const std::string& json_body)>;

struct PocServiceOptions {
  unsigned threads = 1;
  std::chrono::milliseconds send_interval{3000};
  std::size_t max_validation_batches = 256;
};

enum class PocPhase { kIdle, kGenerating, kValidating };
std::string to_string(PocPhase p);  // "IDLE", "GENERATING", "VALIDATING"

struct PocCounters {
  std::atomic<uint64_t> nonces_computed{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> batches_sent{0};
  std::atomic<uint64_t> validations_sent{0};
  std::atomic<uint64_t> nonces_validated{0};
  std::atomic<uint64_t> callback_failures{0};  // posts to be retried
  std::atomic<uint64_t> callbacks_refused{0};  // posts the API node refused for good (410), dropped
};

class PocService {
 public:
  PocService(PocServiceOptions options, Poster poster);
  ~PocService();
  PocService(const PocService&) = delete;
  PocService& operator=(const PocService&) = delete;

  // Starts (or keeps) generating for this init request. node_id/node_count are required here. The model is
  // rebuilt only when the block hash or the params change. Errors: 400 with a message.
  common::Status init_generate(const InitRequest& request);
  // Stops generating (pending hits are still sent) and accepts batches to validate.
  common::Status init_validate(const InitRequest& request);
  // Queues a batch for recomputation. 409 unless validating; 400 if it is for another block hash or height;
  // 503 when the validation backlog is full.
  common::Status validate(const ProofBatch& batch);
  // Stops every thread after one last attempt to post pending results; what still fails is dropped.
  void stop();

  nlohmann::json status() const;
  PocPhase phase() const;
  const PocCounters& counters() const { return counters_; }

 private:
  common::Status prepare(const InitRequest& request);  // caller holds mu_
  void join_generation_and_validation();               // caller holds control_mu_, not mu_
  void start_sender();                                 // caller holds mu_
  void generate_loop(std::stop_token st, std::shared_ptr<const PocCompute> compute, InitRequest init,
                     NonceSplit split);
  void validate_loop(std::stop_token st);
  void sender_loop(std::stop_token st);
  std::vector<double> recompute(const PocCompute& compute, const ProofBatch& batch, std::stop_token st);
  void send_pending();
  // Drops pending work of stages other than `request`'s; caller holds mu_.
  void enter_stage(const InitRequest& request);
  bool current_stage(const ProofBatch& b) const;  // caller holds mu_

  struct PendingHits {
    ProofBatch batch;
    std::string url;
  };
  struct PendingValidated {
    ValidatedBatch result;
    std::string url;
  };

  const PocServiceOptions options_;
  const Poster poster_;
  PocCounters counters_;

  std::mutex control_mu_;  // serialises init/stop calls; never taken by worker threads
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable_any cv_;
  InitRequest init_;
  bool initialized_ = false;
  PocPhase phase_ = PocPhase::kIdle;
  std::shared_ptr<const PocCompute> compute_;
  std::vector<std::jthread> workers_;
  std::jthread validator_;
  std::jthread sender_;
  std::atomic<uint64_t> next_index_{0};
  // What next_index_ counts for (block hash, key, node range, params): generating again for the same stage
  // after an interruption (init/validate, stop) continues where it stopped instead of re-sending the same
  // nonces.
  std::string generation_key_;
  std::chrono::steady_clock::time_point generation_started_;
  uint64_t computed_at_start_ = 0;
  std::vector<PendingHits> pending_generated_;  // hits not yet posted
  std::deque<ProofBatch> to_validate_;
  std::size_t validating_ = 0;  // batches taken by the validator and not yet in pending_validated_
  std::vector<PendingValidated> pending_validated_;
};

}  // namespace mlnode::poc
