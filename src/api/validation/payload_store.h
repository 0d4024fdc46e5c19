// Where the executor keeps its validation payloads (payload.h): dapi's state store (RocksDB), so a payload
// survives a restart until its validation deadline is past. Keys (integers big-endian, state_store.h):
//   validation/payload/<inference id>               JSON payload_to_json
//   validation/payload_at/<recorded height>/<id>    ""   (index for pruning)
// A payload is kept `keep_blocks` blocks after the height at which it was recorded; set_chain() sets it to
// 2 × inference_expiration_blocks + epoch_length + 10: the deadline is finish height +
// inference_expiration_blocks, or, when that window meets a PoC, before the next PoC start after that PoC
// (at most finish + inference_expiration_blocks + epoch_length; docs/inference-validation.md "Deadlines and
// PoC"), and the finish tx may take some blocks to land. It turns recording off while
// inference_validation_rate_ppm is 0.
// Thread-safe (the executor's request threads record, the validator's thread prunes).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/state/state_store.h"
#include "api/validation/payload.h"

namespace api::validation {

class PayloadStore {
 public:
  PayloadStore(state::StateStore& store, OutputFault fault = OutputFault::kNone);

  // The executor hook (src/api/inference/service.cpp): a recording for this run, or nullptr when nothing is
  // recorded (validation off and no test fault). Turns logprobs on in `mlnode_body`.
  std::unique_ptr<PayloadRecording> begin(const std::string& inference_id, nlohmann::json& mlnode_body) const;
  // Persists the payload of a complete answer (before MsgFinishInference is queued). Errors are logged.
  void record(const PayloadRecording& recording, const nlohmann::json& mlnode_body);

  std::optional<Payload> get(const std::string& inference_id) const;
  // Erases the payloads recorded more than keep_blocks below `height`; returns how many.
  std::size_t prune(uint64_t height);

  // What the chain says (the validator service refreshes it): the current height, whether validation is on
  // (rate > 0), inference_expiration_blocks and the effective epoch's epoch_length.
  void set_chain(uint64_t height, bool validation_on, uint64_t expiration_blocks, uint64_t epoch_length);
  uint64_t height() const { return height_; }
  OutputFault fault() const { return fault_; }

  static std::string key(const std::string& inference_id);

 private:
  state::StateStore& store_;
  OutputFault fault_;
  std::atomic<uint64_t> height_{0};
  std::atomic<bool> on_{true};  // until the chain's params are read
  std::atomic<uint64_t> keep_blocks_{1000};
};

}  // namespace api::validation
