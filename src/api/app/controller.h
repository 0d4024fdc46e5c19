// The participant's controller loop (issue 11 items 4-8): for every followed block it feeds the phase
// dispatcher (api/dispatch) with the block height and the epoch's stage heights, hands the resulting intended
// state of each MLNode to the reconciler (api/broker), and runs the dispatcher's one-shot duties: reading
// epoch data (update_node_with_epoch_data), fetching the PoC block hash, submitting the seed, validating
// other participants' batches. It also turns MLNode callbacks into durably queued PoC messages (poc::PocSink
// over the TxQueue) and describes each node for /admin/v1/nodes and /metrics.
//
// Threads: on_block runs on the follower's thread; validation jobs run on one background thread at a time;
// callbacks and admin reads run on server threads. The dispatcher is guarded by one mutex; no chain or MLNode
// call is made while holding it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/app/tx_queue.h"
#include "api/broker/clock.h"
#include "api/broker/http_mlnode_driver.h"
#include "api/broker/reconciler.h"
#include "api/chain/chain_client.h"
#include "api/dispatch/dispatcher.h"
#include "api/server/metrics.h"
#include "api/state/node_registry.h"
#include "api/state/state_store.h"
#include "api/upgrade/node_versions.h"
#include "api/upgrade/version_switcher.h"
#include "common/secp256k1.h"
#include "net/http.h"

namespace api::app {

struct ControllerDeps {
  const chain::ChainClient* chain = nullptr;
  TxQueue* txs = nullptr;
  state::StateStore* store = nullptr;
  state::NodeRegistry* nodes = nullptr;
  server::Metrics* metrics = nullptr;
  std::string address;  // our account (bech32)
  common::secp256k1::PrivateKey account_key;
  std::string callback_url;  // base URL our MLNodes call back (…/v1/poc-batches is appended)
  // The version each node's URLs use (api/upgrade/node_versions.h); drivers are created at it and moved by
  // the MLNode version switch (use_version). Required.
  upgrade::NodeVersions* versions = nullptr;
  std::chrono::milliseconds recheck_interval{5000};
  size_t validation_sample_size = 200;  // config poc.validation_sample_size
};

// The dispatcher's frame for `height` given the frame the chain reports now: while catching up after a
// restart the followed block may lie epochs behind the chain's tip, so the frame steps back one epoch_length
// at a time (the shared stage function gives the stages) until its PoC start is at or below `height` (epoch
// >= 1).
dispatch::EpochFrame frame_for_height(const dispatch::EpochFrame& reported,
                                      const common::epochs::EpochParams& params, uint64_t height);

// Also the MLNode version switch's view of the nodes (upgrade::NodeFleet): hold/busy/settled over the
// reconciler, stop_version and use_version over the drivers.
class Controller final : public upgrade::NodeFleet {
 public:
  explicit Controller(ControllerDeps deps);
  ~Controller() override;  // stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void start();
  void stop();

  // One followed block (in order, each once per run). Returns when the block's decisions are recorded:
  // intended states handed to the reconciler, duties run or started, done duty keys persisted.
  void on_block(const chain::Block& block, const chain::EpochInfo& epoch);
  // The node list changed (admin API): re-sync the reconciler and the dispatcher.
  void sync_nodes();

  // /admin/v1/nodes "state" of a node: intended and observed state, failure reason, epoch models and
  // timeslots.
  nlohmann::json node_state(const std::string& id) const;

  // MLNode callbacks (POST /v1/poc-batches/generated | validated).
  net::Response on_generated(const std::string& body);
  net::Response on_validated(const std::string& body);

  // upgrade::NodeFleet
  std::vector<std::string> node_ids() override;
  void hold(const std::string& id, bool on) override;
  bool busy(const std::string& id) override;
  common::Status stop_version(const std::string& id, const std::string& version) override;
  void use_version(const std::string& id, const std::string& version) override;
  bool settled(const std::string& id) override;
  bool failing(const std::string& id) override;
  common::Status probe_version(const std::string& id, const std::string& version) override;

 private:
  void run_duties(const std::vector<dispatch::Duty>& duties, uint64_t height,
                  const dispatch::EpochFrame& frame);
  void run_duty(const dispatch::Duty& d, uint64_t height, const dispatch::EpochFrame& frame);
  bool submit_seed(uint64_t epoch_index);
  void start_validation(const dispatch::Duty& d, const dispatch::EpochFrame& frame);
  void update_metrics(const dispatch::DispatchOutput& out);
  void persist_assignment();  // on the follower's thread
  // The node's configured endpoint, or an error naming it when it was removed from the config.
  common::Result<broker::MlnodeEndpoint> configured_endpoint(const std::string& id) const;

  ControllerDeps deps_;
  std::string public_key_hex_;
  std::string hrp_;
  broker::SteadyClock clock_;
  std::unique_ptr<broker::Reconciler> reconciler_;

  mutable std::mutex mu_;  // guards everything below
  dispatch::Dispatcher dispatcher_;
  std::map<std::string, std::shared_ptr<broker::HttpMlnodeDriver>> drivers_;
  std::map<std::string, broker::MlnodeEndpoint> endpoints_;
  uint64_t nodes_generation_ = UINT64_MAX;
  std::optional<dispatch::EpochFrame> frame_;
  uint64_t height_ = 0;                                // the last block followed
  std::optional<common::epochs::EpochParams> params_;  // as reported with it
  std::optional<dispatch::DispatchOutput> last_;
  std::string last_phase_;
  std::optional<poc::PocAssignment> persisted_assignment_;

  std::thread validation_thread_;
  std::atomic<bool> validation_running_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace api::app
