#include "common/requester_signature.h"

#include "common/bytes.h"
#include "common/hash.h"

namespace common::requester_signature {

std::string sign_bytes(std::string_view chain_id, std::string_view transfer_agent_bech32,
                       uint64_t timestamp_ms, std::string_view body_hash) {
  std::string out(kDomain);
  out.push_back('\0');
  out.append(chain_id).push_back('\0');
  out.append(transfer_agent_bech32).push_back('\0');
  out.append(be64(timestamp_ms));
  out.append(body_hash);
  return out;
}

std::string digest(std::string_view chain_id, std::string_view transfer_agent_bech32, uint64_t timestamp_ms,
                   std::string_view body_hash) {
  return sha256(sign_bytes(chain_id, transfer_agent_bech32, timestamp_ms, body_hash));
}

std::string sign(const secp256k1::PrivateKey& key, std::string_view chain_id,
                 std::string_view transfer_agent_bech32, uint64_t timestamp_ms, std::string_view body_hash) {
  return secp256k1::sign(key, digest(chain_id, transfer_agent_bech32, timestamp_ms, body_hash));
}

bool verify(std::string_view public_key33, std::string_view chain_id, std::string_view transfer_agent_bech32,
            uint64_t timestamp_ms, std::string_view body_hash, std::string_view signature) {
  if (body_hash.size() != 32 || signature.size() != 64) return false;
  return secp256k1::verify(public_key33, digest(chain_id, transfer_agent_bech32, timestamp_ms, body_hash),
                           signature);
}

bool timestamp_fresh(uint64_t timestamp_ms, int64_t now_ms) {
  if (now_ms < 0 || timestamp_ms > static_cast<uint64_t>(INT64_MAX)) return false;
  uint64_t now = static_cast<uint64_t>(now_ms);
  return timestamp_ms <= now ? now - timestamp_ms <= kMaxRequestSkewMs
                             : timestamp_ms - now <= kMaxRequestSkewMs;
}

}  // namespace common::requester_signature
