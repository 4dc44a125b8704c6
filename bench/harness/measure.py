"""Harness: the three runs (all sections, --cold, --peers), made of the measurements' parts."""

from __future__ import annotations

import json
import os
import time

from processes import stop

from .base import HarnessBase
from .call_paths import CallPaths
from .cargo_benches import CargoBenches
from .cold import ColdStarts
from .common import FUNCTIONS, HELLO, OUT, PEERS, REFUSED, ROOT, RUST_PEER, RUST_PEER_DIR, STARTED, log
from .report import render, render_peers
from .sizes import Sizes
from .throughput import Throughput
from .warm import WarmPhase


class Harness(ColdStarts, CallPaths, WarmPhase, Sizes, CargoBenches, Throughput, HarnessBase):
    # --peers: section 7 alone -----------------------------------------------------------------

    def run_peers(self):
        """payout-payout, the Rust peer and the Python peer (and the hello-world, the floor) in one
        run: cold starts, warm p50/p99, VmHWM, requests, sizes. Section 7 of BENCHMARKS.md is
        replaced; the rest of the file is left as it is."""
        OUT.mkdir(parents=True, exist_ok=True)
        functions = [HELLO, "payout-payout", *PEERS]
        self.services()
        try:
            self.seed()
            self.warm_phase(functions)
            self.cold_starts(functions)
        finally:
            self.local.stop()
            stop(self.ddb.proc)
            self.skypay.close()
            self.bus.close()
        out = OUT / "size" / "x86_64"
        self.results["sizes"] = {"x86_64": {
            "payout-payout": self.size_of(self.release / "payout-payout", out / "payout-payout"),
            HELLO: self.size_of(self.release / HELLO, out / HELLO),
            RUST_PEER: self.size_of(RUST_PEER_DIR / "target" / "release" / "bootstrap", out / RUST_PEER),
        }}
        self.results["machine"]["loadAverageAtEnd"] = os.getloadavg()
        self.results["machine"]["harnessSeconds"] = round(time.monotonic() - STARTED, 1)
        (OUT / "peers.json").write_text(json.dumps(self.results, indent=2))
        report = (ROOT / "BENCHMARKS.md").read_text()
        start = report.index("## 7. ")
        end = report.index("## 8. ", start)
        section = "\n".join(render_peers(self.results, peers_run=True)) + "\n"
        (ROOT / "BENCHMARKS.md").write_text(report[:start] + section + report[end:])
        log("replaced section 7 of BENCHMARKS.md; raw figures in bench/out/peers.json")

    # --cold: section 1 alone ------------------------------------------------------------------

    def run_cold(self):
        """Every function's cold start beside the hello-world's (no peers): section 1 of
        BENCHMARKS.md and the budget table's cold-start rows are replaced; the rest of the file is
        left as it is (a change that touches only init, as issue 17's keys did)."""
        OUT.mkdir(parents=True, exist_ok=True)
        self.services()
        try:
            self.seed()
            self.cold_starts([HELLO, *FUNCTIONS, REFUSED])
        finally:
            self.local.stop()
            stop(self.ddb.proc)
            self.skypay.close()
            self.bus.close()
        m = self.results["machine"]
        m["loadAverageAtEnd"] = os.getloadavg()
        m["harnessSeconds"] = round(time.monotonic() - STARTED, 1)
        (OUT / "cold.json").write_text(json.dumps(self.results, indent=2))
        fresh = render(self.results, self.args)
        report = (ROOT / "BENCHMARKS.md").read_text()

        def cold_rows(text: str) -> list[str]:
            return [line for line in text.splitlines() if line.startswith("| cold start ")]

        old_rows, new_rows = cold_rows(report[:report.index("## 1. ")]), cold_rows(fresh[:fresh.index("## 1. ")])
        for old, new in zip(old_rows, new_rows):
            report = report.replace(old, new, 1)
        start, end = report.index("## 1. "), report.index("## 2. ")
        section = fresh[fresh.index("## 1. "):fresh.index("## 2. ")]
        dirty = " + uncommitted changes" if m["dirty"] else ""
        note = (f"Measured on their own by `bench/run.sh --cold` ({m['date']}, commit {m['commit']}{dirty}, "
                f"load average {m['loadAverageAtStart'][0]:.2f} / {m['loadAverageAtEnd'][0]:.2f}); the budget "
                "table's cold-start rows are from the same run, the other sections from the full run above.\n\n")
        heading, _, body = section.partition("\n\n")
        report = report[:start] + heading + "\n\n" + note + body + report[end:]
        (ROOT / "BENCHMARKS.md").write_text(report)
        log("replaced section 1 of BENCHMARKS.md; raw figures in bench/out/cold.json")

    # all ------------------------------------------------------------------------------------

    def run(self):
        OUT.mkdir(parents=True, exist_ok=True)
        m = self.results["machine"]
        log(f"machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}, {m['rustc']}, "
            f"load average {m['loadAverageAtStart'][0]:.2f}")
        self.services()
        try:
            self.seed()
            self.warm_phase()
            self.cold_starts()
        finally:
            self.local.stop()
            stop(self.ddb.proc)
            self.skypay.close()
            self.bus.close()
        if not self.args.skip_criterion:
            self.criterion()
        self.throughput()
        self.reconcile()
        self.sizes()
        self.results["machine"]["loadAverageAtEnd"] = os.getloadavg()
        self.results["machine"]["harnessSeconds"] = round(time.monotonic() - STARTED, 1)
        (OUT / "results.json").write_text(json.dumps(self.results, indent=2))
        report = render(self.results, self.args)
        (ROOT / "BENCHMARKS.md").write_text(report)
        log("wrote BENCHMARKS.md and bench/out/results.json")
