"""The framework's processes die with the test that started them, however it ends (issue 14, fault 12): a test
process killed with SIGKILL (what ctest's timeout does) or SIGTERM leaves neither its children nor their children."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from framework import wait_until

FRAMEWORK_DIR = os.path.dirname(os.path.abspath(__file__))

# A stand-in for a test: starts a Process whose shell starts a grandchild in the same group, prints both pids,
# then waits to be killed.
VICTIM = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    from framework.process import Process
    p = Process("sleeper", ["sh", "-c", "sleep 300 & echo $! > " + sys.argv[2] + "/grandchild; exec sleep 301"],
                sys.argv[2]).start()
    while not os.path.exists(sys.argv[2] + "/grandchild") or not open(sys.argv[2] + "/grandchild").read().strip():
        time.sleep(0.02)
    print(p.proc.pid, open(sys.argv[2] + "/grandchild").read().strip(), flush=True)
    time.sleep(300)
""")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_processes_die_with_the_test(tmp_path, how):
    victim = subprocess.Popen([sys.executable, "-c", VICTIM, FRAMEWORK_DIR, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        child, grandchild = map(int, victim.stdout.readline().split())
        assert alive(child) and alive(grandchild)
        # ctest kills the test's process group; the framework's processes are in groups of their own.
        os.killpg(victim.pid, how)
        victim.wait(10)
        wait_until(lambda: not alive(child) and not alive(grandchild), timeout=10,
                   what=f"child {child} and grandchild {grandchild} to die with the killed test")
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
