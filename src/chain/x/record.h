// Helpers every module uses for its state records and message checks.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chain/types/codes.h"
#include "common/result.h"

namespace chain::x {

// A message that fails validation: code kInvalidRequest with the given explanation.
inline common::Error invalid(const std::string& message) {
  return common::make_error(codes::kInvalidRequest, message);
}

// A message refused by the state for a reason a client must tell apart: `code` is one of the kinds of
// common/tx/codes.h (codespace "inference"), documented in docs/errors.md.
inline common::Error reject(uint32_t code, const std::string& message) {
  return common::make_error(code, message);
}

// Parses a record this chain wrote itself; unreadable bytes mean corrupted state, which halts the node.
template <typename Msg>
Msg parse_record(std::string_view bytes, const char* what) {
  Msg m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw std::logic_error(std::string("corrupt ") + what + " record in state");
  }
  return m;
}

}  // namespace chain::x
