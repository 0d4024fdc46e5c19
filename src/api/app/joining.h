// Joining the network (issue 11 item 2): register the participant if the chain does not know it
// (MsgSubmitNewParticipant with its public URL and validator key) and keep the chain's hardware record equal
// to the node list (MsgSubmitHardwareDiff with only the differences), retried until the chain shows it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/app/tx_queue.h"
#include "api/chain/chain_client.h"
#include "api/state/node_registry.h"
#include "common/ed25519.h"

namespace api::app {

// What the chain records for one local node: models in declared order, hardware, host and ports. The status
// is always INFERENCE: phase changes are dapi's business and must not cause a tx each (a Gonka fault).
chain::HardwareNode to_hardware_node(const config::NodeConfig& node);

struct HardwareDiff {
  std::vector<chain::HardwareNode>
      new_or_modified;               // local nodes missing on chain or different (by local_id)
  std::vector<std::string> removed;  // on chain, no longer local
  bool empty() const { return new_or_modified.empty() && removed.empty(); }
};
// Compares models (order matters: the first is the node's epoch model), host, ports and hardware (as a
// multiset); never the status. Output sorted by local id.
HardwareDiff hardware_diff(const std::vector<state::NodeEntry>& local,
                           const std::vector<chain::HardwareNode>& on_chain);

common::tx::TxMessage hardware_diff_message(const std::string& creator, const HardwareDiff& diff);
common::tx::TxMessage new_participant_message(const std::string& creator, const std::string& url,
                                              const common::ed25519::KeyPair& validator_key,
                                              const std::string& chain_id);

struct JoinStatus {
  bool registered = false;
  bool hardware_in_sync = false;
  std::string last_error;
};

// Background loop: every `interval` (and at once after wake()) checks registration, then the hardware record,
// queueing at most one message of each kind at a time.
class Joiner {
 public:
  Joiner(const chain::ChainClient& chain, TxQueue& txs, const state::NodeRegistry& nodes, std::string address,
         std::string public_url, common::ed25519::KeyPair validator_key, std::string chain_id,
         std::chrono::milliseconds interval);
  ~Joiner();
  void start();
  void stop();
  void wake();
  JoinStatus status() const;
  // One pass (also used by tests): true when registered and the hardware record matches.
  bool sync_once();

 private:
  void run();

  const chain::ChainClient& chain_;
  TxQueue& txs_;
  const state::NodeRegistry& nodes_;
  std::string address_;
  std::string public_url_;
  common::ed25519::KeyPair validator_key_;
  std::string chain_id_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  JoinStatus status_;
  std::condition_variable cv_;
  bool woken_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace api::app
