"""Processes and aws-lambda-rie for both Python harnesses (scripts/rie_check.py and
bench/bench.py): every process in its own process group with its output in LOG_DIR, stopped
with what it started; one function's bootstrap under RIE, invoked on a kept-alive connection,
with RIE's own reports (init and first-invocation times) and the bootstrap's peak memory.

    import sys; sys.path.insert(0, "<repo>/scripts/lib")
    import processes
    processes.LOG_DIR = Path("...")   # where <name>.out and <name>.err go
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# Where each process's output goes: <LOG_DIR>/<name>.out and .err. Set by the harness.
LOG_DIR = Path("logs")
# When set, every started pid is appended to this file (a shell trap can clean up after a
# harness that died before its own cleanup).
PID_FILE: Path | None = None

_PROCESSES: list[subprocess.Popen] = []


def spawn(args, *, log_name: str, env=None, cwd=None) -> subprocess.Popen:
    """Starts a process in its own process group, output to LOG_DIR/<log_name>.out and .err."""
    logs = LOG_DIR
    logs.mkdir(parents=True, exist_ok=True)
    out = open(logs / f"{log_name}.out", "wb")
    err = open(logs / f"{log_name}.err", "wb")
    proc = subprocess.Popen(
        [str(a) for a in args],
        stdout=out,
        stderr=err,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    proc.log_paths = (logs / f"{log_name}.out", logs / f"{log_name}.err")  # type: ignore[attr-defined]
    out.close()
    err.close()
    _PROCESSES.append(proc)
    if PID_FILE is not None:
        with open(PID_FILE, "a") as pids:
            pids.write(f"{proc.pid}\n")
    return proc


def children_of(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    found += [int(c) for c in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return found


def stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM to the process (and what it started), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    kids = children_of(proc.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in [proc.pid, *kids]:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            continue
    for pid in kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if proc in _PROCESSES:
        _PROCESSES.remove(proc)


def stop_all() -> None:
    for proc in list(_PROCESSES):
        stop(proc, timeout=2.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> float:
    """Polls until 127.0.0.1:port accepts; returns when (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return time.perf_counter()
        except OSError:
            time.sleep(0.0005)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")



def stop_on_signals() -> None:
    """SIGTERM and SIGINT stop every process started here, then exit with 128 + the signal."""

    def handler(signum, _frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def log_text(proc: subprocess.Popen) -> str:
    """What a process wrote so far, stdout then stderr."""
    return "".join(Path(p).read_text(errors="replace")
                   for p in proc.log_paths)  # type: ignore[attr-defined]


class Rie:
    """One function under aws-lambda-rie. RIE starts the bootstrap at the first invocation (its
    init is lazy), so spawn -> first answer of the bootstrap is the first invocation's time."""

    INVOKE_PATH = "/2015-03-31/functions/function/invocations"

    def __init__(self, rie: Path, command: list, env: dict, *, name: str, cwd=None):
        self.port = free_port()
        self.name = name
        # The runtime API on a port of its own too (RIE's default, 9001, may be taken).
        runtime_api = f"127.0.0.1:{free_port()}"
        self.t_spawn = time.perf_counter()
        self.proc = spawn(
            [rie, "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
             "--runtime-api-address", runtime_api, "--log-level", "info", *command],
            log_name=name, env=env, cwd=cwd,
        )
        self.t_ready = wait_port(self.port, self.proc)
        self.conn: http.client.HTTPConnection | None = None

    def invoke(self, payload: bytes) -> tuple[int, bytes, float]:
        """POST one event on a kept-alive connection: (status, body, seconds)."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            started = time.perf_counter()
            try:
                self.conn.request("POST", self.INVOKE_PATH, body=payload,
                                  headers={"content-type": "application/json"})
                response = self.conn.getresponse()
                body = response.read()
                return response.status, body, time.perf_counter() - started
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def bootstrap_pid(self) -> int | None:
        kids = children_of(self.proc.pid)
        return kids[0] if kids else None

    def vm_hwm_bytes(self) -> int | None:
        pid = self.bootstrap_pid()
        if pid is None:
            return None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def init_duration_ms(self) -> float | None:
        """RIE's own `INIT REPORT(durationMs: ...)`: bootstrap start -> its first /next."""
        text = Path(self.proc.log_paths[1]).read_text(errors="replace")  # type: ignore[attr-defined]
        found = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", text)
        return float(found.group(1)) if found else None

    def first_invoke_ms(self) -> float | None:
        """RIE's `INVOKE RTDONE(... duration: ...ms)` of the first invocation: the handler's part
        of it, init excluded."""
        text = Path(self.proc.log_paths[1]).read_text(errors="replace")  # type: ignore[attr-defined]
        found = re.search(r"INVOKE RTDONE\(status: [a-z]+, produced bytes: [0-9]+, duration: ([0-9.]+)ms\)", text)
        return float(found.group(1)) if found else None

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        stop(self.proc)


