// Strict parsing of the numbers an operator types into the CLI (issue 13 fault 11, integer edges): decimal
// digits only (no sign, spaces or trailing text, which std::stoull would accept, turning "-1" into 2^64-1),
// and no value that does not fit.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace node::cli {

// "0" .. "18446744073709551615"; nullopt for anything else.
std::optional<uint64_t> parse_u64(std::string_view text);

// "1,2,5-9" -> {1, 2, 5, 6, 7, 8, 9}: values and inclusive ranges A-B, in the order given. Throws
// std::runtime_error naming the bad item, or when the list would hold more than `max_count` nonces (checked
// before expanding a range, so "0-18446744073709551615" is refused at once instead of looping).
std::vector<uint64_t> parse_nonce_list(std::string_view text, uint64_t max_count);

}  // namespace node::cli
