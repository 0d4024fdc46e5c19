// dapi's embedded state store (RocksDB under state_dir): everything dapi learns or decides at run time, so a
// restart (even after kill -9) resumes where it stopped. The YAML config is never written.
//
// Every write() is one RocksDB WriteBatch written with sync=true: all of it or nothing survives a crash.
// Collections (keys::* builds every key; integers are big-endian so byte order = numeric order):
//   meta/last_processed_height   u64   the last block whose duties are durably recorded
//   meta/mlnode_version/current, meta/mlnode_version/last_used   string
//   meta/poc_assignment          JSON  node index/count of the current PoC (kept across a restart mid-PoC)
//   seed/<epoch>                 JSON  {seed, signature_hex}: this participant's seed for that epoch
//   txq/<seq>                    JSON  a message waiting to reach the chain (tx_queue.h)
//   txkey/<idempotency key>      seq   dedupes queued messages: a key is queued at most once, ever
//   meta/tx_in_flight            JSON  {hash, seqs}: the broadcast tx awaiting inclusion (checked after a
//   restart) duty/<key>                   ""    one-shot duties already done (dispatcher idempotency keys)
//   node/upsert/<id>, node/deleted/<id>, node/disabled/<id>   admin changes over config.yaml's node list
// Thread-safe (RocksDB is).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace api::state {

namespace keys {
std::string last_processed_height();
std::string mlnode_version_current();
std::string mlnode_version_last_used();
std::string poc_assignment();
std::string seed(uint64_t epoch);
std::string tx_queue(uint64_t seq);
std::string tx_queue_prefix();
std::string tx_in_flight();
std::string tx_key(const std::string& idempotency_key);
std::string duty(const std::string& duty_key);
std::string node_upsert(const std::string& id);
std::string node_deleted(const std::string& id);
std::string node_disabled(const std::string& id);
std::string node_upsert_prefix();
std::string node_deleted_prefix();
std::string node_disabled_prefix();
}  // namespace keys

// A set of changes applied atomically by StateStore::write.
class WriteSet {
 public:
  WriteSet& put(std::string key, std::string value);
  WriteSet& erase(std::string key);
  bool empty() const { return ops_.empty(); }
  const std::vector<std::pair<std::string, std::optional<std::string>>>& ops() const { return ops_; }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> ops_;
};

class StateStore {
 public:
  // Creates the directory if needed. Error code 1 with RocksDB's reason (e.g. locked by another dapi).
  static common::Result<std::unique_ptr<StateStore>> open(const std::string& dir);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  std::optional<std::string> get(const std::string& key) const;
  // All (key, value) pairs whose key starts with `prefix`, in key order.
  std::vector<std::pair<std::string, std::string>> scan(const std::string& prefix) const;
  // Atomic and durable (fsync) before it returns; error code 1 when RocksDB refuses.
  common::Status write(const WriteSet& changes);

  // Typed helpers over the collections above.
  uint64_t last_processed_height() const;  // 0 when nothing was processed yet
  common::Status set_last_processed_height(uint64_t height);
  std::optional<std::string> get_string(const std::string& key) const { return get(key); }
  bool has(const std::string& key) const { return get(key).has_value(); }

 private:
  struct Impl;
  explicit StateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string encode_u64(uint64_t v);  // 8 bytes big-endian
std::optional<uint64_t> decode_u64(const std::string& bytes);

}  // namespace api::state
