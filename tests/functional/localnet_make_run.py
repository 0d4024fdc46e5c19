"""What `make run` promises a new user: `scripts/localnet run` starts a local network (solo chain node + one ML
node), prints how to send it an inference request and a transaction, and those printed commands work as pasted;
Ctrl-C stops every process it started, and running it again resumes the same chain."""
import json
import os
import shlex
import signal
import socket
import subprocess
import threading

from framework import wait_until
from framework.process import build_dir, free_port, guard_process_group

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LOCALNET = os.path.join(REPO_ROOT, "..", "scripts", "localnet")
LAST_LINE = "requests go straight to the ML node."


class LocalnetRun:
    """`scripts/localnet run` as a user starts it, with its output collected line by line."""

    def __init__(self, home, rpc_port, ml_port, poc_port):
        self.ports = (rpc_port, ml_port, poc_port)
        args = ["bash", LOCALNET, "run", "--build-dir", build_dir(), "--home", home, "--rpc-port", str(rpc_port),
                "--block-time-ms", "200", "--mlnode-inference-port", str(ml_port), "--mlnode-poc-port", str(poc_port)]
        # Its own session, like a terminal's foreground job: Ctrl-C is a SIGINT to the script.
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        guard_process_group(self.proc.pid)  # the script and the nodes it starts die with this test
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self):
        wait_until(lambda: LAST_LINE in self.lines or self.proc.poll() is not None, timeout=90,
                   what="scripts/localnet run to print its instructions")
        assert LAST_LINE in self.lines, "\n".join(self.lines)
        return self

    def command_after(self, heading):
        """The first non-empty line after the line containing `heading`: a command to paste."""
        i = next(i for i, line in enumerate(self.lines) if heading in line)
        return next(line.strip() for line in self.lines[i + 1:] if line.strip())

    def ctrl_c(self):
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=60)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def paste(command):
    """Runs a printed command the way a shell would."""
    out = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"{command}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def amount(balance_json):
    return int(json.loads(balance_json)["amount"])


def port_closed(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_make_run_starts_a_network_that_answers_the_printed_requests(workdir):
    home = os.path.join(workdir, "localnet")
    ports = free_port(), free_port(), free_port()
    run = LocalnetRun(home, *ports)
    try:
        run.wait_ready()
        inference = run.command_after("Send an inference request")
        assert inference.startswith("curl ") and "/v1/chat/completions" in inference
        reply = json.loads(paste(inference))
        assert reply["object"] == "chat.completion"
        assert reply["choices"][0]["message"]["content"]
        assert reply["usage"]["completion_tokens"] == json.loads(shlex.split(inference)[-1])["max_tokens"]

        send = run.command_after("Send tokens from the genesis validator")
        balance_query = run.lines[run.lines.index(next(l for l in run.lines if send in l)) + 1].strip()
        assert amount(paste(balance_query)) == 0
        paste(send)
        wait_until(lambda: amount(paste(balance_query)) == 1000, timeout=30, what="the printed bank send to land")

        assert run.ctrl_c() == 0
        wait_until(lambda: all(port_closed(p) for p in ports), timeout=30, what="every local network port to close")
    finally:
        run.kill()

    # `make run` again resumes the same chain: the transfer is still there.
    again = LocalnetRun(home, *ports)
    try:
        again.wait_ready()
        assert amount(paste(balance_query)) == 1000
        assert again.ctrl_c() == 0
    finally:
        again.kill()
    print(f"inference reply: {reply['choices'][0]['message']['content']!r}; ports {ports} closed after Ctrl-C")
