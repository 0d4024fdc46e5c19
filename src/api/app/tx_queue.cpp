#include "api/app/tx_queue.h"

#include <nlohmann/json.hpp>

#include "api/chain/chain_client.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/tx/codes.h"

namespace api::app {
namespace {

std::string encode(const QueuedMessage& m) {
  return nlohmann::json{{"key", m.idempotency_key},
                        {"kind", m.kind},
                        {"type_url", m.message.type_url},
                        {"value", common::to_base64(m.message.value)}}
      .dump();
}

std::optional<QueuedMessage> decode(uint64_t seq, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    auto value = common::from_base64(j.at("value").get<std::string>());
    if (!value) return std::nullopt;
    return QueuedMessage{seq, j.at("key"), j.at("kind"), {j.at("type_url"), *value}};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

TxQueue::TxQueue(state::StateStore& store, chain::TxSender& sender, server::Metrics& metrics,
                 TxQueueOptions options, const chain::ChainClient* chain)
    : store_(store), sender_(sender), chain_(chain), metrics_(metrics), options_(options) {
  auto rows = store_.scan(state::keys::tx_queue_prefix());
  if (!rows.empty()) {
    next_seq_ =
        state::decode_u64(rows.back().first.substr(state::keys::tx_queue_prefix().size())).value_or(0) + 1;
  }
  if (!rows.empty()) spdlog::info("tx queue: {} message(s) pending from before the restart", rows.size());
}

TxQueue::~TxQueue() {
  stop();
}

common::Result<TxQueue::Enqueued> TxQueue::enqueue(const std::string& idempotency_key,
                                                   const std::string& kind, common::tx::TxMessage message) {
  return enqueue_with(idempotency_key, kind, std::move(message), {});
}

common::Result<TxQueue::Enqueued> TxQueue::enqueue_with(const std::string& idempotency_key,
                                                        const std::string& kind,
                                                        common::tx::TxMessage message,
                                                        const state::WriteSet& extra) {
  {
    std::lock_guard lock(mu_);
    if (store_.has(state::keys::tx_key(idempotency_key))) return Enqueued::kDuplicate;
    QueuedMessage m{next_seq_, idempotency_key, kind, std::move(message)};
    state::WriteSet ws = extra;
    ws.put(state::keys::tx_queue(m.seq), encode(m));
    ws.put(state::keys::tx_key(idempotency_key), state::encode_u64(m.seq));
    auto st = store_.write(ws);
    if (!st) return st.error();
    ++next_seq_;
  }
  metrics_.counter_add("dapi_tx_messages_queued_total", "Messages durably queued for the chain, by kind",
                       {{"kind", kind}});
  wake();
  return Enqueued::kQueued;
}

bool TxQueue::was_queued(const std::string& idempotency_key) const {
  return store_.has(state::keys::tx_key(idempotency_key));
}

size_t TxQueue::pending(const std::string& kind) const {
  size_t n = 0;
  for (const auto& [key, value] : store_.scan(state::keys::tx_queue_prefix())) {
    if (kind.empty()) {
      ++n;
    } else if (auto m = decode(0, value); m && m->kind == kind) {
      ++n;
    }
  }
  return n;
}

void TxQueue::on_result(std::function<void(const TxOutcome&)> callback) {
  callback_ = std::move(callback);
}

void TxQueue::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void TxQueue::stop() {
  stopping_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
}

void TxQueue::wake() {
  std::lock_guard lock(wake_mu_);
  woken_ = true;
  wake_cv_.notify_all();
}

std::vector<QueuedMessage> TxQueue::load(size_t limit) const {
  std::vector<QueuedMessage> out;
  for (const auto& [key, value] : store_.scan(state::keys::tx_queue_prefix())) {
    uint64_t seq = state::decode_u64(key.substr(state::keys::tx_queue_prefix().size())).value_or(0);
    auto m = decode(seq, value);
    if (!m) {
      spdlog::error("tx queue: dropping unreadable entry {}", seq);
      (void)store_.write(state::WriteSet().erase(key));
      continue;
    }
    out.push_back(std::move(*m));
    if (out.size() >= limit) break;
  }
  return out;
}

void TxQueue::settle_in_flight() {
  auto saved = store_.get(state::keys::tx_in_flight());
  if (!saved || !chain_) return;
  auto j = nlohmann::json::parse(*saved, nullptr, false);
  if (!j.is_object() || !j.contains("hash") || !j.contains("seqs") || !j["seqs"].is_array()) {
    (void)store_.write(state::WriteSet().erase(state::keys::tx_in_flight()));
    return;
  }
  std::string hash = j["hash"].get<std::string>();
  auto found = chain_->tx(hash);
  if (!found) {
    if (found.error().code == 404) {
      spdlog::info("tx queue: tx {} from before the restart is not on chain; its messages are sent again",
                   hash);
      (void)store_.write(state::WriteSet().erase(state::keys::tx_in_flight()));
    }
    return;  // chain unreachable: try again on the next round
  }
  std::vector<QueuedMessage> batch;
  for (const auto& seq : j["seqs"]) {
    uint64_t n = seq.get<uint64_t>();
    if (auto value = store_.get(state::keys::tx_queue(n))) {
      if (auto m = decode(n, *value)) batch.push_back(std::move(*m));
    }
  }
  if (found->code == 0) {
    spdlog::info("tx queue: tx {} from before the restart was included at height {}; {} message(s) settled",
                 hash, found->height, batch.size());
    finish(batch, 0, found->log, found->height);
  } else {
    (void)store_.write(
        state::WriteSet().erase(state::keys::tx_in_flight()));  // refused: the messages are retried
  }
}

ChainAnswer classify_chain_code(uint32_t code) {
  namespace codes = common::tx::codes;
  if (code == codes::kOk) return ChainAnswer::kIncluded;
  if (chain::is_client_error(code)) return ChainAnswer::kRetry;
  switch (code) {
    case codes::kPocBatchAlreadySubmitted:
    case codes::kSeedAlreadySubmitted:
    case codes::kInferenceFinished:  // only the executor finishes an inference: our own earlier copy
      return ChainAnswer::kAlreadyOnChain;
    case codes::kWrongSequence:
    case codes::kMempoolFull:
    case codes::kTxInMempoolCache:
    case codes::kInternal:
      return ChainAnswer::kRetry;
    default:
      return ChainAnswer::kRefused;
  }
}

void TxQueue::finish(const std::vector<QueuedMessage>& batch, uint32_t code, const std::string& log,
                     uint64_t height) {
  state::WriteSet ws;
  ws.erase(state::keys::tx_in_flight());
  for (const auto& m : batch) ws.erase(state::keys::tx_queue(m.seq));
  if (auto st = store_.write(ws); !st) spdlog::error("tx queue: {}", st.error().message);
  const ChainAnswer answer = classify_chain_code(code);
  const std::string code_label = std::to_string(code);
  for (const auto& m : batch) {
    if (answer == ChainAnswer::kIncluded) {
      metrics_.counter_add("dapi_tx_messages_included_total",
                           "Messages included in a block with code 0, by kind", {{"kind", m.kind}});
    } else if (answer == ChainAnswer::kAlreadyOnChain) {
      metrics_.counter_add("dapi_tx_messages_already_on_chain_total",
                           "Messages settled because the chain already holds an earlier copy, by kind",
                           {{"kind", m.kind}});
      spdlog::info("tx queue: {} ({}) is already on chain (code {} {}); settled", m.kind, m.idempotency_key,
                   code, common::tx::codes::name_of(code));
    } else {
      metrics_.counter_add("dapi_tx_failures_total",
                           "Messages the chain refused (dropped), by kind and result code (docs/errors.md)",
                           {{"kind", m.kind}, {"code", code_label}});
      spdlog::warn("tx queue: chain refused {} ({}): code {} {} ({}): {}", m.kind, m.idempotency_key, code,
                   common::tx::codes::name_of(code), common::tx::codes::codespace_of(code), log);
    }
    if (callback_) {
      callback_(TxOutcome{m.idempotency_key, m.kind, code, log, height,
                          answer == ChainAnswer::kIncluded || answer == ChainAnswer::kAlreadyOnChain});
    }
  }
}

namespace {
bool transient_code(uint32_t code) {
  return classify_chain_code(code) == ChainAnswer::kRetry;
}
}  // namespace

bool TxQueue::send_each(const std::vector<QueuedMessage>& batch) {
  // All broadcast back to back (the local sequence lets them share a block), then each confirmed: a refused
  // message costs one block, not one block per message.
  std::vector<std::pair<QueuedMessage, std::string>> sent;
  bool all = true;
  for (const auto& m : batch) {
    auto r = sender_.broadcast({m.message});
    if (!r) {
      if (transient_code(r.error().code)) {
        all = false;  // the rest (and this one) are retried on the next round
        break;
      }
      finish({m}, r.error().code, r.error().message, 0);
      continue;
    }
    sent.emplace_back(m, r->txhash);
  }
  for (const auto& [m, hash] : sent) {
    auto included = sender_.wait_for_inclusion(hash);
    if (!included) {
      metrics_.counter_add("dapi_tx_retries_total", "Broadcasts retried after a transport error or timeout");
      all = false;
      continue;  // stays queued; a second copy is refused by the chain as a duplicate
    }
    if (transient_code(included->code)) {
      all = false;  // e.g. the node's internal error: stays queued
      continue;
    }
    finish({m}, included->code, included->log, included->height);
  }
  return all;
}

bool TxQueue::send(const std::vector<QueuedMessage>& batch) {
  std::vector<common::tx::TxMessage> msgs;
  for (const auto& m : batch) msgs.push_back(m.message);
  auto sent = sender_.broadcast(msgs);
  if (!sent) {
    uint32_t code = sent.error().code;
    if (transient_code(code)) {
      metrics_.counter_add("dapi_tx_retries_total", "Broadcasts retried after a transport error or timeout");
      spdlog::warn("tx queue: broadcast of {} message(s) failed, will retry: {}", batch.size(),
                   sent.error().message);
      return false;
    }
    if (batch.size() > 1) return send_each(batch);
    finish(batch, code, sent.error().message, 0);
    return true;
  }
  nlohmann::json seqs = nlohmann::json::array();
  for (const auto& m : batch) seqs.push_back(m.seq);
  if (auto st = store_.write(state::WriteSet().put(
          state::keys::tx_in_flight(), nlohmann::json{{"hash", sent->txhash}, {"seqs", seqs}}.dump()));
      !st) {
    spdlog::error("tx queue: {}", st.error().message);
  }
  auto included = sender_.wait_for_inclusion(sent->txhash);
  if (!included) {
    metrics_.counter_add("dapi_tx_retries_total", "Broadcasts retried after a transport error or timeout");
    spdlog::warn("tx queue: tx {} not confirmed, will retry: {}", sent->txhash, included.error().message);
    return false;
  }
  if (included->code != 0 && batch.size() > 1) return send_each(batch);
  if (transient_code(included->code)) {
    spdlog::warn("tx queue: tx {} failed with code {} {}, will retry: {}", sent->txhash, included->code,
                 common::tx::codes::name_of(included->code), included->log);
    (void)store_.write(state::WriteSet().erase(state::keys::tx_in_flight()));
    return false;
  }
  finish(batch, included->code, included->log, included->height);
  return true;
}

void TxQueue::run() {
  while (!stopping_ && store_.has(state::keys::tx_in_flight()) && chain_) {
    settle_in_flight();
    if (!store_.has(state::keys::tx_in_flight())) break;
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, options_.retry_delay, [&] { return stopping_.load(); });
  }
  while (!stopping_) {
    auto batch = load(options_.max_batch);
    bool ok = true;
    if (!batch.empty()) ok = send(batch);
    metrics_.gauge_set("dapi_tx_queue_pending", "Messages waiting in the durable tx queue", {},
                       static_cast<double>(store_.scan(state::keys::tx_queue_prefix()).size()));
    if (!batch.empty() && ok) continue;
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, batch.empty() ? std::chrono::milliseconds(1000) : options_.retry_delay,
                      [&] { return woken_ || stopping_.load(); });
    woken_ = false;
  }
}

}  // namespace api::app
