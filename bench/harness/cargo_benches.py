"""The Rust benches run outside RIE: criterion (section 5) and reconcile-bench (section 9)."""

from __future__ import annotations

import json

from .common import RECONCILE_PAYOUTS, ROOT, log, run


class CargoBenches:
    # section 5 ------------------------------------------------------------------------------

    def criterion(self):
        log("criterion: cargo bench -p skypay --bench handler (builds with the release profile first)")
        run(["cargo", "bench", "-p", "skypay", "--bench", "handler", "--",
             "--warm-up-time", "2", "--measurement-time", "4"], cwd=ROOT)
        handler = {}
        actions = ("payoutInquiry", "payoutPayout", "collectionInquiry", "collectionCollect",
                   "payoutQueuePayout", "financeNotification")
        for action in [*actions, *(f"{a}_aes" for a in actions)]:
            path = self.target / "criterion" / f"handler_{action}" / "new" / "estimates.json"
            estimates = json.loads(path.read_text())
            handler[action] = {
                "medianNs": estimates["median"]["point_estimate"],
                "meanNs": estimates["mean"]["point_estimate"],
                "medianLowNs": estimates["median"]["confidence_interval"]["lower_bound"],
                "medianHighNs": estimates["median"]["confidence_interval"]["upper_bound"],
            }
        self.results["handler"] = handler
        run(["cargo", "bench", "-p", "ledger-events", "--bench", "mapping", "--",
             "--warm-up-time", "2", "--measurement-time", "4"], cwd=ROOT)
        path = self.target / "criterion" / "ledger_events" / "mapping" / "new" / "estimates.json"
        estimates = json.loads(path.read_text())
        # The sample's two records per iteration.
        per_record = estimates["median"]["point_estimate"] / 2
        self.results["mapping"] = {"medianNsPerRecord": per_record,
                                   "recordsPerSecond": 1e9 / per_record if per_record else None}

    # section 8 ------------------------------------------------------------------------------

    def reconcile(self):
        """One payout-reconcile run over 10,000 open pushed payouts (tests/support/bin/
        reconcile_bench.rs): the embedded DynamoDB behind the counting proxy, skypay-sim."""
        log(f"reconcile: one run over {RECONCILE_PAYOUTS} open pushed payouts (reconcile-bench)")
        out = run([self.release / "reconcile-bench", "--payouts", RECONCILE_PAYOUTS],
                  cwd=ROOT, capture_output=True, text=True).stdout
        # The runs' own log lines (EMF) come first; the result is the last line.
        self.results["reconcile"] = json.loads(out.strip().splitlines()[-1])
