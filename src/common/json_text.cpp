#include "common/json_text.h"

#include <vector>

namespace common {

namespace {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 if the byte there does not start one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode Table 3-7)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // at most U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool cut = text.size() > max_bytes;
  if (cut) text = text.substr(0, max_bytes);
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    const auto b = static_cast<unsigned char>(text[i]);
    if (n == 0 || b < 0x20 || b == 0x7F) {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  if (cut) out += "...";
  return out;
}

std::string json_dump(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

namespace {
template <typename Keys>
std::optional<std::string> first_unknown(const nlohmann::json& object, const Keys& known,
                                         std::string_view where) {
  if (!object.is_object()) return std::nullopt;
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (const auto& k : known) found = found || std::string_view(k) == key;
    if (found) continue;
    std::string message =
        "unknown key \"" + printable(key, 64) + "\" in " + std::string(where) + "; known keys:";
    bool first = true;
    for (const auto& k : known) {
      message += (first ? " " : ", ") + std::string(k);
      first = false;
    }
    return message;
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> unknown_key_error(const nlohmann::json& object,
                                             std::initializer_list<std::string_view> known,
                                             std::string_view where) {
  return first_unknown(object, known, where);
}

std::optional<std::string> unknown_key_error(const nlohmann::json& object, const nlohmann::json& known_object,
                                             std::string_view where) {
  std::vector<std::string> keys;
  if (known_object.is_object()) {
    for (const auto& [key, value] : known_object.items()) keys.push_back(key);
  }
  return first_unknown(object, keys, where);
}

}  // namespace common
