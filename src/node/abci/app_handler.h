// Maps ABCI 2.0 requests onto chain::app::App (ARCHITECTURE §4): Info reports the last commit, InitChain
// builds the genesis from CometBFT's request, FinalizeBlock computes, Commit persists (with the node's block
// records), CheckTx/Query go to the app, PrepareProposal drops txs that would fail CheckTx. Every call into
// the app holds `app_mutex`, which the node's own RPC shares, so the app sees one request at a time.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "chain/app/app.h"
#include "chain/app/genesis.h"
#include "chain/store/commit_store.h"
#include "node/abci/hooks.h"
#include "node/abci/request_handler.h"

namespace tendermint::abci {
class RequestInfo;
class ResponseInfo;
class RequestInitChain;
class ResponseInitChain;
class RequestCheckTx;
class ResponseCheckTx;
class RequestQuery;
class ResponseQuery;
class RequestPrepareProposal;
class ResponsePrepareProposal;
class RequestProcessProposal;
class ResponseProcessProposal;
class RequestFinalizeBlock;
class ResponseFinalizeBlock;
class ResponseCommit;
}  // namespace tendermint::abci

namespace node::abci {

// Aux record holding CometBFT's hash of the last committed block; it becomes BlockInfo::last_block_hash of
// the next block, so it must survive restarts exactly like the state it is committed with.
inline constexpr std::string_view kLastBlockHashKey = "abci/last_block_hash";

struct AppHandlerOptions {
  // The node's genesis.json: address prefix, max tx bytes, validator names and operator addresses. InitChain
  // takes chain id, time, validators and app_state from CometBFT and refuses a request that contradicts it.
  std::optional<chain::app::Genesis> genesis;
  std::string version = "0.1.0";  // ResponseInfo.version
  uint64_t app_version = 1;       // ResponseInfo.app_version (goes into every block header)
};

class AppHandler final : public RequestHandler {
 public:
  AppHandler(chain::app::App& app, chain::store::CommitStore& store, std::mutex& app_mutex, NodeHooks* hooks,
             AppHandlerOptions options = {});

  // Never throws. A failure in Info, InitChain, FinalizeBlock or Commit (the block's execution and its
  // persistence) is a broken invariant: the answer is an ABCI exception, and CometBFT and the node stop
  // rather than diverge. Every other method answers a failure with an error (Query and CheckTx: code
  // kInternal and the reason in the log; PrepareProposal: no txs; ProcessProposal: REJECT), so no input from
  // a stranger (an abci_query path, a tx) can stop the node (issue 13 fault 1).
  void handle(const tendermint::abci::Request& request, tendermint::abci::Response& response) override;
  // True for the request kinds (ab::Request::ValueCase) whose failure halts the node.
  static bool halts_on_failure(int value_case);

  // Building blocks of handle(), public for tests.
  void info(const tendermint::abci::RequestInfo& req, tendermint::abci::ResponseInfo& res);
  // Returns an error message when the request cannot be accepted (the caller answers with an exception).
  std::optional<std::string> init_chain(const tendermint::abci::RequestInitChain& req,
                                        tendermint::abci::ResponseInitChain& res);
  void check_tx(const tendermint::abci::RequestCheckTx& req, tendermint::abci::ResponseCheckTx& res);
  void query(const tendermint::abci::RequestQuery& req, tendermint::abci::ResponseQuery& res);
  void prepare_proposal(const tendermint::abci::RequestPrepareProposal& req,
                        tendermint::abci::ResponsePrepareProposal& res);
  void process_proposal(const tendermint::abci::RequestProcessProposal& req,
                        tendermint::abci::ResponseProcessProposal& res);
  std::optional<std::string> finalize_block(const tendermint::abci::RequestFinalizeBlock& req,
                                            tendermint::abci::ResponseFinalizeBlock& res);
  std::optional<std::string> commit(tendermint::abci::ResponseCommit& res);

 private:
  // Fills `response` with the error answer of a non-halting request kind; false for the halting ones.
  bool answer_failure(const tendermint::abci::Request& request, tendermint::abci::Response& response,
                      const std::string& what);

  chain::app::App& app_;
  chain::store::CommitStore& store_;
  std::mutex& mu_;
  NodeHooks* hooks_;
  AppHandlerOptions options_;

  // The block finalized and not yet committed, with the node records Commit writes beside it.
  std::optional<FinalizedBlock> pending_;
  chain::store::WriteSet pending_aux_;
};

// Genesis for App::init_chain from an InitChain request: chain id, time and validators from CometBFT,
// app_state from app_state_bytes (JSON), the rest from `base` (the node's genesis.json) when given.
common::Result<chain::app::Genesis> genesis_from_init_chain(const tendermint::abci::RequestInitChain& req,
                                                            const std::optional<chain::app::Genesis>& base);

// Appends the app's validator updates as ed25519 ValidatorUpdates. CometBFT fails a block whose update list
// names a key twice, so each key appears once, at its first position, with its last power.
// Throws std::logic_error on a key that is not 32 bytes or a negative power (a broken app invariant).
void append_validator_updates(const std::vector<chain::app::ValidatorUpdate>& updates,
                              tendermint::abci::ResponseFinalizeBlock& res);

// Splits "/bank/balances/x?denom=nicoin" into the path and its (percent-decoded) query parameters.
std::string split_query_path(const std::string& full_path, std::map<std::string, std::string>& params);

}  // namespace node::abci
