#include "common/participant_key.h"

namespace common::participant_key {

std::string sign_bytes(std::string_view chain_id, std::string_view creator_bech32) {
  std::string out;
  out.reserve(kDomain.size() + chain_id.size() + creator_bech32.size() + 2);
  out.append(kDomain).push_back('\0');
  out.append(chain_id).push_back('\0');
  out.append(creator_bech32);
  return out;
}

std::string sign(const ed25519::KeyPair& validator_key, std::string_view chain_id,
                 std::string_view creator_bech32) {
  return ed25519::sign(validator_key, sign_bytes(chain_id, creator_bech32));
}

bool verify(std::string_view public_key, std::string_view chain_id, std::string_view creator_bech32,
            std::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  return ed25519::verify(public_key, sign_bytes(chain_id, creator_bech32), signature);
}

}  // namespace common::participant_key
