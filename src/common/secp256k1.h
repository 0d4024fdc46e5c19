// secp256k1 account keys (Cosmos style): 33-byte compressed public keys, 64-byte compact signatures
// (r || s, low-S) over a 32-byte message hash.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common::secp256k1 {

struct PrivateKey {
  std::string bytes;  // 32 bytes; never logged
};

PrivateKey generate_private_key();  // from the OS random source
std::optional<PrivateKey> private_key_from_bytes(std::string_view bytes);  // validates range
std::string public_key(const PrivateKey& key);                           // 33 bytes compressed
std::string sign(const PrivateKey& key, std::string_view hash32);       // 64 bytes, low-S, RFC 6979
bool verify(std::string_view public_key33, std::string_view hash32, std::string_view signature64);
bool is_valid_public_key(std::string_view public_key33);

}  // namespace common::secp256k1
