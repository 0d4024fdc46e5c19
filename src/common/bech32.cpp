#include "common/bech32.h"

#include <array>
#include <cstdint>
#include <vector>

namespace common::bech32 {

namespace {
constexpr char kCharset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::array<int8_t, 256> kCharsetRev = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 32; ++i) t[static_cast<uint8_t>(kCharset[i])] = static_cast<int8_t>(i);
  return t;
}();

uint32_t polymod(const std::vector<uint8_t>& values) {
  static constexpr uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t chk = 1;
  for (uint8_t v : values) {
    uint8_t top = chk >> 25;
    chk = (chk & 0x1ffffff) << 5 ^ v;
    for (int i = 0; i < 5; ++i) chk ^= ((top >> i) & 1) ? kGen[i] : 0;
  }
  return chk;
}

std::vector<uint8_t> hrp_expand(std::string_view hrp) {
  std::vector<uint8_t> out;
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) >> 5);
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(c) & 31);
  return out;
}

bool convert_bits(std::vector<uint8_t>& out, const uint8_t* in, size_t len, int from, int to, bool pad) {
  uint32_t acc = 0;
  int bits = 0;
  const uint32_t maxv = (1u << to) - 1;
  for (size_t i = 0; i < len; ++i) {
    acc = acc << from | in[i];
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push_back((acc >> bits) & maxv);
    }
  }
  if (pad) {
    if (bits) out.push_back((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv)) {
    return false;
  }
  return true;
}
}  // namespace

std::string encode(std::string_view hrp, std::string_view data) {
  std::vector<uint8_t> values;
  convert_bits(values, reinterpret_cast<const uint8_t*>(data.data()), data.size(), 8, 5, true);
  std::vector<uint8_t> check = hrp_expand(hrp);
  check.insert(check.end(), values.begin(), values.end());
  check.insert(check.end(), 6, 0);
  uint32_t mod = polymod(check) ^ 1;
  std::string out(hrp);
  out += '1';
  for (uint8_t v : values) out += kCharset[v];
  for (int i = 0; i < 6; ++i) out += kCharset[(mod >> (5 * (5 - i))) & 31];
  return out;
}

std::optional<Decoded> decode(std::string_view text) {
  if (text.size() > 90 || text.size() < 8) return std::nullopt;
  bool lower = false, upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) return std::nullopt;
    lower |= (c >= 'a' && c <= 'z');
    upper |= (c >= 'A' && c <= 'Z');
  }
  if (lower && upper) return std::nullopt;
  size_t sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0 || sep + 7 > text.size()) return std::nullopt;
  std::string hrp;
  for (size_t i = 0; i < sep; ++i) hrp += static_cast<char>(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
  std::vector<uint8_t> values;
  for (size_t i = sep + 1; i < text.size(); ++i) {
    char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
    int8_t v = kCharsetRev[static_cast<uint8_t>(c)];
    if (v < 0) return std::nullopt;
    values.push_back(static_cast<uint8_t>(v));
  }
  std::vector<uint8_t> check = hrp_expand(hrp);
  check.insert(check.end(), values.begin(), values.end());
  if (polymod(check) != 1) return std::nullopt;
  std::vector<uint8_t> bytes;
  if (!convert_bits(bytes, values.data(), values.size() - 6, 5, 8, false)) return std::nullopt;
  return Decoded{hrp, std::string(bytes.begin(), bytes.end())};
}

}  // namespace common::bech32
