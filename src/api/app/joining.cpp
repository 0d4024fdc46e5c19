#include "api/app/joining.h"

#include <algorithm>
#include <chrono>

#include "common/bytes.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/participant_key.h"
#include "inference/nodes.pb.h"

namespace api::app {
namespace {

template <class Msg>
std::string type_url() {
  return "/" + Msg::descriptor()->full_name();
}

std::vector<std::pair<std::string, uint64_t>> hardware_multiset(const std::vector<chain::Hardware>& hw) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& h : hw) out.emplace_back(h.type, h.count);
  std::sort(out.begin(), out.end());
  return out;
}

bool same_record(const chain::HardwareNode& a, const chain::HardwareNode& b) {
  return a.local_id == b.local_id && a.models == b.models && a.host == b.host &&
         a.inference_port == b.inference_port && a.poc_port == b.poc_port &&
         hardware_multiset(a.hardware) == hardware_multiset(b.hardware);
}

std::string now_ms() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

}  // namespace

chain::HardwareNode to_hardware_node(const config::NodeConfig& node) {
  chain::HardwareNode h;
  h.local_id = node.id;
  h.status = "INFERENCE";
  h.models = node.model_order;
  for (const auto& hw : node.hardware) h.hardware.push_back({hw.type, hw.count});
  h.host = node.host;
  h.inference_port = node.inference_port;
  h.poc_port = node.poc_port;
  return h;
}

HardwareDiff hardware_diff(const std::vector<state::NodeEntry>& local,
                           const std::vector<chain::HardwareNode>& on_chain) {
  HardwareDiff diff;
  for (const auto& entry : local) {
    auto want = to_hardware_node(entry.config);
    auto it = std::find_if(on_chain.begin(), on_chain.end(),
                           [&](const auto& c) { return c.local_id == want.local_id; });
    if (it == on_chain.end() || !same_record(*it, want)) diff.new_or_modified.push_back(want);
  }
  for (const auto& c : on_chain) {
    bool kept =
        std::any_of(local.begin(), local.end(), [&](const auto& e) { return e.config.id == c.local_id; });
    if (!kept) diff.removed.push_back(c.local_id);
  }
  std::sort(diff.new_or_modified.begin(), diff.new_or_modified.end(),
            [](const auto& a, const auto& b) { return a.local_id < b.local_id; });
  std::sort(diff.removed.begin(), diff.removed.end());
  return diff;
}

common::tx::TxMessage hardware_diff_message(const std::string& creator, const HardwareDiff& diff) {
  inference::inference::MsgSubmitHardwareDiff msg;
  msg.set_creator(creator);
  for (const auto& n : diff.new_or_modified) {
    auto* h = msg.add_new_or_modified();
    h->set_local_id(n.local_id);
    h->set_status(inference::inference::HARDWARE_NODE_STATUS_INFERENCE);
    for (const auto& m : n.models) h->add_models(m);
    for (const auto& hw : n.hardware) {
      auto* x = h->add_hardware();
      x->set_type(hw.type);
      x->set_count(static_cast<uint32_t>(hw.count));
    }
    h->set_host(n.host);
    h->set_inference_port(n.inference_port);
    h->set_poc_port(n.poc_port);
  }
  for (const auto& id : diff.removed) msg.add_removed(id);
  return {type_url<inference::inference::MsgSubmitHardwareDiff>(), msg.SerializeAsString()};
}

common::tx::TxMessage new_participant_message(const std::string& creator, const std::string& url,
                                              const common::ed25519::KeyPair& validator_key,
                                              const std::string& chain_id) {
  inference::inference::MsgSubmitNewParticipant msg;
  msg.set_creator(creator);
  msg.set_url(url);
  msg.set_validator_public_key(validator_key.public_key);
  // The chain binds the key only with this proof of possession (docs/transactions.md "Validator key proof").
  msg.set_validator_key_signature(common::participant_key::sign(validator_key, chain_id, creator));
  return {type_url<inference::inference::MsgSubmitNewParticipant>(), msg.SerializeAsString()};
}

Joiner::Joiner(const chain::ChainClient& chain, TxQueue& txs, const state::NodeRegistry& nodes,
               std::string address, std::string public_url, common::ed25519::KeyPair validator_key,
               std::string chain_id, std::chrono::milliseconds interval)
    : chain_(chain),
      txs_(txs),
      nodes_(nodes),
      address_(std::move(address)),
      public_url_(std::move(public_url)),
      validator_key_(std::move(validator_key)),
      chain_id_(std::move(chain_id)),
      interval_(interval) {}

Joiner::~Joiner() {
  stop();
}

void Joiner::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Joiner::stop() {
  stopping_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
}

void Joiner::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

JoinStatus Joiner::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool Joiner::sync_once() {
  JoinStatus st;
  auto participant = chain_.participant(address_);
  if (!participant) {
    if (participant.error().code != 404) {
      st.last_error = "cannot read participant " + address_ + ": " + participant.error().message;
      spdlog::warn("joining: {}", st.last_error);
    } else if (txs_.pending("new_participant") == 0) {
      spdlog::info("joining: {} is not a participant yet; sending MsgSubmitNewParticipant (url {})", address_,
                   public_url_);
      auto q = txs_.enqueue("new_participant/" + now_ms(), "new_participant",
                            new_participant_message(address_, public_url_, validator_key_, chain_id_));
      if (!q) st.last_error = q.error().message;
    }
    std::lock_guard lock(mu_);
    status_ = st;
    return false;
  }
  st.registered = true;
  auto on_chain = chain_.hardware_nodes(address_);
  if (!on_chain) {
    st.last_error = "cannot read the hardware record: " + on_chain.error().message;
    spdlog::warn("joining: {}", st.last_error);
  } else {
    auto diff = hardware_diff(nodes_.list(), *on_chain);
    st.hardware_in_sync = diff.empty();
    if (!diff.empty() && txs_.pending("hardware_diff") == 0) {
      spdlog::info(
          "joining: hardware record differs: {} new or modified, {} removed; sending MsgSubmitHardwareDiff",
          diff.new_or_modified.size(), diff.removed.size());
      auto q =
          txs_.enqueue("hardware_diff/" + now_ms(), "hardware_diff", hardware_diff_message(address_, diff));
      if (!q) st.last_error = q.error().message;
    }
  }
  bool done = st.registered && st.hardware_in_sync;
  std::lock_guard lock(mu_);
  status_ = st;
  return done;
}

void Joiner::run() {
  while (!stopping_) {
    sync_once();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, interval_, [&] { return woken_ || stopping_.load(); });
    woken_ = false;
  }
}

}  // namespace api::app
