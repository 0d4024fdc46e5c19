#include "api/status/recent_inferences.h"

#include <algorithm>
#include <charconv>

#include "common/events.h"

namespace api::status {
namespace {

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

BlockInferences inferences_of_block(const chain::Block& block) {
  BlockInferences out;
  for (const auto& tx : block.txs) {
    if (tx.code != 0) continue;
    for (const auto& ev : tx.events) {
      auto id = ev.attribute("inference_id");
      if (!id || id->empty()) continue;
      if (ev.type == common::events::kInferenceStarted) {
        out.started.emplace_back(
            *id, InferenceStart{ev.attribute("model").value_or(""), ev.attribute("executor").value_or(""),
                                ev.attribute("executor_node").value_or("")});
      } else if (ev.type == common::events::kInferenceFinished) {
        InferenceSummary s;
        s.id = *id;
        s.model = ev.attribute("model").value_or("");
        if (!parse_u64(ev.attribute("tokens").value_or(""), s.tokens)) continue;
        if (!parse_u64(ev.attribute("cost").value_or(""), s.cost)) continue;
        if (!parse_u64(ev.attribute("refund").value_or("0"), s.refund)) s.refund = 0;
        s.validation = ev.attribute("validation").value_or("");
        s.height = block.height;
        s.time_unix_ms = block.time_unix_ms;
        out.finished.push_back(std::move(s));
      }
    }
  }
  return out;
}

RecentInferences::RecentInferences(std::size_t capacity, std::size_t max_pending)
    : capacity_(capacity), max_pending_(max_pending) {}

void RecentInferences::observe(const chain::Block& block) {
  auto found = inferences_of_block(block);
  if (found.started.empty() && found.finished.empty()) return;
  std::lock_guard lock(mu_);
  for (auto& [id, start] : found.started) {
    if (pending_.emplace(id, std::move(start)).second) pending_order_.push_back(id);
    while (pending_order_.size() > max_pending_) {  // bounds pending_ too: its keys are all in pending_order_
      pending_.erase(pending_order_.front());
      pending_order_.pop_front();
    }
  }
  // This block's finishes go behind every newer block's and in front of every older block's (newest first;
  // within one block the later tx is the newer).
  auto pos = std::find_if(finished_.begin(), finished_.end(),
                          [&](const InferenceSummary& f) { return f.height < block.height; });
  for (auto& s : found.finished) {
    if (std::any_of(finished_.begin(), finished_.end(), [&](const auto& f) { return f.id == s.id; }))
      continue;  // a block observed twice
    auto p = pending_.find(s.id);
    if (p != pending_.end()) {
      s.executor = p->second.executor;
      s.executor_node = p->second.executor_node;
      pending_.erase(p);  // its id stays in pending_order_ until it ages out
    }
    pos = finished_.insert(pos, std::move(s));  // in front of the earlier txs of this block
  }
  while (finished_.size() > capacity_) finished_.pop_back();
}

std::vector<InferenceSummary> RecentInferences::list() const {
  std::lock_guard lock(mu_);
  return {finished_.begin(), finished_.end()};
}

}  // namespace api::status
