// Transaction encoding, signing and decoding (ARCHITECTURE §5, docs/transactions.md). Pure functions, shared
// by the chain (which checks txs) and its clients (which build them): neither copies the other's bytes.
//   sign_hash = SHA-256( be32(len(chain_id)) || chain_id || body_bytes || be64(sequence) )
// The signature is a 64-byte compact secp256k1 signature (low-S) over sign_hash.
#pragma once

#include <string>
#include <vector>

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

struct DecodedTx {
  inference::tx::Tx tx;
  inference::tx::TxBody body;
};
// Parses the envelope and body; checks shapes (key and signature sizes, at least one message).
common::Result<DecodedTx> decode_tx(std::string_view bytes);

// Upper-case hex SHA-256 of the tx bytes, as CometBFT shows tx hashes.
std::string tx_hash_hex(std::string_view tx_bytes);

}  // namespace common::tx
