// ed25519 keys for validators (the consensus key type CometBFT uses), via OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common::ed25519 {

struct KeyPair {
  std::string private_seed;  // 32 bytes; never logged
  std::string public_key;    // 32 bytes
};

KeyPair generate();
std::optional<KeyPair> from_seed(std::string_view seed32);
std::string sign(const KeyPair& key, std::string_view message);  // 64 bytes
bool verify(std::string_view public_key32, std::string_view message, std::string_view signature64);

}  // namespace common::ed25519
