// Transaction encoding, signing and decoding (ARCHITECTURE §5, docs/transactions.md). Pure functions, shared
// by the chain (which checks txs) and its clients (which build them): neither copies the other's bytes.
//   sign_hash = SHA-256( be32(len(chain_id)) || chain_id || body_bytes || be64(sequence) )
// The signature is a 64-byte compact secp256k1 signature (low-S) over sign_hash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>
#include "common/result.h"
#include "common/secp256k1.h"

#include "inference/tx.pb.h"

namespace common::tx {

struct TxMessage {
  std::string type_url;
  std::string value;  // serialized message
};

std::string sign_hash(const std::string& chain_id, const std::string& body_bytes, uint64_t sequence);

// Builds and signs a transaction; returns its serialized bytes.
std::string build_signed_tx(const std::vector<TxMessage>& messages, const std::string& memo,
                            uint64_t timeout_height, const common::secp256k1::PrivateKey& key,
                            uint64_t sequence, const std::string& chain_id);

// True when `bytes` is the canonical encoding of `parsed` (the message just parsed from them): fields in
// field-number order, each at most once, minimal varints and lengths, default values omitted, packed repeated
// scalars and no fields the schema does not know — exactly what SerializeAsString() writes. Any other
// encoding of the same content is refused, so a relayer cannot change a tx's bytes (and hash) while its
// signature still verifies (issue 13 fault 6). Drops unknown fields from `parsed`.
bool is_canonical_encoding(google::protobuf::Message& parsed, std::string_view bytes);

struct DecodedTx {
  inference::tx::Tx tx;
  inference::tx::TxBody body;
};
// Parses the envelope and body; checks shapes (key and signature sizes, at least one message) and that both
// are canonically encoded (code 2 otherwise). Message values are checked when they are decoded
// (chain::app::MsgRouter).
common::Result<DecodedTx> decode_tx(std::string_view bytes);

// Upper-case hex SHA-256 of the tx bytes, as CometBFT shows tx hashes.
std::string tx_hash_hex(std::string_view tx_bytes);

}  // namespace common::tx
