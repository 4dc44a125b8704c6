#!/usr/bin/env python3
"""A sustained collection load against skypay-local, minute by minute (issue 13, finding 8).

    python3 bench/soak.py --binary target/release/skypay-local --load target/release/skypay-load \
        --minutes 15 --label after

Starts the given skypay-local on a fresh `--data` ledger in a temporary folder (127.0.0.1, a
free port), registers one contract whose amount due the run cannot reach, then runs
`skypay-load collect` (8 clients, a new receipt every call: each call one TransactWriteItems)
for one minute at a time. After each minute it records the calls per second, the latency
percentiles, the server's CPU per call (its utime + stime from /proc/<pid>/stat) and its
resident memory (VmRSS). Writes bench/out/soak-<label>.json, which bench/bench.py puts in
BENCHMARKS.md, and prints the table. Python's standard library only.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CONTRACT = "SKY019999999999"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the skypay-local to soak")
    parser.add_argument("--load", required=True, help="skypay-load")
    parser.add_argument("--minutes", type=int, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--label", required=True, help="names the result file")
    parser.add_argument("--commit", default="", help="what the binary was built from")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="skypay-soak-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": os.environ.get("PATH", ""), "RUST_LOG": "error"}
    server = subprocess.Popen(
        [args.binary, "--data", str(work / "ledger.db"), "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "wb"))
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("skypay-local did not start")
        request = urllib.request.Request(
            f"{base}/admin/contracts",
            data=json.dumps({"contractNumber": CONTRACT, "amountDue": "99999999.99"}).encode(),
            method="POST")
        urllib.request.urlopen(request, timeout=30).read()
        rows = []
        serial = 0
        for minute in range(1, args.minutes + 1):
            cpu_before = cpu_seconds(server.pid)
            result = subprocess.run(
                [args.load, "collect", "--url", base, "--contract", CONTRACT,
                 "--from", str(serial), "--count", "100000000", "--clients", str(args.clients),
                 "--max-seconds", "60"],
                capture_output=True, text=True, check=True)
            summary = json.loads(result.stdout)
            cpu = cpu_seconds(server.pid) - cpu_before
            answered = summary["answered"]
            serial += answered + summary["errors"] + 10
            row = {
                "minute": minute,
                "callsPerSecond": summary["requestsPerSecond"],
                "answered": answered,
                "p50Us": summary["p50Us"],
                "p99Us": summary["p99Us"],
                "serverCpuPerCallUs": round(cpu * 1e6 / answered) if answered else None,
                "rssBytes": rss_bytes(server.pid),
                "codes": summary["codes"],
                "errors": summary["errors"],
            }
            rows.append(row)
            print(f"minute {minute}: {row['callsPerSecond']}/s, p99 {row['p99Us']} us, "
                  f"CPU {row['serverCpuPerCallUs']} us/call, RSS {row['rssBytes'] / 1e6:.1f} MB, "
                  f"{row['codes']}", flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        result = {"label": args.label, "binary": args.binary, "commit": args.commit,
                  "clients": args.clients, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "cores": os.cpu_count(), "minutes": rows}
        (OUT / f"soak-{args.label}.json").write_text(json.dumps(result, indent=2))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
