// Text from strangers (paths, query parameters, tx fields, HTTP bodies) echoed into JSON or logs.
// nlohmann::json::dump() throws type_error 316 on a string that is not valid UTF-8; every serialisation of a
// value that may hold such bytes goes through json_dump(), which writes U+FFFD for each invalid byte instead.
// Messages that quote untrusted bytes use printable(), which keeps valid UTF-8 and writes the rest as \xNN,
// so the reader sees exactly which bytes were sent (issue 13 fault 1).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace common {

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every byte that is not part of a well-formed UTF-8 sequence, and every ASCII control byte,
// written as "\xNN". The result is valid UTF-8 and at most 4× the input length; `max_bytes` cuts the input
// first (with "..." appended) so an error message stays short whatever was sent.
std::string printable(std::string_view text, std::size_t max_bytes = 256);

// value.dump(indent) that never throws: invalid UTF-8 in strings becomes U+FFFD.
std::string json_dump(const nlohmann::json& value, int indent = -1);

// Readers of config, genesis and params refuse keys they do not know, so a misspelled key is an error instead
// of a silently kept default (issue 13 fault 11). Returns nullopt when every key of `object` is in `known`
// (or `object` is not an object), else a message naming the first unknown key, where it is and the known
// ones:
//   unknown key "inference_expiration_blockz" in app_state.schedule.params; known keys: a, b, c
std::optional<std::string> unknown_key_error(const nlohmann::json& object,
                                             std::initializer_list<std::string_view> known,
                                             std::string_view where);
// The same with the keys of `known_object` (e.g. params_to_json(default_params()), which writes every field).
std::optional<std::string> unknown_key_error(const nlohmann::json& object, const nlohmann::json& known_object,
                                             std::string_view where);

}  // namespace common
