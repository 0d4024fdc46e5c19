// One-shot duties of the phase dispatcher and their idempotency keys (issue 11 item 4; api-node-facts §7
// fragile point 6). A duty is due on every block of its stage RANGE until it is done, so a block seen late
// still triggers it and a block seen twice does not trigger it twice; the tracker lets only one attempt run
// at a time.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace api::dispatch {

enum class DutyKind {
  kReadEpochData,       // read_epoch_data(epoch): the effective epoch's data (again from P on, for POC_SLOT
                        // flags chosen at P-1), or the next epoch's once it is formed (validation_end)
  kFetchPocBlockHash,   // the hash of block P (pow/init needs it)
  kSubmitSeed,          // MsgSubmitSeed for epoch N, window [P, validation_end]
  kValidatePocBatches,  // validate other participants' batches of N, window [validation_start,
                        // validation_end)
};
const char* to_string(DutyKind kind);

struct Duty {
  DutyKind kind = DutyKind::kReadEpochData;
  uint64_t epoch_index = 0;   // the epoch the duty is for
  std::string key;            // idempotency key, e.g. "seed/5"; stable across restarts (persist done keys)
  uint64_t window_start = 0;  // heights where the duty is due, inclusive
  uint64_t window_end = 0;
  std::string reason;

  bool operator==(const Duty&) const = default;
};

// Tracks each key as pending (absent), in flight or done. Thread-safe (duties finish on task threads).
// Bounded: prune() drops keys of epochs that can no longer be due.
class DutyTracker {
 public:
  // True (and marks it in flight) when the key is neither done nor in flight.
  bool try_begin(const std::string& key, uint64_t epoch_index);
  void complete(const std::string& key);  // done: never due again
  void fail(const std::string& key);      // back to pending: due again on the next block of its window
  // Forgets `key` and its qualified forms "key@..." (pending again; used when re-readable data arrived).
  void forget(const std::string& key);
  bool done(const std::string& key) const;
  bool in_flight(const std::string& key) const;
  // Forgets keys of epochs < `epoch_index`.
  void prune(uint64_t epoch_index);
  // Done keys with their epochs, to persist; restore() puts them back after a restart.
  std::map<std::string, uint64_t> done_keys() const;
  void restore(const std::map<std::string, uint64_t>& done);
  size_t size() const;

 private:
  struct Entry {
    uint64_t epoch = 0;
    bool done = false;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace api::dispatch
