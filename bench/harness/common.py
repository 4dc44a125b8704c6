"""Paths, names and budgets, and the helpers every part uses: log, HTTP, subprocesses, the
machine's description."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import processes

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
processes.LOG_DIR = OUT / "logs"
VENV = BENCH / ".venv"
PEER_DIR = BENCH / "peers" / "python"
RUST_PEER_DIR = BENCH / "peers" / "rust"
EVENTS = ROOT / "events"

FUNCTIONS = ["payout-inquiry", "payout-payout", "collection-inquiry", "collection-collect",
             "payout-queue-payout", "finance-notification", "payout-queue", "partner-api",
             "ledger-events"]
HELLO = "hello"
PEER = "python-peer"
# payoutPayout as the AWS SDK's guide writes it (bench/peers/rust: aws-config defaults, the SDK's
# default features, the default release profile): the peer a Rust user would write.
RUST_PEER = "rust-peer"
PEERS = [RUST_PEER, PEER]
# payout-payout's bootstrap on a call refused before the ledger (a wrong key): its cold start
# without a DynamoDB request, to show what the first request costs.
REFUSED = "payout-payout (-1001)"

USER = "AppName@skypay"
KEY = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75"
PREFIX = "SKY01"
TABLE = "skypay-ledger"
IDEMPOTENCY_TABLE = "skypay-idempotency"

# Budgets (issue 5). MB = 10^6 bytes, the stricter reading.
# A cold start against its floor: the hello-world's cold start plus the round trips the first
# event must make before it can answer (one DynamoDB request for most; see COLD_TRIPS).
BUDGET_COLD_RATIO = 1.3
# Round trips on each function's cold-start event: payout-queue writes, pushes to SkyPay and
# records the outcome; partner-api's event is a 404 (no trip); ledger-events puts one batch on
# the bus; the -1001 payout-payout makes none. Every other function: one DynamoDB request.
COLD_TRIPS = {"payout-queue": 3, "partner-api": 0, "payout-payout (-1001)": 0}
BUDGET_SIZE_BYTES = 6_000_000
BUDGET_MEMORY_BYTES = 24_000_000
BUDGET_HANDLER_NS = 50_000
BUDGET_RPS = 3000
# Issue 11: one payout-reconcile run over this many open pushed payouts.
RECONCILE_PAYOUTS = 10_000
BUDGET_AES_NS = 10_000

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:7.1f}s] {message}", flush=True)


def http_request(method: str, url: str, body: bytes | None = None, timeout: float = 30.0):
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        # skypay-local's /admin takes JSON only (SPEC 14.6); SkyPay's routes take anything.
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, **kwargs)


def output(args) -> str:
    try:
        return subprocess.run(
            [str(a) for a in args], check=True, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --- the machine -----------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memoryGiB": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "rustc": output(["rustc", "--version"]),
        "python": platform.python_version(),
        "commit": output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "dirty": output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]) != "",
        "loadAverageAtStart": os.getloadavg(),
    }
