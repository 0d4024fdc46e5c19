#include "api/poc/messages.h"

#include <algorithm>
#include <cstddef>

#include "common/bech32.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "common/secp256k1.h"
#include "inference/poc.pb.h"

namespace api::poc {

common::tx::TxMessage to_tx_message(const SubmitPocBatch& m) {
  inference::inference::MsgSubmitPocBatch p;
  p.set_creator(m.creator);
  p.set_poc_stage_start_block_height(m.poc_stage_start_block_height);
  p.set_batch_id(m.batch_id);
  for (uint64_t n : m.nonces) p.add_nonces(n);
  for (double d : m.dist) p.add_dist(d);
  p.set_node_id(m.node_id);
  return {std::string(kMsgSubmitPocBatchUrl), p.SerializeAsString()};
}

common::tx::TxMessage to_tx_message(const SubmitPocValidation& m) {
  inference::inference::MsgSubmitPocValidation p;
  p.set_creator(m.creator);
  p.set_participant_address(m.participant_address);
  p.set_poc_stage_start_block_height(m.poc_stage_start_block_height);
  p.set_fraud_detected(m.fraud_detected);
  p.set_n_invalid(m.n_invalid);
  p.set_sample_size(m.sample_size);
  return {std::string(kMsgSubmitPocValidationUrl), p.SerializeAsString()};
}

std::string poc_batch_id(const std::string& node_id, uint64_t poc_start_height,
                         const std::vector<uint64_t>& nonces) {
  common::Sha256 h;
  h.update(node_id);
  h.update(std::string_view("\0", 1));
  h.update(common::be64(poc_start_height));
  for (uint64_t n : nonces) h.update(common::be64(n));
  return common::to_hex(h.finish()).substr(0, 32);
}

std::vector<SubmitPocBatch> split_poc_batch(const SubmitPocBatch& batch, size_t max_nonces) {
  if (max_nonces == 0) max_nonces = 1;
  if (batch.nonces.size() <= max_nonces) return {batch};
  std::vector<SubmitPocBatch> out;
  for (size_t from = 0; from < batch.nonces.size(); from += max_nonces) {
    const size_t to = std::min(batch.nonces.size(), from + max_nonces);
    SubmitPocBatch part;
    part.creator = batch.creator;
    part.poc_stage_start_block_height = batch.poc_stage_start_block_height;
    part.node_id = batch.node_id;
    part.nonces.assign(batch.nonces.begin() + static_cast<std::ptrdiff_t>(from),
                       batch.nonces.begin() + static_cast<std::ptrdiff_t>(to));
    part.dist.assign(batch.dist.begin() + static_cast<std::ptrdiff_t>(from),
                     batch.dist.begin() + static_cast<std::ptrdiff_t>(std::min(to, batch.dist.size())));
    part.batch_id = poc_batch_id(part.node_id, part.poc_stage_start_block_height, part.nonces);
    out.push_back(std::move(part));
  }
  return out;
}

std::string poc_public_key_hex(std::string_view public_key33) {
  return common::to_hex(public_key33);
}

common::Result<std::string> address_from_poc_public_key(std::string_view public_key_hex,
                                                        std::string_view hrp) {
  auto key = common::from_hex(public_key_hex);
  if (!key || key->size() != 33 || !common::secp256k1::is_valid_public_key(*key)) {
    return common::make_error(400, "public_key must be the hex of a 33-byte compressed secp256k1 key");
  }
  return common::bech32::encode(hrp, common::ripemd160(common::sha256(*key)));
}

std::string address_hrp(std::string_view address) {
  auto pos = address.rfind('1');
  if (pos == std::string_view::npos || pos == 0) return {};
  return std::string(address.substr(0, pos));
}

}  // namespace api::poc
