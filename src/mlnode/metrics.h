// Counters of the ML node, rendered as Prometheus text on /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace mlnode {

struct Metrics {
  std::atomic<uint64_t> chat_requests{0};
  std::atomic<uint64_t> chat_errors{0};
  std::atomic<uint64_t> prompt_tokens{0};
  std::atomic<uint64_t> completion_tokens{0};
  std::atomic<int64_t> chat_in_flight{0};
  std::atomic<uint64_t> chat_cancelled{0};  // ended by the client leaving, /api/v1/stop or shutdown
  std::atomic<uint64_t> tokenize_requests{0};
};

struct InFlight {
  explicit InFlight(std::atomic<int64_t>& g) : g_(g) { ++g_; }
  ~InFlight() { --g_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int64_t>& g_;
};

// One metric line: "name{labels} value\n" with a preceding "# TYPE" line.
std::string prometheus_metric(const std::string& name, const std::string& type, const std::string& labels,
                              double value);

}  // namespace mlnode
