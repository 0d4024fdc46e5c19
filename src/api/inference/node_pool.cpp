#include "api/inference/node_pool.h"

namespace api::inference {

NodeLease::~NodeLease() {
  if (pool_) pool_->release(node_id_);
}

std::unique_ptr<NodeLease> NodePool::acquire(const std::vector<Candidate>& candidates,
                                             const std::string& preferred) {
  std::lock_guard lock(mu_);
  const Candidate* best = nullptr;
  uint32_t best_load = 0;
  for (const auto& c : candidates) {
    auto it = in_flight_.find(c.node_id);
    uint32_t load = it == in_flight_.end() ? 0 : it->second;
    if (load >= c.max_concurrent) continue;
    if (!best || load < best_load ||
        (load == best_load && c.node_id == preferred && best->node_id != preferred)) {
      best = &c;
      best_load = load;
    }
  }
  if (!best) return nullptr;
  ++in_flight_[best->node_id];
  return std::make_unique<NodeLease>(this, best->node_id);
}

uint32_t NodePool::in_flight(const std::string& node_id) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(node_id);
  return it == in_flight_.end() ? 0 : it->second;
}

void NodePool::release(const std::string& node_id) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(node_id);
  if (it == in_flight_.end()) return;
  if (--it->second == 0) in_flight_.erase(it);
}

}  // namespace api::inference
