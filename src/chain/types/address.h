// Account addresses: 20 bytes = RIPEMD-160(SHA-256(compressed secp256k1 public key)), shown as bech32
// with the chain's human-readable prefix (the Cosmos derivation).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace chain::types {

using Address = std::string;  // kAddressLength raw bytes
inline constexpr size_t kAddressLength = 20;

Address address_from_public_key(std::string_view compressed_public_key);
// Module accounts (gov, fee collector, inference escrow, rewards) have no key: SHA-256(name)[:20].
Address module_address(std::string_view module_name);
std::string to_bech32(std::string_view hrp, const Address& address);
// Parses and checks the prefix; the error message names the expected prefix.
common::Result<Address> parse_address(std::string_view hrp, std::string_view text);

}  // namespace chain::types
