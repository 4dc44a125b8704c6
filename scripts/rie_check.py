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
    parser.add_argument("--only", choices=sorted(ONLY), help="one function's checks alone")
    return parser.parse_args()


# The whole run, in order: later steps read what earlier ones left (the encrypted inquiry
# finds the payout payout-payout paid).
EVERY = [
    steps.check_payout_inquiry,
    steps.check_payout_payout,
    steps.check_payout_inquiry_encrypted,
    steps.check_collection_inquiry,
    steps.check_collection_collect,
    steps.check_payout_queue_payout,
    steps.check_finance_notification,
    steps.check_payout_queue,
    steps.check_partner_api,
    steps.check_ledger_events,
    steps.check_payout_reconcile,
    steps.check_missing_auth_keys,
]

# Each function's checks when it runs alone (`--only`): the steps of the full run that need no
# earlier function's effect.
ONLY = {
    "payout-inquiry": [steps.check_payout_inquiry],
    "payout-payout": [steps.check_payout_payout, steps.check_missing_auth_keys],
    "collection-inquiry": [steps.check_collection_inquiry],
    "collection-collect": [steps.check_collection_collect],
    "payout-queue-payout": [steps.check_payout_queue_payout],
    "finance-notification": [steps.check_finance_notification],
    "payout-queue": [steps.check_payout_queue],
    "partner-api": [steps.start_fake_skypay, steps.check_partner_api],
    "ledger-events": [steps.check_ledger_events],
    "payout-reconcile": [steps.start_fake_skypay, steps.check_payout_reconcile],
}


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
        for step in ONLY[args.only] if args.only else EVERY:
            step(ctx)
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
