#include "mlnode/backends/upstream_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <thread>

extern char** environ;

namespace mlnode::backends {

std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

UpstreamProcess::~UpstreamProcess() { stop(std::chrono::seconds(5)); }

common::Status UpstreamProcess::start(const std::string& command, const std::string& model,
                                      const std::vector<std::string>& args) {
  stop();
  std::string line = "exec " + command + " --model " + shell_quote(model);
  for (const auto& a : args) line += " " + shell_quote(a);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, const_cast<char* const*>(argv), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return common::make_error(500, fmt::format("cannot launch upstream \"{}\": {}", line, std::strerror(rc)));
  pid_ = pid;
  spdlog::info("launched upstream (pid {}): {}", pid_, line);
  return {};
}

std::optional<std::string> UpstreamProcess::exited() {
  if (pid_ <= 0) return "not running";
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  pid_ = -1;
  if (r < 0) return "lost";
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "exited";
}

void UpstreamProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (exited()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  spdlog::warn("upstream pid {} did not stop within {} ms; killing it", pid_, grace.count());
  ::kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace mlnode::backends
