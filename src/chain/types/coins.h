// Token amounts: unsigned 64-bit integers of the base denomination (nicoin), with checked arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace chain::types {

inline constexpr std::string_view kBaseDenom = "nicoin";

struct Coin {
  std::string denom;
  uint64_t amount = 0;
};

// "100nicoin" -> {nicoin, 100}. Denoms: [a-z][a-z0-9/]{2,63}.
common::Result<Coin> parse_coin(std::string_view text);
common::Result<uint64_t> parse_amount(std::string_view decimal);
bool valid_denom(std::string_view denom);
std::string format_coin(const Coin& coin);

std::optional<uint64_t> checked_add(uint64_t a, uint64_t b);
std::optional<uint64_t> checked_sub(uint64_t a, uint64_t b);
std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b);
// floor(a * b / c) without intermediate overflow; nullopt if c == 0 or the result does not fit.
std::optional<uint64_t> mul_div(uint64_t a, uint64_t b, uint64_t c);

}  // namespace chain::types
