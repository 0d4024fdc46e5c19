// The inference path of dapi (issue 12): POST /v1/chat/completions as transfer agent and as executor, and
// the read API over the chain. docs/dapi-inference.md describes the flow, headers, statuses and timeouts.
//
// Transfer agent (a request with `Authorization: Bearer <api key>`; the participant is the requester):
//   validate body → model must be served in the current epoch (404 lists the served ones) → prompt tokens
//   from a local MLNode's /tokenize → prompt + max_tokens <= the snapshot's context_window (400) →
//   escrow = (prompt + max_tokens) × per-token price of the epoch snapshot, 402 when the balance is short →
//   executor from the chain's executor query (during PoC only POC_SLOT nodes) → MsgStartInference, waited
//   for until committed (the escrow is held before any work) → run locally when we are the executor, else
//   forward to the executor's dapi with signed headers (hop_signature.h) and relay its answer. An executor
//   that cannot be reached or answers 5xx before its first byte is replaced (executor_attempts draws, each a
//   new inference; the abandoned one expires with a refund); never after a byte reached the client.
// Executor (a request with the X-Inference-Id headers): verify the signature, the on-chain record (started,
//   names this participant as executor and the signer as transfer agent, same model) and single use (409 on
//   a replay) → a local MLNode of the model in this epoch (least loaded below max_concurrent; during PoC
//   only its POC_SLOT nodes; 429 + Retry-After when all are busy) → the MLNode on the chain's current
//   version URL → relay (ids rewritten) → MsgFinishInference with the MLNode's usage and the response hash,
//   queued durably. An upstream error or timeout ends a stream with an error event and nothing is finished
//   (the escrow comes back at expiry).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/chain/chain_client.h"
#include "api/chain/tx_sender.h"
#include "api/config/config.h"
#include "api/inference/hop_policy.h"
#include "api/inference/node_health.h"
#include "api/server/metrics.h"
#include "api/upgrade/node_versions.h"
#include "api/validation/payload_store.h"
#include "common/result.h"
#include "common/secp256k1.h"
#include "common/tx/tx_codec.h"
#include "net/address_policy.h"
#include "net/http.h"

namespace api::inference {

using std::chrono::milliseconds;

struct InferenceOptions {
  std::size_t max_body_bytes = 1 << 20;  // 413 above it
  uint64_t default_max_tokens = 1024;    // completion budget when the request names none
  milliseconds tokenize_timeout{10000};  // a whole /tokenize call (local MLNode or the tokenize hop)
  HopTimeouts executor_hop;              // transfer agent -> executor's dapi (hop_policy.h)
  HopTimeouts mlnode_hop;                // executor -> its MLNode
  // Outbound calls to participant URLs (the executor hop, the tokenize hop) reach only addresses this
  // policy allows (net/address_policy.h): public ones, plus the configured networks.
  net::AddressPolicy outbound;
  milliseconds max_clock_skew{30000};  // executor: |now - X-Timestamp|
  int retry_after_seconds = 1;         // 429 when every node is busy
  int executor_attempts = 3;  // executors tried when one fails before its first byte (transport error, 5xx)
  std::string denom = "nicoin";  // the chain's base denom (balances, escrow)
};

struct InferenceDeps {
  const chain::ChainClient* chain = nullptr;
  chain::TxSender* sender = nullptr;  // MsgStartInference: sent and waited for
  // Durably queues MsgFinishInference under an idempotency key (the tx queue).
  std::function<common::Status(const std::string& key, common::tx::TxMessage)> enqueue;
  std::function<std::vector<config::NodeConfig>()> local_nodes;  // enabled nodes only
  std::string address;                                           // this participant (bech32)
  common::secp256k1::PrivateKey key;
  std::vector<std::string> api_keys;
  server::Metrics* metrics = nullptr;
  // Executor-side validation payloads (docs/inference-validation.md); null = none recorded.
  validation::PayloadStore* payloads = nullptr;
  // The reconciler's live view of a local node (nullopt: not observed yet). Unset = every configured node
  // is taken as serving (tests without a reconciler).
  std::function<std::optional<NodeHealth>(const std::string& node_id)> node_health = nullptr;
  // The MLNode version each local node's URLs use (ARCHITECTURE §8, api/upgrade/node_versions.h): calls are
  // counted in flight per (node, version) so an upgrade drains them; nodes being switched are skipped for
  // tokenizing. Null (unit tests): the chain's current version, read per call.
  upgrade::NodeVersions* versions = nullptr;
};

class InferenceService {
 public:
  InferenceService(InferenceDeps deps, InferenceOptions options = {});
  ~InferenceService();

  // POST /v1/chat/completions (both roles).
  void chat_completions(const net::Request& req, net::ResponseWriter& w);
  // POST /v1/tokenize: the tokenize hop (hop_signature.h), answered from a local MLNode.
  net::Response tokenize(const net::Request& req);
  // Read API.
  net::Response models(const net::Request& req);
  net::Response pricing(const net::Request& req);
  net::Response epoch_current(const net::Request& req);
  net::Response participants(const net::Request& req);
  net::Response inference_record(const net::Request& req);
  // The governance registry (seed 3.6-3.8): every registered model, and its price at the current epoch's
  // unit_of_compute_price (the price a model would have if served now; there is no dynamic pricing).
  net::Response governance_models(const net::Request& req);
  net::Response governance_pricing(const net::Request& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace api::inference
