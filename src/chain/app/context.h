// What a message handler or block hook sees: a store branch, the block it runs in, and an event sink.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/store/kv.h"
#include "chain/types/event.h"

namespace chain::app {

struct BlockInfo {
  std::string chain_id;
  uint64_t height = 0;
  int64_t time_unix_ms = 0;  // from the block header, never from a local clock
  std::string last_block_hash;
  std::string proposer;
};

class Context {
 public:
  Context(store::KvStore& store, const BlockInfo& block, const std::string& hrp, std::vector<types::Event>& events)
      : store_(store), block_(block), hrp_(hrp), events_(events) {}

  store::KvStore& store() { return store_; }
  const store::KvReader& reader() const { return store_; }
  const BlockInfo& block() const { return block_; }
  uint64_t height() const { return block_.height; }
  const std::string& hrp() const { return hrp_; }
  void emit(types::Event event) { events_.push_back(std::move(event)); }
  // A context over another store (a branch) sharing block info and the event sink.
  Context with_store(store::KvStore& other) const { return Context(other, block_, hrp_, events_); }

 private:
  store::KvStore& store_;
  const BlockInfo& block_;
  const std::string& hrp_;
  std::vector<types::Event>& events_;
};

}  // namespace chain::app
