#include "api/inference/hop_policy.h"

namespace api::inference {

using std::chrono::milliseconds;

net::CallTimeouts call_timeouts(const HopTimeouts& hop, bool stream) {
  if (stream) return net::CallTimeouts{hop.connect, hop.first_byte, hop.idle, milliseconds(0)};
  return net::CallTimeouts{hop.connect, hop.total, hop.total, hop.total};
}

std::string validate_hop_timeouts(const HopTimeouts& hop, const std::string& where) {
  const std::pair<const char*, milliseconds> all[] = {{"connect_timeout_ms", hop.connect},
                                                      {"first_byte_timeout_ms", hop.first_byte},
                                                      {"idle_timeout_ms", hop.idle},
                                                      {"total_timeout_ms", hop.total}};
  for (const auto& [name, v] : all) {
    if (v.count() < 1 || v.count() > 3600000)
      return where + "." + name + ": must be 1-3600000 ms, got " + std::to_string(v.count());
  }
  if (hop.connect > hop.first_byte)
    return where + ".connect_timeout_ms: must not be above first_byte_timeout_ms";
  if (hop.first_byte > hop.total) return where + ".first_byte_timeout_ms: must not be above total_timeout_ms";
  return "";
}

bool may_fail_over(const net::ClientError& error) {
  if (error.cancelled) return false;
  if (error.stage == net::ClientError::Stage::kConnect) return true;
  return error.stage == net::ClientError::Stage::kFirstByte && !error.timed_out;
}

bool may_fail_over_status(int status) {
  return status == 429 || status / 100 == 5 || status / 100 == 3;
}

}  // namespace api::inference
