// The last inferences finished on chain, as dapi sees them while following blocks (issue 15 item 4: the
// status page lists them with their tokens and cost). Read from the chain's own events in each committed
// block: `inference_started` (inference_id, model, executor, executor_node) and `inference_finished`
// (inference_id, model, tokens, cost, refund, validation) of src/chain/x/inference. Only successful txs (code
// 0) count. Blocks may be observed out of order (dapi reads the blocks before the one it starts following
// from while it follows, StatusBoard::start_backfill): the list stays ordered by height.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/chain/types.h"

namespace api::status {

struct InferenceSummary {
  std::string id;
  std::string model;
  std::string executor;       // bech32; empty when its start was not seen (started before we followed)
  std::string executor_node;  // empty likewise
  uint64_t tokens = 0;        // prompt + completion tokens
  uint64_t cost = 0;  // in the chain's base denom, moved from escrow to the executor (or held for validation)
  uint64_t refund = 0;       // escrow returned to the requester
  std::string validation;    // "sampled" | "not_sampled"
  uint64_t height = 0;       // block of MsgFinishInference
  int64_t time_unix_ms = 0;  // that block's time
};

struct InferenceStart {
  std::string model;
  std::string executor;
  std::string executor_node;
};

// Pure: the inference_started and inference_finished events of one block's successful txs, in tx order.
// A finished event whose tokens or cost is not a decimal integer is left out.
struct BlockInferences {
  std::vector<std::pair<std::string, InferenceStart>> started;  // (inference id, start)
  std::vector<InferenceSummary> finished;                       // executor fields not yet joined
};
BlockInferences inferences_of_block(const chain::Block& block);

// Thread-safe ring of the last `capacity` finished inferences; remembers up to `max_pending` started ones to
// name the executor of a later finish.
class RecentInferences {
 public:
  explicit RecentInferences(std::size_t capacity = 20, std::size_t max_pending = 1024);

  void observe(const chain::Block& block);
  std::vector<InferenceSummary> list() const;  // newest first: by height, then later txs first

 private:
  std::size_t capacity_, max_pending_;
  mutable std::mutex mu_;
  std::deque<InferenceSummary> finished_;  // newest first
  std::map<std::string, InferenceStart> pending_;
  std::deque<std::string> pending_order_;  // insertion order, to forget the oldest
};

}  // namespace api::status
