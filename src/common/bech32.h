// Bech32 (BIP-173) encoding of byte strings, as used for Cosmos account addresses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common::bech32 {

std::string encode(std::string_view hrp, std::string_view data);  // data: raw bytes (8-bit)

struct Decoded {
  std::string hrp;
  std::string data;  // raw bytes (8-bit)
};
std::optional<Decoded> decode(std::string_view text);  // rejects mixed case, bad checksum, > 90 chars

}  // namespace common::bech32
