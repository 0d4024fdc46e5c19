#include "common/proto_log.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <mutex>

namespace common {
namespace {

struct Repeat {
  int64_t last_written_s = 0;
  uint64_t suppressed = 0;
};

struct State {
  std::mutex mu;
  int64_t window_s = 60;
  std::map<std::string, Repeat> by_site;  // bounded: one entry per protobuf log call site
  ProtobufLogCounts counts;
};

State& state() {
  static State s;
  return s;
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void handle(google::protobuf::LogLevel level, const char* filename, int line, const std::string& message) {
  auto& s = state();
  const std::string site = std::string(filename ? filename : "?") + ":" + std::to_string(line);
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(s.mu);
    ++s.counts.seen;
    auto [it, first] = s.by_site.try_emplace(site);
    const int64_t t = now_s();
    if (!first && t - it->second.last_written_s < s.window_s) {
      ++it->second.suppressed;
      return;
    }
    suppressed = it->second.suppressed;
    it->second = Repeat{t, 0};
    ++s.counts.written;
  }
  const auto lvl = level >= google::protobuf::LOGLEVEL_ERROR     ? spdlog::level::err
                   : level == google::protobuf::LOGLEVEL_WARNING ? spdlog::level::warn
                                                                 : spdlog::level::info;
  if (suppressed > 0)
    spdlog::log(lvl, "protobuf ({}): {} ({} repeats suppressed)", site, message, suppressed);
  else
    spdlog::log(lvl, "protobuf ({}): {}", site, message);
}

}  // namespace

void route_protobuf_logs(int64_t repeat_window_s) {
  {
    std::lock_guard lock(state().mu);
    state().window_s = repeat_window_s;
  }
  google::protobuf::SetLogHandler(&handle);
}

ProtobufLogCounts protobuf_log_counts() {
  std::lock_guard lock(state().mu);
  return state().counts;
}

}  // namespace common
