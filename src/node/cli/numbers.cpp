#include "node/cli/numbers.h"

#include <charconv>
#include <stdexcept>
#include <string>

namespace node::cli {

std::optional<uint64_t> parse_u64(std::string_view text) {
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<uint64_t> parse_nonce_list(std::string_view text, uint64_t max_count) {
  std::vector<uint64_t> out;
  if (text.empty()) throw std::runtime_error("--nonces is empty; give values and ranges like 1,2,10-20");
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const auto bad = [&](const std::string& why) {
      return std::runtime_error("--nonces: \"" + std::string(item) + "\" " + why);
    };
    const auto dash = item.find('-');
    uint64_t first = 0, last = 0;
    if (dash == std::string_view::npos) {
      auto v = parse_u64(item);
      if (!v) throw bad("is not a nonce (0 to 18446744073709551615) or an inclusive range A-B");
      first = last = *v;
    } else {
      auto a = parse_u64(item.substr(0, dash));
      auto b = parse_u64(item.substr(dash + 1));
      if (!a || !b) throw bad("is not a nonce (0 to 18446744073709551615) or an inclusive range A-B");
      if (*b < *a) throw bad("is a range whose end is below its start");
      first = *a;
      last = *b;
    }
    // last - first + 1 would overflow for 0-(2^64-1); compare without it.
    if (last - first >= max_count || out.size() + (last - first) >= max_count) {
      throw bad("makes the list longer than " + std::to_string(max_count) + " nonces");
    }
    for (uint64_t n = first;; ++n) {  // ends at `last` without computing last + 1 (which wraps at 2^64-1)
      out.push_back(n);
      if (n == last) break;
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace node::cli
