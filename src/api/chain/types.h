// What dapi reads from the chain node, as typed values parsed from inferenced's HTTP JSON (the shapes of
// src/node/block_store.cpp and the app queries of src/chain/x/*).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/epoch_stages.h"

namespace api::chain {

struct ChainStatus {
  std::string chain_id;
  uint64_t height = 0;
  std::string latest_block_hash;  // upper-case hex; empty before the first block
};

struct EventAttribute {
  std::string key;
  std::string value;
};

struct Event {
  std::string type;
  std::vector<EventAttribute> attributes;
  // The value of the first attribute named `key`.
  std::optional<std::string> attribute(std::string_view key) const;
};

struct TxResult {
  std::string hash;  // upper-case hex
  uint64_t height = 0;
  uint32_t code = 0;  // 0 = success; otherwise common/tx/codes.h
  std::string log;
  std::vector<Event> events;
};

struct Block {
  uint64_t height = 0;
  std::string hash;  // upper-case hex
  int64_t time_unix_ms = 0;
  std::vector<TxResult> txs;
  std::vector<Event> events;  // block events (EndBlock: stage transitions, epoch switches, upgrades)
};

// GET /inference/epoch
struct EpochInfo {
  uint64_t epoch_index = 0;  // the effective epoch
  std::optional<uint64_t> upcoming_epoch_index;
  uint64_t latest_epoch_index = 0;
  uint64_t block_height = 0;
  std::string phase;  // common::epochs::phase_name
  common::epochs::EpochStages stages;
  common::epochs::EpochParams params;
};

struct GovernanceModel {
  std::string id;
  uint64_t units_of_compute_per_token = 0;
  uint64_t context_window = 0;
  std::string quantization;
  std::string hf_repo;
  std::string hf_commit;
  std::vector<std::string> model_args;
  uint64_t v_ram = 0;
  uint64_t throughput_per_nonce = 0;
};

struct GroupMLNode {
  std::string node_id;
  uint64_t throughput = 0;
  uint64_t poc_weight = 0;
  std::vector<bool> timeslot_allocation;
};

struct GroupMember {
  std::string member_address;
  uint64_t weight = 0;
  std::string url;
  std::vector<GroupMLNode> ml_nodes;
};

// GET /inference/epoch-groups/{current|upcoming}[/{model_id}]: the parent group (model_id empty) or a
// per-model sub-group.
struct EpochGroup {
  uint64_t epoch_index = 0;
  std::string model_id;
  uint64_t poc_start_block_height = 0;
  uint64_t effective_block_height = 0;
  uint64_t total_weight = 0;
  std::vector<std::string> sub_group_models;
  std::vector<GroupMember> validation_weights;
  std::optional<GovernanceModel> model_snapshot;  // sub-groups only
};

struct PartialUpgrade {
  uint64_t height = 0;
  std::string node_version;
  std::string api_binaries_json;
};

// GET /inference/mlnode-version
struct MLNodeVersion {
  std::string current_mlnode_version;
  std::optional<PartialUpgrade> next_upgrade;  // the first pending upgrade that changes the MLNode version
};

struct Participant {
  std::string address;
  std::string url;
  std::string status;
  uint64_t join_height = 0;
};

struct Hardware {
  std::string type;
  uint64_t count = 0;
};

struct HardwareNode {
  std::string local_id;
  std::string status;
  std::vector<std::string> models;
  std::vector<Hardware> hardware;
  std::string host;
  uint32_t inference_port = 0;
  uint32_t poc_port = 0;
};

struct Account {
  std::string address;
  uint64_t account_number = 0;
  uint64_t sequence = 0;   // the next sequence to sign with
  std::string public_key;  // raw 33-byte compressed secp256k1 key; empty until the account signed a tx
};

// GET /inference/poc-batches/{epoch}: one stored PoC batch (docs/epochs.md).
struct PocBatch {
  std::string participant;  // bech32 address
  std::string node_id;
  std::string batch_id;
  std::vector<uint64_t> nonces;
  std::vector<double> dist;  // one per nonce
  uint64_t epoch_index = 0;
  uint64_t poc_start_height = 0;
  uint64_t received_at_height = 0;
};

// POST /txs: the CheckTx answer.
struct BroadcastResult {
  uint32_t code = 0;
  std::string log;
  std::string txhash;
};

}  // namespace api::chain
