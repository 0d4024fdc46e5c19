// Percent-encoding and -decoding and query parsing for request targets (RFC 3986; Url::parse is in http.h).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace net {

// Encodes every byte outside RFC 3986's unreserved set (ALPHA DIGIT - . _ ~) as %XX (upper-case hex), so any
// string, including bytes that are not UTF-8, is safe as one path segment or query value.
std::string percent_encode(std::string_view text);

// Decodes %XX escapes; malformed escapes are kept literally. In query strings '+' also means a space.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

// "a=1&b=x%20y&flag" -> {a: "1", b: "x y", flag: ""}; a repeated key keeps its last value.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace net
