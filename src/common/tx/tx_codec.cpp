#include "common/tx/tx_codec.h"

#include <algorithm>
#include <cstdint>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "common/bytes.h"
#include "common/hash.h"
#include "common/tx/codes.h"

namespace common::tx {

std::string sign_hash(const std::string& chain_id, const std::string& body_bytes, uint64_t sequence) {
  std::string buf;
  buf.reserve(4 + chain_id.size() + body_bytes.size() + 8);
  common::put_be32(buf, static_cast<uint32_t>(chain_id.size()));
  buf += chain_id;
  buf += body_bytes;
  common::put_be64(buf, sequence);
  return common::sha256(buf);
}

std::string build_signed_tx(const std::vector<TxMessage>& messages, const std::string& memo,
                            uint64_t timeout_height, const common::secp256k1::PrivateKey& key,
                            uint64_t sequence, const std::string& chain_id) {
  inference::tx::TxBody body;
  for (const auto& m : messages) {
    auto* any = body.add_messages();
    any->set_type_url(m.type_url);
    any->set_value(m.value);
  }
  body.set_memo(memo);
  body.set_timeout_height(timeout_height);
  std::string body_bytes = body.SerializeAsString();
  inference::tx::Tx tx;
  tx.set_body(body_bytes);
  tx.mutable_auth_info()->set_public_key(common::secp256k1::public_key(key));
  tx.mutable_auth_info()->set_sequence(sequence);
  tx.set_signature(common::secp256k1::sign(key, sign_hash(chain_id, body_bytes, sequence)));
  return tx.SerializeAsString();
}

bool is_canonical_encoding(google::protobuf::Message& parsed, std::string_view bytes) {
  parsed.DiscardUnknownFields();  // recursive: an unknown field anywhere makes the re-encoding shorter
  std::string again;
  {
    google::protobuf::io::StringOutputStream stream(&again);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!parsed.SerializeToCodedStream(&coded)) return false;
  }
  return again == bytes;
}

common::Result<DecodedTx> decode_tx(std::string_view bytes) {
  DecodedTx out;
  if (bytes.empty() || bytes.size() > INT32_MAX ||
      !out.tx.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return common::make_error(codes::kTxDecode, "tx parse error: not a valid protobuf Tx");
  }
  if (!is_canonical_encoding(out.tx, bytes)) {
    return common::make_error(
        codes::kTxDecode,
        "tx is not canonically encoded (fields out of order or repeated, non-minimal varints, "
        "explicit default values or unknown fields); encode it as docs/transactions.md says");
  }
  if (!out.body.ParseFromString(out.tx.body())) {
    return common::make_error(codes::kTxDecode, "tx parse error: body is not a valid TxBody");
  }
  if (!is_canonical_encoding(out.body, out.tx.body())) {
    return common::make_error(codes::kTxDecode,
                              "tx body is not canonically encoded; encode it as docs/transactions.md "
                              "says");
  }
  if (out.body.messages().empty()) return common::make_error(codes::kInvalidRequest, "tx has no messages");
  if (out.body.memo().size() > 256)
    return common::make_error(codes::kInvalidRequest, "memo longer than 256 bytes");
  if (!out.tx.has_auth_info() || out.tx.auth_info().public_key().size() != 33) {
    return common::make_error(codes::kInvalidPubKey,
                              "tx must carry a 33-byte compressed secp256k1 public key");
  }
  if (out.tx.signature().size() != 64) {
    return common::make_error(codes::kUnauthorized, "signature must be 64 bytes (compact r||s)");
  }
  return out;
}

std::string tx_hash_hex(std::string_view tx_bytes) {
  std::string hex = common::to_hex(common::sha256(tx_bytes));
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](char c) { return static_cast<char>(std::toupper(c)); });
  return hex;
}

}  // namespace common::tx
