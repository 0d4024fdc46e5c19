// A launched upstream server (e.g. vLLM): `/bin/sh -c "exec <command> --model <id> <args...>"` in a process
// group of its own, stopped with SIGTERM to the group and SIGKILL after a grace period.
//
// It never outlives its manager (issue 14, fault 11): the leader gets PR_SET_PDEATHSIG(SIGKILL), so a kill -9
// of mlnode kills it at once, and its group id is written to `pid_file` (with the leader's start time). A
// restarted mlnode calls reap_stale() on the same file and stops whatever is left of that group (workers the
// leader forked do not get the parent-death signal), so the port and the GPU memory are free again.
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
  // `pid_file` empty: no pid file (tests).
  explicit UpstreamProcess(std::string pid_file = {});
  ~UpstreamProcess();
  UpstreamProcess(const UpstreamProcess&) = delete;
  UpstreamProcess& operator=(const UpstreamProcess&) = delete;

  common::Status start(const std::string& command, const std::string& model,
                       const std::vector<std::string>& args);
  // Exit status text if the process has exited ("exited with code 1", "killed by signal 9"), else nullopt.
  std::optional<std::string> exited();
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(20));
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Stops the process group recorded in `pid_file` by an earlier mlnode, if any of it still runs, and removes
  // the file. Returns a description of what was stopped, or nullopt if nothing was.
  static std::optional<std::string> reap_stale(const std::string& pid_file);

 private:
  std::string pid_file_;
  pid_t pid_ = -1;
};

}  // namespace mlnode::backends
