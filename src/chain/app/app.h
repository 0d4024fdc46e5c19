// The replicated state machine behind an ABCI-shaped interface. The same object is driven by the embedded
// solo producer and by CometBFT: Info, InitChain, CheckTx, FinalizeBlock (computes), Commit (persists),
// Query. Not thread-safe: the node serialises calls; queries read a committed snapshot and may run
// concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_set>  // determinism-ok: signature memo, looked up only, never iterated
#include <vector>

#include "chain/app/context.h"
#include "chain/app/genesis.h"
#include "chain/app/module.h"
#include "chain/app/msg_router.h"
#include "chain/app/query_router.h"
#include "chain/store/commit_store.h"
#include "chain/store/overlay.h"
#include "chain/types/event.h"
#include "common/tx/tx_codec.h"

namespace chain::app {

struct TxOutcome {
  uint32_t code = 0;
  std::string log;
  std::string data;
  int64_t gas_used = 0;
  std::vector<types::Event> events;
  std::string signer;  // bech32, when the tx decoded
  uint64_t sequence = 0;
};

struct FinalizeResult {
  std::vector<TxOutcome> tx_results;
  std::vector<types::Event> events;  // begin- and end-block events
  std::vector<ValidatorUpdate> validator_updates;
  std::string app_hash;
};

// Node policy for CheckTx (not consensus: FinalizeBlock never looks at it). A sender's txs accepted by
// CheckTx and not yet committed count against these limits; a tx beyond them gets code kMempoolFull (issue 13
// fault 7).
struct MempoolLimits {
  uint64_t max_txs_per_sender = 200;
  uint64_t max_bytes_per_sender = 8u << 20;
};

class App {
 public:
  explicit App(store::CommitStore& store);
  ~App();

  store::CommitInfo info() const { return store_.last_commit(); }
  bool has_genesis() const { return !chain_id_.empty(); }
  const std::string& chain_id() const { return chain_id_; }
  const std::string& hrp() const { return hrp_; }

  // The app_state of a fresh genesis for a preset: every module's default section.
  nlohmann::json default_app_state(std::string_view preset) const;

  // Writes the genesis state (uncommitted until the first Commit) and returns app_hash(0).
  common::Result<std::string> init_chain(const Genesis& genesis);

  // Stateless checks plus signature, account and sequence against the mempool's view of state, and the
  // sender's share of the mempool (MempoolLimits). The view and the shares start again at every commit (the
  // node re-checks the txs still waiting then, as CometBFT's recheck does).
  TxOutcome check_tx(std::string_view tx_bytes);
  void set_mempool_limits(MempoolLimits limits) { mempool_limits_ = limits; }
  const MempoolLimits& mempool_limits() const { return mempool_limits_; }

  FinalizeResult finalize_block(const BlockInfo& block, const std::vector<std::string>& txs);

  // Persists the last finalized block (state, height, app hash and `aux` node records) in one atomic write,
  // and resets the mempool view to the new state.
  store::CommitInfo commit(const store::WriteSet& aux = {});

  // Answers a query against the committed state at params["height"] (absent or "0": the last commit), as far
  // as the store keeps it (CommitStore::state_at); otherwise code kInvalidHeight naming the heights kept.
  // `answered_height`, when given, receives the height of the state the answer comes from.
  common::Result<nlohmann::json> query(const std::string& path, std::map<std::string, std::string> params,
                                       uint64_t* answered_height = nullptr) const;
  std::vector<std::string> query_paths() const { return queries_.patterns(); }

 private:
  struct Ante {
    types::Address signer;
    uint64_t sequence = 0;
    std::string public_key;
  };
  // Size, decoding, message routing and stateless message checks.
  common::Result<common::tx::DecodedTx> decode_and_check(std::string_view tx_bytes) const;
  // Account, sequence, timeout and signature; on success bumps the sequence in `state`.
  common::Result<Ante> ante(store::KvStore& state, std::string_view tx_bytes, uint64_t height,
                            const common::tx::DecodedTx& decoded);
  TxOutcome deliver_tx(const BlockInfo& block, std::string_view tx_bytes);
  bool verify_signature_cached(std::string_view tx_bytes, const std::string& public_key,
                               const std::string& hash, const std::string& signature);
  void load_params();
  const store::KvReader& pending_base() const;

  store::CommitStore& store_;
  std::vector<std::unique_ptr<Module>> modules_;
  MsgRouter messages_;
  QueryRouter queries_;
  std::string chain_id_;
  std::string hrp_;
  uint64_t max_tx_bytes_ = 1 << 20;

  std::unique_ptr<store::Overlay> genesis_;  // InitChain writes not yet committed
  std::string genesis_app_hash_;
  std::unique_ptr<store::Overlay> block_;  // the finalized, not yet committed block
  uint64_t block_height_ = 0;
  std::string block_app_hash_;
  std::unique_ptr<store::Overlay> check_;  // mempool view over committed state
  MempoolLimits mempool_limits_;
  std::map<types::Address, uint64_t> pending_bytes_;  // per sender, txs accepted into check_ since the commit

  // Memo of tx hashes whose signature verified; the result is a pure function of the bytes.
  std::unordered_set<std::string> verified_;  // determinism-ok: lookups only, never iterated
};

}  // namespace chain::app
