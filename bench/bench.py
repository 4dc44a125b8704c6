#!/usr/bin/env python3
"""The SkyPay gateway's benchmark harness (issue 5). Run it through `bench/run.sh`.

Standard library only. It builds the release bootstraps, starts ddb-local (the counting DynamoDB
emulator), a fake SkyPay, skypay-local, and each function under the Lambda Runtime Interface
Emulator (RIE, from the aws-sam-cli wheel in bench/.venv), then measures:

  1. cold start per function, as a ratio to a plain lambda_http hello-world (bench/hello);
  2. DynamoDB requests per call, for every call path of every endpoint;
  3. binary size (stripped bootstrap and its zip), x86_64 and, when cargo-lambda + zig are
     available, arm64;
  4. peak memory (VmHWM of the bootstrap) after 1,000 warm invocations, and warm latency;
  5. warm handler time without DynamoDB (criterion, shared/benches/handler.rs);
  6. skypay-local --memory throughput (bench/load, skypay-load) at 1, 8 and 64 clients;
  7. a Python/Powertools payoutPayout peer (bench/peers/python) under the same RIE and ddb-local.

It writes BENCHMARKS.md at the repository root and every raw figure to bench/out/results.json.
Everything it starts listens on 127.0.0.1 only, and is stopped when it ends (or is interrupted).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Under `python -I` the script's own directory is not on sys.path: the harness package beside it
# (which puts scripts/lib, for processes and fakes, on sys.path in turn).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.builds import build, build_arm64, build_cold, build_peers  # noqa: E402
from harness.measure import Harness  # noqa: E402

# After the harness: scripts/lib is on sys.path from here on.
import processes  # noqa: E402 - shared with scripts/rie_check.py
from processes import stop_all  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="cold starts per function (default 20)")
    parser.add_argument("--warm", type=int, default=1000, help="warm invocations per function (default 1000)")
    parser.add_argument("--load-requests", type=int, default=10000,
                        help="payoutPayout calls per throughput run at 8 and 64 clients (a third at 1)")
    parser.add_argument("--skip-build", action="store_true", help="use the binaries already built")
    parser.add_argument("--skip-criterion", action="store_true", help="leave out section 5")
    parser.add_argument("--no-arm64", action="store_true", help="do not build arm64 with cargo-lambda")
    parser.add_argument("--peers", action="store_true",
                        help="only section 7: payout-payout beside the Rust and Python peers (and the floor)")
    parser.add_argument("--cold", action="store_true",
                        help="only section 1: every function's cold start beside the hello-world's")
    args = parser.parse_args()

    processes.stop_on_signals()
    try:
        if args.peers:
            if not args.skip_build:
                build_peers()
            Harness(args).run_peers()
            return
        if args.cold:
            if not args.skip_build:
                build_cold()
            Harness(args).run_cold()
            return
        if not args.skip_build:
            build(args.skip_criterion)
            if not args.no_arm64:
                build_arm64()
        Harness(args).run()
    finally:
        stop_all()


if __name__ == "__main__":
    main()
