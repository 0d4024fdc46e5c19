// Per-MLNode concurrency of the executor (issue 12 item 3; Gonka held a node lock for a whole generation and
// had no bound per node, api-node-facts §7.10). A request takes a slot on the least loaded eligible node with
// fewer than max_concurrent requests running; the slot is freed when the lease is destroyed (also when the
// client went away or the call failed). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace api::inference {

struct Candidate {
  std::string node_id;
  uint32_t max_concurrent = 1;
};

class NodePool;

class NodeLease {
 public:
  NodeLease(NodePool* pool, std::string node_id) : pool_(pool), node_id_(std::move(node_id)) {}
  ~NodeLease();
  NodeLease(const NodeLease&) = delete;
  NodeLease& operator=(const NodeLease&) = delete;
  const std::string& node_id() const { return node_id_; }

 private:
  NodePool* pool_;
  std::string node_id_;
};

class NodePool {
 public:
  // The least loaded candidate below its max_concurrent; ties go to `preferred`, then to candidate order.
  // nullptr when every candidate is full (the caller answers 429).
  std::unique_ptr<NodeLease> acquire(const std::vector<Candidate>& candidates,
                                     const std::string& preferred = "");
  uint32_t in_flight(const std::string& node_id) const;

 private:
  friend class NodeLease;
  void release(const std::string& node_id);
  mutable std::mutex mu_;
  std::map<std::string, uint32_t> in_flight_;
};

}  // namespace api::inference
