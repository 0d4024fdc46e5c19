// Per-MLNode intended and observed state of the broker (issue 11 item 5; ARCHITECTURE §7.1 phases).
// Intended = what the phase dispatcher wants the node to run; observed = what the node itself last reported
// (GET /api/v1/state, /health, /api/v1/pow/status) or answered to the last command, plus the failure record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/broker/clock.h"

namespace api::broker {

enum class Intent {
  kNone,         // no decision yet (before the first block is dispatched): only observe the node
  kStopped,      // POST /api/v1/stop
  kInference,    // POST /api/v1/inference/up {model, args}
  kPocGenerate,  // POST /api/v1/pow/init/generate
  kPocValidate,  // POST /api/v1/pow/init/validate
};
const char* to_string(Intent intent);

// What pow/init/{generate,validate} gets. Generate and validate of one epoch send identical values (the
// MLNode re-initialises its PoC network only when they change).
struct PocInit {
  int64_t node_index = 0;  // 0-based index of this node among the participant's nodes (api/poc/node_index.h)
  int64_t node_count =
      1;  // number of the participant's nodes: nonces of node i are i, i+count, ... (no overlap)
  uint64_t block_height = 0;  // the epoch's PoC start height P
  std::string block_hash;     // hash of block P, as the chain reports it
  std::string public_key;     // the participant's account public key (api/poc: poc_public_key_hex)
  std::string callback_url;   // base URL: the node posts to {callback_url}/generated and /validated

  bool operator==(const PocInit&) const = default;
};

struct IntendedState {
  Intent intent = Intent::kNone;
  std::string model;              // kInference: the epoch snapshot's model id
  std::vector<std::string> args;  // kInference: merge_model_args(epoch args, local args)
  PocInit poc;                    // kPocGenerate, kPocValidate

  bool operator==(const IntendedState&) const = default;

  static IntendedState none() { return {}; }
  static IntendedState stopped() { return {Intent::kStopped, {}, {}, {}}; }
  static IntendedState inference(std::string model, std::vector<std::string> args) {
    return {Intent::kInference, std::move(model), std::move(args), {}};
  }
  static IntendedState poc_generate(PocInit init) { return {Intent::kPocGenerate, {}, {}, std::move(init)}; }
  static IntendedState poc_validate(PocInit init) { return {Intent::kPocValidate, {}, {}, std::move(init)}; }
};

// The node's service as it reported it.
enum class ServiceKind { kUnknown, kStopped, kInference, kPow };
enum class PowPhase { kNone, kNotLoaded, kIdle, kGenerating, kValidating };
const char* to_string(ServiceKind kind);
const char* to_string(PowPhase phase);

// One probe of a node: GET /api/v1/state, then /health when it serves inference or /api/v1/pow/status in POW.
struct NodeProbe {
  ServiceKind kind = ServiceKind::kUnknown;
  std::string model;     // kInference: the loaded model
  bool healthy = false;  // kInference: GET /health answered 200 with a healthy body
  PowPhase pow = PowPhase::kNone;
  std::optional<int64_t> pow_node_id;        // kPow: the node index it was initialised with
  std::optional<uint64_t> pow_block_height;  // kPow: the PoC start height it was initialised with

  bool operator==(const NodeProbe&) const = default;
};

struct FailureRecord {
  std::string reason;        // non-empty = the node is FAILED; kept until an action succeeds
  uint32_t consecutive = 0;  // failed attempts since the last success or intent change (drives the backoff)
  TimePoint retry_at{};      // no action before this time

  bool failed() const { return !reason.empty(); }
};

struct ObservedState {
  NodeProbe probe;                       // kind kUnknown = must probe before acting
  TimePoint observed_at{};               // when `probe` was learned (a probe or a command's answer)
  std::optional<IntendedState> applied;  // the intended state the last successful command reached
  FailureRecord failure;
};

// What /admin/v1/nodes shows as a node's current status: FAILED, INFERENCE, POC, STOPPED or UNKNOWN.
std::string status_name(const ObservedState& observed);

}  // namespace api::broker
