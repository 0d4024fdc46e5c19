import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time

_used_ports = set()

# Every process a test starts must die with that test however it ends (issue 14, fault 12):
#  - each one gets its own process group, registered with a reaper process (framework/reaper.py) in its own session
#    that SIGTERMs/SIGKILLs the registered groups as soon as this process is gone (even after a SIGKILL, which is
#    what ctest's timeout sends): grandchildren (nginx workers, a launched upstream, what a script starts) included;
#  - direct children also get PR_SET_PDEATHSIG(SIGKILL), so they die at once with the test process;
#  - a normal exit or SIGTERM/SIGHUP stops them at once through atexit.
_PR_SET_PDEATHSIG = 1
_reaper = None
_reaper_lock = threading.Lock()
_groups = set()


def _start_reaper():
    global _reaper
    _reaper = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "reaper.py")],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True, text=True,
                               bufsize=1)
    for g in _groups:
        _reaper.stdin.write(f"+{g}\n")
    _reaper.stdin.flush()


def _tell_reaper(line):
    """Sends one line to the (detached) reaper; starts a new one if there is none or it went away."""
    with _reaper_lock:
        for _ in range(2):
            try:
                if _reaper is None:
                    _start_reaper()
                _reaper.stdin.write(line + "\n")
                _reaper.stdin.flush()
                return
            except (BrokenPipeError, ValueError, OSError):
                _start_reaper_after_failure()


def _start_reaper_after_failure():
    global _reaper
    _reaper = None


def guard_process_group(pgid):
    """Makes sure process group `pgid` (a child started with start_new_session=True) dies with this test."""
    _groups.add(pgid)
    _tell_reaper(f"+{pgid}")


def release_process_group(pgid):
    """Forgets a group whose processes were stopped and reaped (so that a reused id is never killed)."""
    _groups.discard(pgid)
    if _reaper is not None:
        _tell_reaper(f"-{pgid}")


def _kill_all_groups():
    for g in list(_groups):
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _groups.discard(g)


def _on_signal(signum, frame):
    _kill_all_groups()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_kill_all_groups)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    if threading.current_thread() is threading.main_thread() and signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _on_signal)

_libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the thread that started it exits (Linux PR_SET_PDEATHSIG)."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def build_dir():
    d = os.environ.get("INFERENCE_BUILD_DIR")
    if d:
        return d
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    return os.path.join(root, "build", "release")


def binary(name):
    """Path of a built executable (inferenced, dapi, mlnode, tools): every executable is in <build dir>/bin/."""
    p = os.path.join(build_dir(), "bin", name)
    if os.path.exists(p):
        return p
    raise FileNotFoundError(f"{name} not built in {os.path.join(build_dir(), 'bin')}; run `make build` first")


def free_port():
    """A port that is free now and not handed out before in this process."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port


def wait_until(condition, timeout=30.0, interval=0.05, what="condition"):
    """Polls `condition` until it returns a truthy value; returns that value or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the condition may fail while a process starts
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


class Process:
    """A child process with its output in a log file; killed when the test ends."""

    def __init__(self, name, args, log_dir, env=None, cwd=None):
        self.name = name
        self.args = [str(a) for a in args]
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.env = env
        self.cwd = cwd
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        log.write(f"\n=== start: {' '.join(self.args)}\n".encode())
        log.flush()
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        # PDEATHSIG follows the starting thread, so only processes started on the main thread get it; every
        # process is covered by the reaper either way.
        preexec = die_with_parent if threading.current_thread() is threading.main_thread() else None
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.cwd,
                                     start_new_session=True, preexec_fn=preexec)
        log.close()
        guard_process_group(self.proc.pid)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit code."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return self.proc.returncode
        self._kill_group()
        return code

    def kill9(self):
        if self.proc is None:
            return
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._kill_group()

    def _kill_group(self):
        """What the process started in its group (e.g. nginx workers) goes too; then the group id is released."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        release_process_group(self.proc.pid)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def dump_log(self, tail=200):
        lines = self.log().splitlines()[-tail:]
        sys.stderr.write(f"----- {self.name} log ({self.log_path}) -----\n" + "\n".join(lines) + "\n")
