// The one path by which dapi's messages reach the chain (issue 11 item 9). A message is first queued durably
// in the state store (txq/<seq>, keyed by an idempotency key that is accepted at most once, ever), then a
// single sender thread packs up to `max_batch` queued messages into one tx, signs it with the local sequence
// (api::chain::TxSender), broadcasts and waits for inclusion:
//   - included with code 0: the messages leave the queue;
//   - refused by the chain (CheckTx or DeliverTx code != 0) in a tx of several messages: each is retried
//     alone, so one bad message cannot hold back the others;
//   - refused alone: classified by its result code (never by log text; classify_chain_code below):
//     already on chain (an earlier copy landed) -> settled like an inclusion; a definitive refusal -> dropped
//     with its code and log (metric dapi_tx_failures_total{kind,code}, log line, on_result);
//   - transport error, no inclusion in time, or a code that says "try again" (sequence mismatch, mempool
//     full, the node's internal error): kept and retried after `retry_delay`.
// Queued messages survive a restart (kill -9 included) and are sent after it. A message sent again after a
// crash between inclusion and dequeue is refused by the chain as a duplicate (PoC batch ids and seeds are
// unique per participant on chain), so nothing lands twice.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/chain/tx_sender.h"
#include "api/server/metrics.h"
#include "api/state/state_store.h"
#include "common/tx/tx_codec.h"

namespace api::app {

struct QueuedMessage {
  uint64_t seq = 0;
  std::string idempotency_key;  // e.g. "poc_batch/<batch id>", "seed/<epoch>"
  std::string kind;  // metric label: poc_batch, poc_validation, seed, hardware_diff, new_participant
  common::tx::TxMessage message;
};

struct TxOutcome {
  std::string idempotency_key;
  std::string kind;
  uint32_t code = 0;  // 0 = included; else the chain's result code (common/tx/codes.h, docs/errors.md)
  std::string log;
  uint64_t height = 0;
  bool on_chain = false;  // included now, or refused because an earlier copy already is (code 0 or dup)
};

// What the queue does with a message the chain answered with `code` (a code of common/tx/codes.h or a
// client-side error of api/chain/chain_client.h); a pure function of the code, so of no log text.
enum class ChainAnswer {
  kIncluded,        // code 0
  kAlreadyOnChain,  // kPocBatchAlreadySubmitted, kSeedAlreadySubmitted, kInferenceFinished: an earlier copy
                    // landed
  kRetry,    // no answer / transport trouble, kWrongSequence, kMempoolFull, kTxInMempoolCache, kInternal
  kRefused,  // any other chain code (e.g. kPocBatchWindowClosed): dropped, resending cannot help
};
ChainAnswer classify_chain_code(uint32_t code);

struct TxQueueOptions {
  size_t max_batch = 20;
  std::chrono::milliseconds retry_delay{1000};
};

class TxQueue {
 public:
  // `chain` (optional) looks up the tx that awaited inclusion before a restart.
  TxQueue(state::StateStore& store, chain::TxSender& sender, server::Metrics& metrics,
          TxQueueOptions options = {}, const chain::ChainClient* chain = nullptr);
  ~TxQueue();  // stop()
  TxQueue(const TxQueue&) = delete;
  TxQueue& operator=(const TxQueue&) = delete;

  enum class Enqueued { kQueued, kDuplicate };
  // Durably queues `message` unless `idempotency_key` was queued before (then kDuplicate, nothing changes).
  // Returns only after the state store has it on disk. Error = the store refused the write.
  common::Result<Enqueued> enqueue(const std::string& idempotency_key, const std::string& kind,
                                   common::tx::TxMessage message);
  // The same, adding `extra` to the same atomic write (e.g. a duty marker).
  common::Result<Enqueued> enqueue_with(const std::string& idempotency_key, const std::string& kind,
                                        common::tx::TxMessage message, const state::WriteSet& extra);
  bool was_queued(const std::string& idempotency_key) const;
  size_t pending(const std::string& kind = "") const;

  // Called on the sender thread for each message that left the queue (included or dropped).
  void on_result(std::function<void(const TxOutcome&)> callback);

  void start();
  void stop();
  void wake();

 private:
  void run();
  std::vector<QueuedMessage> load(size_t limit) const;
  // Sends `batch` as one tx; true when the chain answered (included or refused), false on transport trouble.
  bool send(const std::vector<QueuedMessage>& batch);
  // Each message in its own tx, all broadcast before waiting; false when some must be retried later.
  bool send_each(const std::vector<QueuedMessage>& batch);
  void finish(const std::vector<QueuedMessage>& batch, uint32_t code, const std::string& log,
              uint64_t height);
  // After a restart: the tx that was awaiting inclusion, if any, settles its messages when the chain has it.
  void settle_in_flight();

  state::StateStore& store_;
  chain::TxSender& sender_;
  const chain::ChainClient* chain_;  // for settle_in_flight; may be null (then in-flight txs are re-sent)
  server::Metrics& metrics_;
  TxQueueOptions options_;
  mutable std::mutex mu_;  // guards next_seq_ and enqueue's check-then-write
  uint64_t next_seq_ = 1;
  std::function<void(const TxOutcome&)> callback_;
  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace api::app
