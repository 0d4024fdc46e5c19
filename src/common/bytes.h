// Byte strings (std::string used as a byte container), hex/base64 and fixed-width big-endian integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common {

using Bytes = std::string;

std::string to_hex(std::string_view bytes);  // lower case
std::optional<Bytes> from_hex(std::string_view hex);
std::string to_base64(std::string_view bytes);
std::optional<Bytes> from_base64(std::string_view text);  // strict: rejects bad characters and padding

void put_be64(Bytes& out, uint64_t v);
void put_be32(Bytes& out, uint32_t v);
uint64_t get_be64(std::string_view in);  // in.size() >= 8
Bytes be64(uint64_t v);
void put_uvarint(Bytes& out, uint64_t v);
// Reads an unsigned LEB128 varint; returns bytes consumed, 0 if incomplete, -1 if longer than 10 bytes.
int get_uvarint(std::string_view in, uint64_t& v);

}  // namespace common
