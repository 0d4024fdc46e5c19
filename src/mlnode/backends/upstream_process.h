// A launched upstream server (e.g. vLLM): `/bin/sh -c "<command> --model <id> <args...>"` in its own process
// group, stopped with SIGTERM to the group and SIGKILL after a grace period.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace mlnode::backends {

// Single-quotes `arg` for /bin/sh.
std::string shell_quote(const std::string& arg);

class UpstreamProcess {
 public:
  UpstreamProcess() = default;
  ~UpstreamProcess();
  UpstreamProcess(const UpstreamProcess&) = delete;
  UpstreamProcess& operator=(const UpstreamProcess&) = delete;

  common::Status start(const std::string& command, const std::string& model, const std::vector<std::string>& args);
  // Exit status text if the process has exited ("exited with code 1", "killed by signal 9"), else nullopt.
  std::optional<std::string> exited();
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(20));
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

}  // namespace mlnode::backends
