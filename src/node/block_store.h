// Node-side block records: each committed block (header, txs, results, events) and a tx-hash index,
// written as `aux` records in the same atomic commit as the state (they are not app state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/app/app.h"
#include "chain/store/commit_store.h"
#include "inference/block.pb.h"

namespace node {

using BlockRecord = inference::block::BlockRecord;

struct BlockHeaderInfo {
  std::string chain_id;
  uint64_t height = 0;
  int64_t time_unix_ms = 0;
  std::string last_block_hash;
  std::string proposer_address;
  std::string hash;  // empty: computed from the header (solo mode); CometBFT mode passes its block hash
};

BlockRecord make_block_record(const BlockHeaderInfo& header, const std::vector<std::string>& txs,
                              const chain::app::FinalizeResult& result);
chain::store::WriteSet block_aux_records(const BlockRecord& record);

std::optional<BlockRecord> load_block(const chain::store::CommitStore& store, uint64_t height);
struct TxLookup {
  BlockRecord block;
  uint32_t index = 0;
};
std::optional<TxLookup> find_tx(const chain::store::CommitStore& store, const std::string& hash_hex);

nlohmann::json events_json(const google::protobuf::RepeatedPtrField<inference::block::Event>& events);
nlohmann::json tx_result_json(const BlockRecord& block, uint32_t index);
// Full block as served by GET /blocks/{height} and the block event stream.
nlohmann::json block_json(const BlockRecord& block);

}  // namespace node
