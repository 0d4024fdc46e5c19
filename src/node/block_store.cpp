#include "node/block_store.h"

#include <algorithm>

#include "common/bytes.h"
#include "common/hash.h"
#include "common/tx/codes.h"

namespace node {

namespace keys {
std::string block(uint64_t height) {
  return "blk/" + common::be64(height);
}
std::string tx(const std::string& hash_hex) {
  return "tx/" + hash_hex;
}
}  // namespace keys

namespace {
void copy_events(const std::vector<chain::types::Event>& from,
                 google::protobuf::RepeatedPtrField<inference::block::Event>* to) {
  for (const auto& e : from) {
    auto* pe = to->Add();
    pe->set_type(e.type);
    for (const auto& [k, v] : e.attributes) {
      auto* a = pe->add_attributes();
      a->set_key(k);
      a->set_value(v);
    }
  }
}
std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}
}  // namespace

BlockRecord make_block_record(const BlockHeaderInfo& header, const std::vector<std::string>& txs,
                              const chain::app::FinalizeResult& result) {
  BlockRecord rec;
  auto* h = rec.mutable_header();
  h->set_chain_id(header.chain_id);
  h->set_height(header.height);
  h->set_time_unix_ms(header.time_unix_ms);
  h->set_last_block_hash(header.last_block_hash);
  h->set_proposer_address(header.proposer_address);
  common::Sha256 data;
  for (const auto& tx : txs) data.update(common::sha256(tx));
  h->set_data_hash(data.finish());
  rec.set_hash(header.hash.empty() ? common::sha256(h->SerializeAsString()) : header.hash);
  for (const auto& tx : txs) rec.add_txs(tx);
  for (const auto& r : result.tx_results) {
    auto* pr = rec.add_tx_results();
    pr->set_code(r.code);
    pr->set_log(r.log);
    pr->set_data(r.data);
    pr->set_gas_used(r.gas_used);
    copy_events(r.events, pr->mutable_events());
  }
  copy_events(result.events, rec.mutable_events());
  rec.set_app_hash(result.app_hash);
  return rec;
}

chain::store::WriteSet block_aux_records(const BlockRecord& record) {
  chain::store::WriteSet aux;
  uint64_t height = record.header().height();
  aux.emplace(keys::block(height), record.SerializeAsString());
  for (int i = 0; i < record.txs_size(); ++i) {
    inference::block::TxLocation loc;
    loc.set_height(height);
    loc.set_index(static_cast<uint32_t>(i));
    aux.emplace(keys::tx(common::tx::tx_hash_hex(record.txs(i))), loc.SerializeAsString());
  }
  return aux;
}

std::optional<BlockRecord> load_block(const chain::store::CommitStore& store, uint64_t height) {
  auto raw = store.get_aux(keys::block(height));
  if (!raw) return std::nullopt;
  BlockRecord rec;
  if (!rec.ParseFromString(*raw))
    throw std::runtime_error("corrupt block record at height " + std::to_string(height));
  return rec;
}

std::optional<TxLookup> find_tx(const chain::store::CommitStore& store, const std::string& hash_hex) {
  auto raw = store.get_aux(keys::tx(upper(hash_hex)));
  if (!raw) return std::nullopt;
  inference::block::TxLocation loc;
  if (!loc.ParseFromString(*raw)) return std::nullopt;
  auto block = load_block(store, loc.height());
  if (!block || static_cast<int>(loc.index()) >= block->txs_size()) return std::nullopt;
  return TxLookup{*block, loc.index()};
}

nlohmann::json events_json(const google::protobuf::RepeatedPtrField<inference::block::Event>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events) {
    nlohmann::json attrs = nlohmann::json::array();
    for (const auto& a : e.attributes()) attrs.push_back({{"key", a.key()}, {"value", a.value()}});
    out.push_back({{"type", e.type()}, {"attributes", attrs}});
  }
  return out;
}

nlohmann::json tx_result_json(const BlockRecord& block, uint32_t index) {
  const auto& r = block.tx_results(static_cast<int>(index));
  return {{"hash", common::tx::tx_hash_hex(block.txs(static_cast<int>(index)))},
          {"height", block.header().height()},
          {"index", index},
          {"code", r.code()},
          {"codespace", std::string(common::tx::codes::codespace_of(r.code()))},
          {"log", r.log()},
          {"gas_used", r.gas_used()},
          {"events", events_json(r.events())}};
}

nlohmann::json block_json(const BlockRecord& block) {
  const auto& h = block.header();
  nlohmann::json txs = nlohmann::json::array();
  for (int i = 0; i < block.txs_size(); ++i) txs.push_back(tx_result_json(block, static_cast<uint32_t>(i)));
  return {{"chain_id", h.chain_id()},
          {"height", h.height()},
          {"time_unix_ms", h.time_unix_ms()},
          {"hash", upper(common::to_hex(block.hash()))},
          {"last_block_hash", upper(common::to_hex(h.last_block_hash()))},
          {"proposer_address", upper(common::to_hex(h.proposer_address()))},
          {"data_hash", upper(common::to_hex(h.data_hash()))},
          {"app_hash", upper(common::to_hex(block.app_hash()))},
          {"num_txs", block.txs_size()},
          {"txs", txs},
          {"events", events_json(block.events())}};
}

}  // namespace node
