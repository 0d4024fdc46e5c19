#include "chain/types/address.h"

#include "chain/types/codes.h"
#include "common/bech32.h"
#include "common/hash.h"

namespace chain::types {

Address address_from_public_key(std::string_view compressed_public_key) {
  return common::ripemd160(common::sha256(compressed_public_key));
}

Address module_address(std::string_view module_name) {
  return common::sha256(module_name).substr(0, kAddressLength);
}

std::string to_bech32(std::string_view hrp, const Address& address) {
  return common::bech32::encode(hrp, address);
}

common::Result<Address> parse_address(std::string_view hrp, std::string_view text) {
  auto decoded = common::bech32::decode(text);
  if (!decoded) {
    return common::make_error(codes::kInvalidAddress,
                              "invalid address \"" + std::string(text) + "\": not bech32");
  }
  if (decoded->hrp != hrp) {
    return common::make_error(codes::kInvalidAddress, "invalid address \"" + std::string(text) +
                                                          "\": prefix must be \"" + std::string(hrp) + "\"");
  }
  if (decoded->data.size() != kAddressLength) {
    return common::make_error(codes::kInvalidAddress,
                              "invalid address \"" + std::string(text) + "\": must hold 20 bytes");
  }
  return decoded->data;
}

}  // namespace chain::types
