// The PoC messages dapi sends (proto/inference/poc.proto, docs/epochs.md "PoC messages") as plain values,
// their tx encoding, and the identities PoC uses: the participant's PoC public key and deterministic batch
// ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/tx/tx_codec.h"

namespace api::poc {

inline constexpr std::string_view kMsgSubmitPocBatchUrl = "/inference.inference.MsgSubmitPocBatch";
inline constexpr std::string_view kMsgSubmitPocValidationUrl = "/inference.inference.MsgSubmitPocValidation";
inline constexpr size_t kMaxNoncesPerBatch =
    100000;  // the chain's stateless ceiling per batch, and ours per callback
// Nonces per MsgSubmitPocBatch when the epoch param max_nonces_per_batch is not known: its default (docs/epochs.md).
inline constexpr size_t kDefaultMaxNoncesPerMessage = 100000;

// MsgSubmitPocBatch: accepted in [P+1, poc_exchange_end] for a node of the sender without a POC_SLOT.
struct SubmitPocBatch {
  std::string creator;                        // the participant's address
  uint64_t poc_stage_start_block_height = 0;  // P
  std::string batch_id;                       // poc_batch_id(): the same batch always gets the same id
  std::vector<uint64_t> nonces;
  std::vector<double> dist;  // one per nonce, finite and >= 0
  std::string node_id;       // the MLNode's local id (seed 000 §5.1)

  bool operator==(const SubmitPocBatch&) const = default;
};

// MsgSubmitPocValidation: accepted in (validation_start, validation_end] from members of the current epoch.
struct SubmitPocValidation {
  std::string creator;              // the validator (us)
  std::string participant_address;  // whose batches were validated
  uint64_t poc_stage_start_block_height = 0;
  bool fraud_detected = false;
  uint64_t n_invalid = 0;
  uint64_t sample_size = 0;  // nonces validated

  bool operator==(const SubmitPocValidation&) const = default;
};

common::tx::TxMessage to_tx_message(const SubmitPocBatch& m);
common::tx::TxMessage to_tx_message(const SubmitPocValidation& m);

// Deterministic batch id: the first 32 hex chars of SHA-256(node_id 0x00 be64(P) be64(nonce)...). An MLNode
// that re-posts a batch produces the same id, which the durable queue and the chain (unique per epoch,
// participant, node, batch id) both refuse to take twice.
std::string poc_batch_id(const std::string& node_id, uint64_t poc_start_height,
                         const std::vector<uint64_t>& nonces);

// Splits a batch into messages of at most `max_nonces` nonces (in order), each with its own poc_batch_id, so
// a large MLNode callback never exceeds the chain's max_nonces_per_batch. A batch within the limit is
// returned as is. max_nonces 0 is treated as 1.
std::vector<SubmitPocBatch> split_poc_batch(const SubmitPocBatch& batch, size_t max_nonces);

// The public key a participant's MLNodes mine with: lower-case hex of its 33-byte compressed account key. The
// validator recomputes the same nonces from it, so both sides use this function.
std::string poc_public_key_hex(std::string_view public_key33);

// The bech32 account address of a PoC public key (hex of a 33-byte compressed key): bech32(hrp,
// RIPEMD-160(SHA-256(key))), the Cosmos derivation the chain uses. Error if the hex is not a valid key.
common::Result<std::string> address_from_poc_public_key(std::string_view public_key_hex,
                                                        std::string_view hrp);

// The human-readable part of a bech32 address ("gonka" of "gonka1..."); empty if it has none.
std::string address_hrp(std::string_view address);

}  // namespace api::poc
