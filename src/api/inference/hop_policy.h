// Bounds of the two outbound hops of the inference path (issue 12 item 4) and the transfer agent's failover
// rule, as pure functions. Configured in config.yaml under `inference.executor_hop` and
// `inference.mlnode_hop` (docs/dapi.md); defaults below.
//
// A streamed call is bounded by connect, first byte (the first SSE chunk: the time to first token) and idle
// (every gap between two chunks), never as a whole: a long answer that keeps coming is fine. A non-streamed
// call sends its headers only with the finished answer, so its first byte is bounded by `total`, the whole
// answer, besides connect.
#pragma once

#include <chrono>
#include <string>

#include "net/http.h"

namespace api::inference {

struct HopTimeouts {
  std::chrono::milliseconds connect{5000};      // DNS + TCP connect
  std::chrono::milliseconds first_byte{60000};  // streamed: to the first chunk
  std::chrono::milliseconds idle{60000};        // streamed: between two chunks
  std::chrono::milliseconds total{300000};      // non-streamed: the whole answer
  bool operator==(const HopTimeouts&) const = default;
};

// The client bounds of one call on a hop.
net::CallTimeouts call_timeouts(const HopTimeouts& hop, bool stream);

// Empty when the bounds make sense (each 1 ms - 1 h; connect <= first_byte <= total), else which is wrong.
std::string validate_hop_timeouts(const HopTimeouts& hop, const std::string& where);

// Whether the transfer agent may start the request on another executor after a failed forward that sent
// nothing to the client: the executor was never reached (connect failure or timeout, refused address) or
// the connection broke before any answer came (reset) — but not after a first-byte or whole-call timeout
// (the executor may be generating, and would be paid for it), and not when our own client left.
bool may_fail_over(const net::ClientError& error);

}  // namespace api::inference
