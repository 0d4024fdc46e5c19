// Hand-rolled protobuf wire encoding for writing test vectors without the generated code: each helper emits
// exactly the bytes the protobuf encoding rules prescribe (tag = field_number << 3 | wire_type; wire type 0 =
// varint, 2 = length-delimited), so a vector reads like the spec.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace node::abci::test {

inline std::string varint(uint64_t v) {
  std::string out;
  common::put_uvarint(out, v);
  return out;
}
// Field `n` with wire type 0 (int32/int64/uint32/uint64/bool/enum).
inline std::string vfield(uint32_t n, uint64_t v) { return varint(uint64_t{n} << 3 | 0) + varint(v); }
// Field `n` with wire type 2 (bytes, string, embedded message).
inline std::string lfield(uint32_t n, std::string_view payload) {
  return varint(uint64_t{n} << 3 | 2) + varint(payload.size()) + std::string(payload);
}
// Bytes from a hex literal; spaces are ignored so vectors can be grouped by field.
inline std::string hex(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ') compact.push_back(c);
  }
  return *common::from_hex(compact);
}

}  // namespace node::abci::test
