"""Kills the process groups a test started once that test is gone, however it ended (issue 14, fault 12).

Started by framework.process in its own session and detached (double fork), so that a SIGKILL of the test's process
group or process tree (ctest's timeout) does not take it along. It reads lines from stdin: "+<pgid>" registers a process group, "-<pgid>" forgets one that
was stopped normally. At end of file (the test process exited, crashed or was killed: the kernel closes the pipe)
it sends SIGTERM to every registered group, waits up to GRACE seconds and SIGKILLs what is left."""
import os
import signal
import sys
import time

GRACE = 3.0


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def main():
    groups = set()
    for line in sys.stdin:
        line = line.strip()
        try:
            pgid = int(line[1:])
        except ValueError:
            continue
        if pgid <= 1:
            continue
        if line.startswith("+"):
            groups.add(pgid)
        elif line.startswith("-"):
            groups.discard(pgid)
    alive = [g for g in groups if group_alive(g)]
    for g in alive:
        try:
            os.killpg(g, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + GRACE
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [g for g in alive if group_alive(g)]
    for g in alive:
        try:
            os.killpg(g, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    # Detach from the test process (a tree kill that follows parent links must not reach the reaper).
    if os.fork() > 0:
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the test must not stop the clean-up
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    main()
