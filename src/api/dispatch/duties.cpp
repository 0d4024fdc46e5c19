#include "api/dispatch/duties.h"

namespace api::dispatch {

const char* to_string(DutyKind kind) {
  switch (kind) {
    case DutyKind::kReadEpochData:
      return "read_epoch_data";
    case DutyKind::kFetchPocBlockHash:
      return "fetch_poc_block_hash";
    case DutyKind::kSubmitSeed:
      return "submit_seed";
    case DutyKind::kValidatePocBatches:
      return "validate_poc_batches";
  }
  return "?";
}

bool DutyTracker::try_begin(const std::string& key, uint64_t epoch_index) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key, Entry{epoch_index, false});
  return inserted;  // an existing entry is either in flight or done
}

void DutyTracker::complete(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) it->second.done = true;
}

void DutyTracker::fail(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.done) entries_.erase(it);
}

void DutyTracker::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  const std::string qualified = key + "@";
  for (auto it = entries_.begin(); it != entries_.end();) {  // few keys: a scan is fine
    if (it->first == key || it->first.compare(0, qualified.size(), qualified) == 0) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

bool DutyTracker::done(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.done;
}

bool DutyTracker::in_flight(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && !it->second.done;
}

void DutyTracker::prune(uint64_t epoch_index) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.epoch < epoch_index && it->second.done) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

std::map<std::string, uint64_t> DutyTracker::done_keys() const {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [key, e] : entries_) {
    if (e.done) out[key] = e.epoch;
  }
  return out;
}

void DutyTracker::restore(const std::map<std::string, uint64_t>& done) {
  std::lock_guard lock(mu_);
  for (const auto& [key, epoch] : done) entries_[key] = Entry{epoch, true};
}

size_t DutyTracker::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace api::dispatch
