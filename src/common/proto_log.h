// Routes protobuf's own log lines into the process log, with repeats suppressed.
//
// protobuf 3.21 writes an ERROR line to stderr for every string field that holds invalid UTF-8 while it
// parses
// ("String field ... contains invalid UTF-8 data ..."). A stranger who sends many such transactions or
// queries would otherwise flood the node's log with lines it cannot act on: the input is already refused with
// a clear error.
#pragma once

#include <cstdint>
#include <string>

namespace common {

// Installs the handler (protobuf's SetLogHandler is not thread-safe: call once, early in main, before any
// thread). Each distinct message text (file:line) is logged once, at warn (protobuf ERROR/FATAL keep error),
// then at most once per `repeat_window_s` seconds with the number of repeats suppressed since. Protobuf FATAL
// still aborts.
void route_protobuf_logs(int64_t repeat_window_s = 60);

// Counts of what the handler has seen and written since install (for tests and /metrics).
struct ProtobufLogCounts {
  uint64_t seen = 0;
  uint64_t written = 0;
};
ProtobufLogCounts protobuf_log_counts();

}  // namespace common
