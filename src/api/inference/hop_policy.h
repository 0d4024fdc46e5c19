// Bounds of the two outbound hops of the inference path (issue 12 item 4) and the transfer agent's failover
// rules (docs/dapi-inference.md), as pure functions. Configured in config.yaml under `inference.executor_hop`
// and `inference.mlnode_hop` (docs/dapi.md); defaults below.
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

// Whether an executor's answer with this HTTP status, received before anything was sent to the client, makes
// the transfer agent start the request on another executor: 429 (every MLNode of that executor is at its
// max_concurrent; the executor refuses before any work, so it is neither finished nor paid), 5xx (it could
// not run it) or 3xx (redirects are not followed). Any other status (2xx, 4xx) is relayed to the client as it
// is.
bool may_fail_over_status(int status);

// What the client gets when every executor tried failed before its first byte: 429 `all_nodes_busy` (with
// Retry-After) when each of them was busy — the network is full now, a retry later may pass — else 502
// `executor_unreachable`.
inline int exhausted_failover_status(bool every_executor_busy) {
  return every_executor_busy ? 429 : 502;
}

}  // namespace api::inference
