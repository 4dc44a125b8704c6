"""Where a cold start's instructions go: one cold invocation of payout-payout under RIE, run by
valgrind's callgrind (instruction counts: repeatable whatever else the machine is doing), once
with a payable event (one DynamoDB request) and once with a wrong key (no request), plus the
hello-world. Needs the `profiling` build (release settings with symbols):

    cargo build --profile profiling -p payout-payout -p hello
    cargo build --release -p skypay-tests --bin ddb-local -p skypay-local
    bench/.venv/bin/python bench/profile_cold.py

Writes the callgrind files and `callgrind_annotate --inclusive=yes` of each to bench/out/profile/
and prints the totals. bench/run.sh installs bench/.venv (RIE comes from its aws-sam-cli).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The harness (bench/harness): ddb-local, skypay-local, RIE, events.
from harness.builds import find_rie, target_dir  # noqa: E402
from harness.common import ROOT  # noqa: E402
from harness.events import api_event, payout_body  # noqa: E402
from harness.services import DdbLocal, Local, lambda_env  # noqa: E402
from processes import Rie, stop  # noqa: E402 - scripts/lib, on sys.path through the harness

OUT = ROOT / "bench" / "out" / "profile"


def wrapper(binary: Path, tag: str) -> Path:
    """A bootstrap that is the real one under callgrind."""
    script = OUT / f"bootstrap-{tag}"
    script.write_text(
        "#!/bin/sh\n"
        f"exec valgrind --tool=callgrind --callgrind-out-file={OUT}/callgrind.{tag}.out "
        f"{binary} \"$@\"\n")
    script.chmod(0o755)
    return script


def profile(rie_path: Path, binary: Path, env: dict, event: bytes, tag: str) -> int:
    rie = Rie(rie_path, [wrapper(binary, tag)], env, name=f"profile-{tag}")
    try:
        status, body, _ = rie.invoke(event)
        print(f"{tag}: HTTP {status} {body[:160]!r}")
        # Let callgrind write its counts, then stop the bootstrap (a Lambda never exits).
        pid = rie.bootstrap_pid()
        if pid is not None:
            subprocess.run(["callgrind_control", "--dump", str(pid)], check=False,
                           capture_output=True, timeout=60)
            time.sleep(1)
    finally:
        rie.stop()
    # The dump is `callgrind.<tag>.out.1`; the base file stays empty (the process is killed).
    files = sorted(f for f in OUT.glob(f"callgrind.{tag}.out*") if f.stat().st_size > 0)
    if not files:
        sys.exit(f"{tag}: callgrind wrote nothing")
    total = 0
    with open(OUT / f"annotate.{tag}.txt", "w") as annotated:
        for f in files:
            text = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(f)],
                                  check=True, capture_output=True, text=True).stdout
            annotated.write(text)
            for line in text.splitlines():
                if line.strip().endswith("PROGRAM TOTALS"):
                    total += int(line.split()[0].replace(",", ""))
    print(f"{tag}: {total:,} instructions ({', '.join(f.name for f in files)})")
    return total


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    target = target_dir()
    rie_path = find_rie()
    ddb = DdbLocal(target / "release" / "ddb-local")
    local = Local(target / "release" / "skypay-local", ddb=ddb, name="profile-local")
    try:
        number = "SKY019000000001"
        status, _ = local.post("/admin/payouts", {
            "controlNumber": number, "name": "Cruz,Juan", "phone": "09171234567",
            "amount": "3400.00", "withdrawChannel": 1})
        if status != 201:
            sys.exit(f"registration: HTTP {status}")
        profiling = target / "profiling"
        env = lambda_env(ddb)
        totals = {
            "hello": profile(rie_path, profiling / "hello", env,
                             api_event("payout-payout", payout_body(number)), "hello"),
            "refused": profile(rie_path, profiling / "payout-payout", env,
                               api_event("payout-payout",
                                         payout_body(number, authentication="wrong")),
                               "refused"),
            "paid": profile(rie_path, profiling / "payout-payout", env,
                            api_event("payout-payout", payout_body(number)), "paid"),
        }
    finally:
        local.stop()
        stop(ddb.proc)
    print(f"payout-payout paid - refused (the first DynamoDB request): "
          f"{totals['paid'] - totals['refused']:,} instructions")
    print(f"payout-payout refused - hello (our init and a refused call): "
          f"{totals['refused'] - totals['hello']:,} instructions")
    print(f"annotations in {OUT}")


if __name__ == "__main__":
    main()
