// Node-side hooks the ABCI adapter calls around a block, so that node records (block store, tx index) are
// committed atomically with the state and block events go out after Commit. The chain library knows
// nothing about them; `inferenced` plugs its block store and event stream in here.
#pragma once

#include <string>
#include <vector>

#include "chain/app/app.h"
#include "chain/store/commit_store.h"

namespace node::abci {

// A block as CometBFT decided it, with the app's results.
struct FinalizedBlock {
  chain::app::BlockInfo info;  // chain id, height, time, previous block hash, proposer address (raw 20 bytes)
  std::string hash;            // CometBFT's hash of this block
  std::vector<std::string> txs;
  chain::app::FinalizeResult result;
};

class NodeHooks {
 public:
  virtual ~NodeHooks() = default;
  // After FinalizeBlock, under the app lock: node records to write in the same atomic commit as the block.
  virtual chain::store::WriteSet block_records(const FinalizedBlock& block) = 0;
  // After Commit persisted the block, under the app lock (keep it short: wake waiters, publish events).
  virtual void block_committed(const FinalizedBlock& block, const chain::store::CommitInfo& commit) = 0;
};

}  // namespace node::abci
