#include "chain/types/coins.h"

#include "chain/types/codes.h"
#include "chain/types/int128.h"

namespace chain::types {

bool valid_denom(std::string_view denom) {
  if (denom.size() < 3 || denom.size() > 64 || denom[0] < 'a' || denom[0] > 'z') return false;
  for (char c : denom) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/')) return false;
  }
  return true;
}

common::Result<uint64_t> parse_amount(std::string_view decimal) {
  if (decimal.empty() || decimal.size() > 20) {
    return common::make_error(codes::kInvalidCoins, "invalid amount \"" + std::string(decimal) + "\"");
  }
  uint64_t v = 0;
  for (char c : decimal) {
    if (c < '0' || c > '9') {
      return common::make_error(codes::kInvalidCoins, "invalid amount \"" + std::string(decimal) + "\"");
    }
    auto next = checked_mul(v, 10);
    if (next) next = checked_add(*next, uint64_t(c - '0'));
    if (!next) return common::make_error(codes::kInvalidCoins, "amount \"" + std::string(decimal) + "\" too large");
    v = *next;
  }
  return v;
}

common::Result<Coin> parse_coin(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  auto amount = parse_amount(text.substr(0, i));
  if (!amount) {
    return common::make_error(codes::kInvalidCoins,
                              "invalid coin \"" + std::string(text) + "\": expected AMOUNTDENOM, e.g. 100nicoin");
  }
  std::string_view denom = text.substr(i);
  if (!valid_denom(denom)) {
    return common::make_error(codes::kInvalidCoins, "invalid coin \"" + std::string(text) + "\": bad denomination");
  }
  return Coin{std::string(denom), *amount};
}

std::string format_coin(const Coin& coin) { return std::to_string(coin.amount) + coin.denom; }

std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
std::optional<uint64_t> checked_sub(uint64_t a, uint64_t b) {
  if (b > a) return std::nullopt;
  return a - b;
}
std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
std::optional<uint64_t> mul_div(uint64_t a, uint64_t b, uint64_t c) {
  if (c == 0) return std::nullopt;
  u128 r = static_cast<u128>(a) * b / c;
  if (r > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(r);
}

}  // namespace chain::types
