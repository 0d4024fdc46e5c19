import os
import signal
import socket
import subprocess
import sys
import time

_used_ports = set()


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
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.cwd,
                                     start_new_session=True)
        log.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit code."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return self.proc.returncode

    def kill9(self):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def dump_log(self, tail=200):
        lines = self.log().splitlines()[-tail:]
        sys.stderr.write(f"----- {self.name} log ({self.log_path}) -----\n" + "\n".join(lines) + "\n")
