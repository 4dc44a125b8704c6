#!/usr/bin/env python3
"""The real Lambda bootstraps under the AWS Lambda runtime interface emulator, without Docker.

Called by scripts/rie-check.sh, which builds the binaries and finds the emulator, with the
Python of the pinned aws-sam-cli venv: the standard library, plus `cryptography` (which
aws-sam-cli brings) for SkyPay's AES layer, an implementation independent of ours. Everything listens on 127.0.0.1 on ports the OS hands out, and every
process started here is stopped on the way out, whatever happens.

What runs:
  ddb-local      a DynamoDB API (embedded dynoxide behind a proxy that counts requests)
  skypay-local   seeds the ledger through /admin, and reads it back after each function
  fake SkyPay    answers payoutQueue with 1000, payoutQueryStatus (every number Completed),
                 balanceQuery and empty reports, and records what it was sent
  aws-lambda-rie one per function, with the function's bootstrap as its command

Prints one line per check and ends with "N passed, N failed"; exits 1 if any failed. The checks
are scripts/lib/rie_steps.py, run in order by main(); what they share is scripts/lib/rie_support.py.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import processes  # noqa: E402 - the processes and the RIE runner, shared with bench/harness
import rie_steps as steps  # noqa: E402 - the steps below, one per function (or group of events)
from processes import stop_all  # noqa: E402
from rie_support import Context  # noqa: E402 - what the steps share, and the helpers they use


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", required=True, help="directory of the bootstraps")
    parser.add_argument("--ddb-local", required=True)
    parser.add_argument("--skypay-local", required=True)
    parser.add_argument("--rie", required=True, help="aws-lambda-rie-x86_64")
    parser.add_argument("--logs", required=True)
    return parser.parse_args()


def main():
    args = parse_args()
    os.makedirs(args.logs, exist_ok=True)
    processes.LOG_DIR = Path(args.logs)
    processes.PID_FILE = Path(args.logs) / "pids"

    ctx = Context(args)

    processes.stop_on_signals()

    try:
        steps.start_ddb_local(ctx)
        steps.seed_ledger(ctx)
        steps.check_payout_inquiry(ctx)
        steps.check_payout_payout(ctx)
        steps.check_payout_inquiry_encrypted(ctx)
        steps.check_collection_inquiry(ctx)
        steps.check_collection_collect(ctx)
        steps.check_payout_queue_payout(ctx)
        steps.check_finance_notification(ctx)
        steps.check_payout_queue(ctx)
        steps.check_partner_api(ctx)
        steps.check_ledger_events(ctx)
        steps.check_payout_reconcile(ctx)
        steps.check_missing_auth_keys(ctx)
    except Exception as e:  # noqa: BLE001 - any failure of the harness is a failed check
        ctx.checks.check("harness", False, f"{type(e).__name__}: {e}")
    finally:
        stop_all()
        if ctx.skypay is not None:
            ctx.skypay.close()

    checks = ctx.checks
    if checks.failed:
        print(f"logs: {args.logs}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    sys.stdout.flush()
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
