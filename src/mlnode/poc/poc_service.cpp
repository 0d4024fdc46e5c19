#include "mlnode/poc/poc_service.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <map>
#include <tuple>

namespace mlnode::poc {

std::string to_string(PocPhase p) {
  switch (p) {
    case PocPhase::kIdle:
      return "IDLE";
    case PocPhase::kGenerating:
      return "GENERATING";
    case PocPhase::kValidating:
      return "VALIDATING";
  }
  return "UNKNOWN";
}

PostOutcome post_outcome_of_status(int http_status) {
  if (http_status / 100 == 2) return PostOutcome::kDelivered;
  if (http_status == kCallbackRefusedForGood) return PostOutcome::kRefused;
  return PostOutcome::kRetry;
}

PocService::PocService(PocServiceOptions options, Poster poster)
    : options_(options), poster_(std::move(poster)) {
  if (options_.threads == 0) throw std::invalid_argument("PocService needs at least one thread");
}

PocService::~PocService() {
  stop();
}

bool PocService::current_stage(const ProofBatch& b) const {
  return initialized_ && b.block_hash == init_.block_hash && b.block_height == init_.block_height;
}

void PocService::enter_stage(const InitRequest& request) {
  if (initialized_ && request.block_hash == init_.block_hash && request.block_height == init_.block_height)
    return;
  const std::size_t dropped = pending_generated_.size() + to_validate_.size() + pending_validated_.size();
  if (dropped > 0) {
    spdlog::warn(
        "poc: new stage (block {} height {}): dropping {} batches of the previous stage that were not sent",
        request.block_hash, request.block_height, dropped);
  }
  pending_generated_.clear();
  to_validate_.clear();
  pending_validated_.clear();
}

common::Status PocService::prepare(const InitRequest& request) {
  enter_stage(request);
  if (!compute_ || compute_->block_hash() != request.block_hash || !(compute_->params() == request.params)) {
    spdlog::info("poc: building model for block {} (height {}), dim {} layers {}", request.block_hash,
                 request.block_height, request.params.dim, request.params.n_layers);
    compute_ = std::make_shared<const PocCompute>(request.block_hash, request.params);
  }
  init_ = request;
  initialized_ = true;
  return {};
}

void PocService::join_generation_and_validation() {
  std::vector<std::jthread> workers;
  std::jthread validator;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
    validator = std::move(validator_);
  }
  for (auto& w : workers) w.request_stop();
  validator.request_stop();
  cv_.notify_all();
  // jthreads join here, outside mu_: workers take mu_ to hand over their hits.
}

void PocService::start_sender() {
  if (!sender_.joinable()) sender_ = std::jthread([this](std::stop_token st) { sender_loop(st); });
}

common::Status PocService::init_generate(const InitRequest& request) {
  auto split = NonceSplit::make(request.node_id, request.node_count);
  if (!split) return split.error();
  std::lock_guard control(control_mu_);
  {
    std::lock_guard lock(mu_);
    if (phase_ == PocPhase::kGenerating && init_ == request) return {};  // already doing exactly this
  }
  join_generation_and_validation();
  std::lock_guard lock(mu_);
  to_validate_.clear();
  TRY_STATUS(prepare(request));
  phase_ = PocPhase::kGenerating;
  const std::string key = fmt::format("{}|{}|{}|{}|{}", request.block_hash, request.public_key,
                                      request.node_id, request.node_count, to_json(request.params).dump());
  if (key != generation_key_) {
    generation_key_ = key;
    next_index_ = 0;
  }
  generation_started_ = std::chrono::steady_clock::now();
  computed_at_start_ = counters_.nonces_computed.load();
  for (unsigned i = 0; i < options_.threads; ++i) {
    workers_.emplace_back([this, c = compute_, init = init_, s = *split](std::stop_token st) {
      generate_loop(st, c, init, s);
    });
  }
  start_sender();
  spdlog::info("poc: generating as node {} of {} on {} threads", request.node_id, request.node_count,
               options_.threads);
  return {};
}

common::Status PocService::init_validate(const InitRequest& request) {
  std::lock_guard control(control_mu_);
  {
    std::lock_guard lock(mu_);
    if (phase_ == PocPhase::kValidating && init_ == request) return {};
  }
  join_generation_and_validation();
  std::lock_guard lock(mu_);
  TRY_STATUS(prepare(request));
  phase_ = PocPhase::kValidating;
  validator_ = std::jthread([this](std::stop_token st) { validate_loop(st); });
  start_sender();
  spdlog::info("poc: validating for block {}", request.block_hash);
  return {};
}

common::Status PocService::validate(const ProofBatch& batch) {
  std::lock_guard lock(mu_);
  if (phase_ != PocPhase::kValidating) {
    return common::make_error(
        409, fmt::format("PoC is {}; POST /api/v1/pow/init/validate before /api/v1/pow/validate",
                         to_string(phase_)));
  }
  if (batch.block_hash != init_.block_hash || batch.block_height != init_.block_height) {
    return common::make_error(
        400, fmt::format("batch is for block {} at height {} but validation was initialised for "
                         "block {} at height {}",
                         batch.block_hash, batch.block_height, init_.block_hash, init_.block_height));
  }
  const std::size_t backlog = to_validate_.size() + validating_ + pending_validated_.size();
  if (backlog >= options_.max_validation_batches) {
    return common::make_error(
        503, fmt::format("the validation queue is full ({} batches queued, being validated or "
                         "waiting to be posted; limit {}); retry later",
                         backlog, options_.max_validation_batches));
  }
  to_validate_.push_back(batch);
  cv_.notify_all();
  return {};
}

void PocService::stop() {
  std::lock_guard control(control_mu_);
  join_generation_and_validation();
  std::jthread sender;
  {
    std::lock_guard lock(mu_);
    sender = std::move(sender_);
  }
  sender.request_stop();
  cv_.notify_all();
  if (sender.joinable()) {
    sender.join();
    send_pending();  // one last attempt, so work done before the stop is not lost
  }
  std::lock_guard lock(mu_);
  phase_ = PocPhase::kIdle;
  pending_generated_.clear();
  pending_validated_.clear();
  to_validate_.clear();
}

void PocService::generate_loop(std::stop_token st, std::shared_ptr<const PocCompute> compute,
                               InitRequest init, NonceSplit split) {
  const auto chunk = static_cast<uint64_t>(init.batch_size);
  while (!st.stop_requested()) {
    const uint64_t first = next_index_.fetch_add(chunk);
    ProofBatch hits{init.public_key, init.block_hash, init.block_height, {}, {}, init.node_id};
    for (uint64_t x = first; x < first + chunk && !st.stop_requested(); ++x) {
      const uint64_t nonce = split.nonce_at(x);
      const double d = compute->distance(init.public_key, nonce);
      counters_.nonces_computed.fetch_add(1, std::memory_order_relaxed);
      if (d < init.r_target) {
        hits.nonces.push_back(nonce);
        hits.dist.push_back(d);
      }
    }
    if (!hits.nonces.empty()) {
      counters_.hits.fetch_add(hits.nonces.size(), std::memory_order_relaxed);
      std::lock_guard lock(mu_);
      if (current_stage(hits)) pending_generated_.push_back({std::move(hits), init.url});
    }
  }
}

std::vector<double> PocService::recompute(const PocCompute& compute, const ProofBatch& batch,
                                          std::stop_token st) {
  std::vector<double> out(batch.nonces.size(), INFINITY);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < out.size() && !st.stop_requested(); i = next++) {
      out[i] = compute.distance(batch.public_key, batch.nonces[i]);
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < options_.threads; ++t) helpers.emplace_back(work);
    work();
  }
  return out;
}

void PocService::validate_loop(std::stop_token st) {
  while (!st.stop_requested()) {
    ProofBatch batch;
    std::shared_ptr<const PocCompute> compute;
    InitRequest init;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, st, [&] { return !to_validate_.empty(); });
      if (st.stop_requested()) return;
      batch = std::move(to_validate_.front());
      to_validate_.pop_front();
      ++validating_;
      compute = compute_;
      init = init_;
    }
    const std::vector<double> recomputed = recompute(*compute, batch, st);
    if (st.stop_requested()) {
      std::lock_guard lock(mu_);
      --validating_;
      return;
    }
    counters_.nonces_validated.fetch_add(batch.nonces.size());
    ValidatedBatch v =
        judge_batch(batch, recomputed, init.r_target, init.fraud_threshold, init.dist_tolerance);
    spdlog::info("poc: validated {} nonces of {}: {} invalid, fraud {}", batch.nonces.size(),
                 batch.public_key, v.n_invalid, v.fraud_detected);
    std::lock_guard lock(mu_);
    --validating_;
    if (current_stage(v.batch)) pending_validated_.push_back({std::move(v), init.url});
  }
}

void PocService::sender_loop(std::stop_token st) {
  while (!st.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, st, options_.send_interval, [] { return false; });
    }
    if (st.stop_requested()) return;
    send_pending();
  }
}

void PocService::send_pending() {
  std::vector<PendingHits> generated;
  std::vector<PendingValidated> validated;
  {
    std::lock_guard lock(mu_);
    generated.swap(pending_generated_);
    validated.swap(pending_validated_);
  }
  // Merge the hits found since the last tick into one batch per (url, stage, key, node), in nonce order.
  std::map<std::tuple<std::string, std::string, int64_t, std::string, int64_t>, PendingHits> merged;
  for (auto& h : generated) {
    const auto key =
        std::make_tuple(h.url, h.batch.block_hash, h.batch.block_height, h.batch.public_key, h.batch.node_id);
    auto [it, fresh] = merged.try_emplace(key, PendingHits{h.batch, h.url});
    if (!fresh) {
      it->second.batch.nonces.insert(it->second.batch.nonces.end(), h.batch.nonces.begin(),
                                     h.batch.nonces.end());
      it->second.batch.dist.insert(it->second.batch.dist.end(), h.batch.dist.begin(), h.batch.dist.end());
    }
  }
  std::vector<PendingHits> failed_hits;
  for (auto& [key, h] : merged) {
    std::vector<std::pair<uint64_t, double>> all;
    for (std::size_t i = 0; i < h.batch.nonces.size(); ++i)
      all.emplace_back(h.batch.nonces[i], h.batch.dist[i]);
    std::sort(all.begin(), all.end());
    h.batch.nonces.clear();
    h.batch.dist.clear();
    for (const auto& [n, d] : all) {
      h.batch.nonces.push_back(n);
      h.batch.dist.push_back(d);
    }
    const PostOutcome outcome = poster_(h.url + "/generated", to_json(h.batch).dump());
    if (outcome == PostOutcome::kDelivered) {
      counters_.batches_sent.fetch_add(1);
    } else if (outcome == PostOutcome::kRefused) {
      counters_.callbacks_refused.fetch_add(1);
    } else {
      counters_.callback_failures.fetch_add(1);
      failed_hits.push_back(std::move(h));
    }
  }
  std::vector<PendingValidated> failed;
  for (auto& v : validated) {
    const PostOutcome outcome = poster_(v.url + "/validated", to_json(v.result).dump());
    if (outcome == PostOutcome::kDelivered) {
      counters_.validations_sent.fetch_add(1);
    } else if (outcome == PostOutcome::kRefused) {
      counters_.callbacks_refused.fetch_add(1);
    } else {
      counters_.callback_failures.fetch_add(1);
      failed.push_back(std::move(v));
    }
  }
  // Retried at the next tick, unless a new stage began meanwhile.
  std::lock_guard lock(mu_);
  for (auto& h : failed_hits) {
    if (current_stage(h.batch)) pending_generated_.push_back(std::move(h));
  }
  for (auto& v : failed) {
    if (current_stage(v.result.batch)) pending_validated_.push_back(std::move(v));
  }
}

PocPhase PocService::phase() const {
  std::lock_guard lock(mu_);
  return phase_;
}

nlohmann::json PocService::status() const {
  std::lock_guard lock(mu_);
  nlohmann::json j = {{"status", to_string(phase_)},
                      {"is_model_initialized", compute_ != nullptr && initialized_},
                      {"threads", options_.threads},
                      {"nonces_computed", counters_.nonces_computed.load()},
                      {"hits", counters_.hits.load()},
                      {"batches_sent", counters_.batches_sent.load()},
                      {"validations_sent", counters_.validations_sent.load()},
                      {"nonces_validated", counters_.nonces_validated.load()},
                      {"callback_failures", counters_.callback_failures.load()},
                      {"pending_validations", to_validate_.size()}};
  if (initialized_) {
    j["node_id"] = init_.node_id;
    j["node_count"] = init_.node_count;
    j["block_height"] = init_.block_height;
    j["block_hash"] = init_.block_hash;
  }
  double rate = 0;
  if (phase_ == PocPhase::kGenerating) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - generation_started_).count();
    if (secs > 0) rate = static_cast<double>(counters_.nonces_computed.load() - computed_at_start_) / secs;
  }
  j["nonces_per_second"] = rate;
  return j;
}

}  // namespace mlnode::poc
