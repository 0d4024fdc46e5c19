// JSON messages of the PoC routes and callbacks: init requests, proof batches, validated batches.
// Field names follow the reference MLNode so existing API nodes understand them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"
#include "mlnode/poc/model_params.h"

namespace mlnode::poc {

inline constexpr double kDefaultRTarget = 1.4013564660458173;
inline constexpr double kDefaultDistTolerance = 1e-4;

struct InitRequest {
  int64_t node_id = -1;
  int64_t node_count = -1;
  std::string block_hash;
  int64_t block_height = 0;
  std::string public_key;
  int64_t batch_size = 100;  // nonces per work unit of one thread
  double r_target = kDefaultRTarget;
  double fraud_threshold = 1e-7;
  double dist_tolerance = kDefaultDistTolerance;  // |recomputed - reported| above this is a mismatch
  ModelParams params;
  std::string url;  // callback base: batches go to {url}/generated and {url}/validated

  bool operator==(const InitRequest&) const = default;
};

struct ProofBatch {
  std::string public_key;
  std::string block_hash;
  int64_t block_height = 0;
  std::vector<uint64_t> nonces;
  std::vector<double> dist;
  int64_t node_id = 0;
};

struct ValidatedBatch {
  ProofBatch batch;                  // dist = recomputed distances
  std::vector<double> received_dist;  // what the prover reported
  double r_target = 0;
  double fraud_threshold = 0;
  uint64_t n_invalid = 0;
  double probability_honest = 1.0;
  bool fraud_detected = false;
};

// Every field is type-checked; errors name the field. 400 is the error code.
common::Result<InitRequest> parse_init_request(const nlohmann::json& j);
common::Result<ProofBatch> parse_proof_batch(const nlohmann::json& j);

nlohmann::json to_json(const InitRequest& r);
nlohmann::json to_json(const ProofBatch& b);
nlohmann::json to_json(const ValidatedBatch& v);

// Compares recomputed with reported distances. A nonce is a mismatch when the prover claimed a distance not under
// r_target, when the recomputed distance is not under r_target, or when the two differ by more than `tolerance`.
// The fraud decision is the binomial test of fraud.h.
ValidatedBatch judge_batch(const ProofBatch& received, const std::vector<double>& recomputed, double r_target,
                           double fraud_threshold, double tolerance);

}  // namespace mlnode::poc
