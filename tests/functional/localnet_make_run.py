"""What `make run` promises a new user (issue 15 must-show 1): `scripts/localnet run` starts a solo chain and 3
participants (dapi, a llama.cpp ML node serving SmolLM2-135M-Instruct, a builtin ML node, nginx), prints progress
(height, epoch, phase) until the first epoch has formed, then prints an `openai` snippet and a `curl` command that
work as pasted: the real model answers a factual question through the network, and the chain's record of that
inference (from the printed record command) names the executor with the tokens the client saw; the printed status
page URL serves the page. Ctrl-C exits 0 and leaves no process behind (nothing runs with the network's directory on
its command line, every port is closed); running it again resumes the same network (same chain, same participants).
Skipped, with the reason, when .venv/ or the model file is missing (scripts/setup installs them)."""
import json
import os
import re
import signal
import subprocess
import threading

from framework import wait_until
from framework.http import get_json, http_request
from framework.process import build_dir, guard_process_group
from framework.localnet import free_port_block, localnet, require_real_model

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOCALNET = os.path.join(REPO_ROOT, "scripts", "localnet")
READY_LINE = "See the chain's record of an inference"


class LocalnetRun:
    """`scripts/localnet run` as a user starts it, with its output collected line by line."""

    def __init__(self, directory, base_port, rpc_port):
        args = ["bash", LOCALNET, "run", "--build-dir", build_dir(), "--dir", directory, "--base-port",
                str(base_port), "--rpc-port", str(rpc_port), "--block-time-ms", "300"]
        # Its own session, like a terminal's foreground job: Ctrl-C is a SIGINT to the script.
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        guard_process_group(self.proc.pid)  # the script dies with this test (it stops what it started)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self):
        return "\n".join(self.lines)

    def wait_ready(self, timeout):
        wait_until(lambda: any(READY_LINE in l for l in self.lines) or self.proc.poll() is not None,
                   timeout=timeout, interval=0.5, what="scripts/localnet run to print its instructions")
        assert any(READY_LINE in l for l in self.lines), self.output()
        wait_until(lambda: len(self.lines) > self.index(READY_LINE) + 2, timeout=10, what="the last lines")
        return self

    def index(self, text, start=0):
        return next(i for i, line in enumerate(self.lines) if i >= start and text in line)

    def snippet(self):
        """The printed openai snippet: from the `python... - <<'PY'` line to the closing `PY`."""
        first = next(i for i, l in enumerate(self.lines) if l.endswith("- <<'PY'"))
        last = self.lines.index("PY", first)
        return "\n".join(self.lines[first:last + 1])

    def command_after(self, heading):
        i = self.index(heading)
        return next(line.strip() for line in self.lines[i + 1:] if line.strip())

    def ctrl_c(self):
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=90)
        self.reader.join(10)
        return code

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def paste(command):
    """Runs printed text the way a shell would."""
    out = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{command}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def processes_mentioning(text):
    """Pids of running processes whose command line contains `text`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            found.append((int(pid), cmdline))
    return found


def test_make_run_starts_the_network_and_the_printed_commands_work(workdir):
    require_real_model()
    directory = os.path.join(workdir, "localnet-state")
    base, rpc = free_port_block(60), free_port_block(1)
    ports = [rpc] + list(range(base, base + 60))
    run = LocalnetRun(directory, base, rpc)
    try:
        run.wait_ready(timeout=300)
        out = run.output()
        assert "creating a new local network" in out, out
        assert re.search(r"height +\d+ +epoch 0 +phase", out), out  # progress while waiting
        assert re.search(r"epoch [1-9]\d* +phase .*serving HuggingFaceTB/SmolLM2-135M-Instruct", out), out
        assert f"{directory}/logs/" in out and os.path.exists(os.path.join(directory, "logs", "alice-dapi.log")), out
        status_url = re.search(r"status page: +(http://\S+/)", out).group(1)
        status, page = http_request("GET", status_url, timeout=10)
        assert status == 200 and "<html" in page.lower(), (status_url, status, page[:300])

        # The openai snippet, pasted as printed: the real model answers through alice's dapi.
        answer = paste(run.snippet())
        print(f"snippet printed:\n{answer}")
        assert "paris" in answer.lower(), answer
        inference_id = re.search(r"id: (chatcmpl-\S+)", answer).group(1)
        tokens = re.search(r"tokens: (\d+) \+ (\d+)", answer)
        record_cmd = run.command_after(READY_LINE).replace("<id printed above>", inference_id)
        rec = wait_until(lambda: (lambda r: r if r["status"] == "FINISHED" else None)(
            json.loads(paste(record_cmd))["inference"]), timeout=30, what="the record to be FINISHED")
        assert rec["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and rec["executor"], rec
        assert (rec["prompt_tokens"], rec["completion_tokens"]) == (int(tokens.group(1)), int(tokens.group(2))), rec
        assert int(rec["cost"]) == (rec["prompt_tokens"] + rec["completion_tokens"]) * int(rec["per_token_price"]) > 0

        # The printed curl, pasted as printed.
        curl = run.command_after("Or with curl:")
        reply = json.loads(paste(curl))
        assert reply["object"] == "chat.completion" and reply["choices"][0]["message"]["content"], reply
        assert reply["usage"]["completion_tokens"] > 0 and int(reply["cost"]["amount"]) > 0, reply
        balance_cmd = run.lines[run.index(READY_LINE) + 2].strip()
        assert json.loads(paste(balance_cmd))["balances"], balance_cmd

        assert run.ctrl_c() == 0, run.output()
        assert "stopped" in run.lines[-1], run.output()
        assert processes_mentioning(directory) == []
        assert all(localnet.port_free(p) for p in ports), [p for p in ports if not localnet.port_free(p)]
    finally:
        run.kill()

    # `make run` again resumes the same network: the inference is still on chain.
    again = LocalnetRun(directory, base, rpc)
    try:
        again.wait_ready(timeout=240)
        assert "resuming the local network" in again.output()
        status, body = get_json(f"http://127.0.0.1:{rpc}/inference/inferences/{inference_id}")
        assert status == 200 and body["inference"]["status"] == "FINISHED", body
        assert again.ctrl_c() == 0, again.output()
        assert processes_mentioning(directory) == []
    finally:
        again.kill()

