// The body of POST /txs: exactly {"tx": "<standard base64 of the signed tx bytes>"}. Pure, so the fuzz target
// (tests/fuzz/json_body_fuzz.cpp) drives the same code as the RPC.
#pragma once

#include <string>

#include "common/result.h"

namespace node::rpc {

struct BodyError {
  std::string code;  // the "code" of the 400 answer: invalid_json, missing_tx, unknown_field, invalid_base64
  std::string message;  // says what was wrong and what is accepted
};

// The tx bytes, or why the body is refused (a key other than "tx" is refused too: a misspelled field must not
// be ignored silently).
common::Result<std::string, BodyError> tx_bytes_from_body(const std::string& body);

}  // namespace node::rpc
