// Typed, blocking queries of inferenced's HTTP RPC for dapi (ARCHITECTURE §2: api talks to the chain over
// HTTP only). Every call has a timeout and checks the status code; GETs retry transport failures a bounded
// number of times. Thread-safe: calls share no mutable state.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "api/chain/parse.h"
#include "api/chain/types.h"
#include "common/result.h"

namespace api::chain {

// Error codes of a failed call (common::Error::code). A non-2xx answer uses the HTTP status as the code and
// the node's error.message as the message; a malformed answer uses kMalformedAnswer (parse.h). These
// client-side codes never collide with the chain's result codes (common/tx/codes.h: "sdk" 1-99, "inference"
// 1000-999999), so a caller tells "the chain refused it" from "no answer" by the code alone
// (is_client_error).
inline constexpr uint32_t kTransportError = 1000001;  // connection refused/reset, invalid URL
inline constexpr uint32_t kTimeoutError = 1000002;    // no complete answer within ChainClientOptions::timeout
// True for the codes above, kMalformedAnswer and HTTP statuses; false for the chain's result codes.
constexpr bool is_client_error(uint32_t code) {
  return (code >= 100 && code < 600) || code >= 1000000;
}

struct ChainClientOptions {
  std::chrono::milliseconds timeout{5000};  // per attempt: connect + send + full answer
  unsigned get_attempts = 3;                // GETs only, and only after transport errors (not timeouts)
  std::chrono::milliseconds retry_delay{200};
};

enum class GroupEpoch { kCurrent, kUpcoming };

class ChainClient {
 public:
  explicit ChainClient(std::string base_url, ChainClientOptions options = {});

  const std::string& base_url() const { return base_url_; }

  common::Result<ChainStatus> status() const;
  // GET base_url + `path` (already percent-encoded) for queries without a typed method here: the 2xx body,
  // or an error whose code is the HTTP status (404 = not found) or kTransportError/kTimeoutError.
  common::Result<std::string> get_raw(const std::string& path) const { return get(path); }
  common::Result<Block> block(uint64_t height) const;
  common::Result<EpochInfo> epoch() const;
  // The parent group of the current/upcoming epoch, or its sub-group for `model_id` when given.
  common::Result<EpochGroup> epoch_group(GroupEpoch which, const std::string& model_id = "") const;
  // The parent group (model_id "") or a sub-group of epoch `epoch_index` (GET
  // /inference/epoch-groups/{E}[/{m}]).
  common::Result<EpochGroup> epoch_group_at(uint64_t epoch_index, const std::string& model_id = "") const;
  // Every PoC batch stored for epoch `epoch_index` (GET /inference/poc-batches/{E}), in key order.
  common::Result<std::vector<PocBatch>> poc_batches(uint64_t epoch_index) const;
  common::Result<std::vector<GovernanceModel>> governance_models() const;
  common::Result<MLNodeVersion> mlnode_version() const;
  common::Result<Participant> participant(const std::string& address) const;
  common::Result<std::vector<HardwareNode>> hardware_nodes(const std::string& participant) const;
  common::Result<Account> account(const std::string& address) const;
  common::Result<uint64_t> balance(const std::string& address, const std::string& denom) const;
  // A committed tx; error code 404 while it is not in a block (yet).
  common::Result<TxResult> tx(const std::string& hash_hex) const;
  // POST /txs: CheckTx (solo) or the CometBFT broadcast; a non-zero code in the result is the chain's answer.
  common::Result<BroadcastResult> broadcast(const std::string& tx_bytes) const;

 private:
  // GET base_url + path; the 2xx body or an error as described above.
  common::Result<std::string> get(const std::string& path) const;

  std::string base_url_;
  ChainClientOptions options_;
};

}  // namespace api::chain
