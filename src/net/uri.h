// Percent-decoding and query parsing for request targets (internal to net; Url::parse is in http.h).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace net {

// Decodes %XX escapes; malformed escapes are kept literally. In query strings '+' also means a space.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

// "a=1&b=x%20y&flag" -> {a: "1", b: "x y", flag: ""}; a repeated key keeps its last value.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace net
