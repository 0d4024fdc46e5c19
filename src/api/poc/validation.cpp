#include "api/poc/validation.h"

#include <algorithm>

#include "common/bytes.h"
#include "common/hash.h"

namespace api::poc {
namespace {

// A deterministic stream of 64-bit draws: big-endian u64 of SHA-256(seed || be64(i)).
class DrawStream {
 public:
  explicit DrawStream(std::string seed) : seed_(std::move(seed)) {}
  uint64_t next() {
    std::string h = common::sha256(seed_ + common::be64(counter_++));
    return common::get_be64(h);
  }

 private:
  std::string seed_;
  uint64_t counter_ = 0;
};

}  // namespace

ValidationPlan plan_poc_validation(const ValidationInput& input) {
  // participant -> nonce -> dist (first seen), in sorted order.
  std::map<std::string, std::map<uint64_t, double>> by_participant;
  std::map<std::string, std::string> skipped;
  for (const chain::PocBatch& b : input.batches) {
    if (b.participant == input.own_address && !input.include_own) continue;
    if (b.poc_start_height != input.poc_start_height) {
      skipped[b.participant] =
          "batch \"" + b.batch_id + "\" belongs to the PoC at height " + std::to_string(b.poc_start_height);
      continue;
    }
    auto& nonces = by_participant[b.participant];
    for (size_t i = 0; i < b.nonces.size() && i < b.dist.size(); ++i) nonces.emplace(b.nonces[i], b.dist[i]);
  }
  ValidationPlan plan;
  for (auto& [participant, nonces] : by_participant) {
    auto key = input.public_keys.find(participant);
    if (key == input.public_keys.end() || key->second.empty()) {
      skipped[participant] = "no public key known for the participant";
      continue;
    }
    std::vector<std::pair<uint64_t, double>> all(nonces.begin(), nonces.end());
    const size_t n = std::min(input.sample_size, all.size());
    DrawStream draws(input.own_address + '\0' + participant + '\0' + input.block_hash + '\0' +
                     common::be64(input.poc_start_height));
    for (size_t i = 0; i < n; ++i) {  // partial Fisher-Yates
      size_t j = i + static_cast<size_t>(draws.next() % (all.size() - i));
      std::swap(all[i], all[j]);
    }
    all.resize(n);
    std::sort(all.begin(), all.end());
    ValidationJob job;
    job.participant = participant;
    job.batch.public_key = key->second;
    job.batch.block_hash = input.block_hash;
    job.batch.block_height = input.poc_start_height;
    for (const auto& [nonce, dist] : all) {
      job.batch.nonces.push_back(nonce);
      job.batch.dist.push_back(dist);
    }
    plan.jobs.push_back(std::move(job));
  }
  for (auto& [participant, why] : skipped) plan.skipped.push_back(participant + ": " + why);
  return plan;
}

std::vector<ValidationSent> send_validation_jobs(
    const std::vector<ValidationJob>& jobs,
    const std::vector<std::pair<std::string, std::shared_ptr<broker::MlnodeDriver>>>& validators,
    int max_attempts) {
  std::vector<ValidationSent> out;
  for (size_t i = 0; i < jobs.size(); ++i) {
    ValidationSent sent{jobs[i].participant, "", false, "no node is validating"};
    const size_t n = validators.size();
    const size_t attempts = std::min(n, static_cast<size_t>(std::max(max_attempts, 1)));
    for (size_t a = 0; a < attempts; ++a) {
      const auto& [node_id, driver] = validators[(i + a) % n];
      auto st = driver->pow_validate(jobs[i].batch);
      if (st.ok()) {
        sent.node_id = node_id;
        sent.ok = true;
        sent.error.clear();
        break;
      }
      sent.error = node_id + ": " + st.error().message;
    }
    out.push_back(std::move(sent));
  }
  return out;
}

}  // namespace api::poc
