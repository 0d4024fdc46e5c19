#include "mlnode/backends/upstream_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

namespace mlnode::backends {
namespace {

// PR_SET_PDEATHSIG fires when the *thread* that forked exits, so every launch forks from this one thread,
// which lives until the process exits (HTTP worker threads come and go).
class Launcher {
 public:
  static Launcher& instance() {
    static Launcher* launcher = new Launcher();  // never destroyed: its thread must outlive every child
    return *launcher;
  }

  // Runs `job` on the launcher thread and returns its result.
  pid_t run(std::function<pid_t()> job) {
    std::unique_lock lock(mu_);
    job_ = std::move(job);
    done_ = false;
    cv_.notify_all();
    cv_.wait(lock, [&] { return done_; });
    return result_;
  }

 private:
  Launcher() {
    std::thread([this] {
      std::unique_lock lock(mu_);
      while (true) {
        cv_.wait(lock, [&] { return static_cast<bool>(job_); });
        result_ = job_();
        job_ = nullptr;
        done_ = true;
        cv_.notify_all();
      }
    }).detach();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<pid_t()> job_;
  pid_t result_ = -1;
  bool done_ = false;
};

std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

// Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; "" if the process does not exist.
std::string start_time(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

bool group_alive(pid_t pgid) {
  return pgid > 1 && ::kill(-pgid, 0) == 0;
}

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << pid << " " << start_time(pid) << "\n";
    if (!f) {
      spdlog::warn("cannot write the upstream pid file {}", tmp);
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    spdlog::warn("cannot write the upstream pid file {}", path);
}

}  // namespace

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

UpstreamProcess::UpstreamProcess(std::string pid_file) : pid_file_(std::move(pid_file)) {}

UpstreamProcess::~UpstreamProcess() {
  stop(std::chrono::seconds(5));
}

common::Status UpstreamProcess::start(const std::string& command, const std::string& model,
                                      const std::vector<std::string>& args) {
  stop();
  std::string line = "exec " + command + " --model " + shell_quote(model);
  for (const auto& a : args) line += " " + shell_quote(a);
  const pid_t parent = ::getpid();
  int error = 0;
  std::lock_guard launch(launch_mutex());
  const pid_t pid = Launcher::instance().run([&]() -> pid_t {
    // The pipe closes on exec: the parent returns only once the child has its own session (so stop() can
    // signal the group at once) and runs the command, and learns why if the exec failed.
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
      error = errno;
      return -1;
    }
    const pid_t child = ::fork();
    if (child == 0) {
      // Only async-signal-safe calls until exec.
      ::close(ready[0]);
      ::setsid();
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the manager died before the line above
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);  // mlnode blocks SIGTERM for sigwait; the upstream must not
      const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
      ::execv("/bin/sh", const_cast<char* const*>(argv));
      const int e = errno;
      [[maybe_unused]] const auto written = ::write(ready[1], &e, sizeof e);
      ::_exit(127);
    }
    ::close(ready[1]);
    if (child < 0) {
      error = errno;
    } else {
      int e = 0;
      ssize_t n = 0;
      do {
        n = ::read(ready[0], &e, sizeof e);
      } while (n < 0 && errno == EINTR);
      if (n == static_cast<ssize_t>(sizeof e)) error = e;  // the exec failed; the child exits with 127
    }
    ::close(ready[0]);
    return child;
  });
  if (pid < 0 || error != 0) {
    if (pid > 0) waitpid(pid, nullptr, 0);
    return common::make_error(500,
                              fmt::format("cannot launch upstream \"{}\": {}", line, std::strerror(error)));
  }
  pid_ = pid;
  write_pid_file(pid_file_, pid_);
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
  const pid_t group = pid_;
  ::kill(-group, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  bool leader_gone = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!leader_gone && exited()) leader_gone = true;
    if (leader_gone && !group_alive(group)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!leader_gone || group_alive(group)) {
    spdlog::warn("upstream group {} did not stop within {} ms; killing it", group, grace.count());
    ::kill(-group, SIGKILL);
    if (!leader_gone) {
      int status = 0;
      waitpid(group, &status, 0);
    }
  }
  pid_ = -1;
  if (!pid_file_.empty()) std::remove(pid_file_.c_str());
}

std::optional<std::string> UpstreamProcess::reap_stale(const std::string& pid_file) {
  if (pid_file.empty()) return std::nullopt;
  std::ifstream f(pid_file);
  if (!f) return std::nullopt;
  long long pgid = 0;
  std::string started;
  f >> pgid >> started;
  f.close();
  std::optional<std::string> what;
  // A live leader must be the same process (same start time); without its leader the group id cannot have
  // been reused (Linux does not hand out a pid that is still a process group id), so what is left is ours.
  const std::string now_started = start_time(static_cast<pid_t>(pgid));
  const bool same_leader = !now_started.empty() && now_started == started;
  if (pgid > 1 && group_alive(static_cast<pid_t>(pgid)) && (now_started.empty() || same_leader)) {
    const auto group = static_cast<pid_t>(pgid);
    ::kill(-group, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (group_alive(group) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (group_alive(group)) ::kill(-group, SIGKILL);
    what =
        fmt::format("stopped the upstream process group {} left by an earlier mlnode ({})", pgid, pid_file);
    spdlog::warn("{}", *what);
  }
  std::remove(pid_file.c_str());
  return what;
}

}  // namespace mlnode::backends
