"""Sections 2 and 4: one warm instance per function; the DynamoDB requests of each call path,
then warm latency and peak memory (VmHWM)."""

from __future__ import annotations

import datetime as dt
import statistics

from .common import FUNCTIONS, HELLO, PEER, PEERS, RUST_PEER, log
from .events import (admin_event, api_event, callback_body, collect_body, collection_inquiry_body,
                     finance_body, inquiry_body, payout_body, percentile, response_code,
                     sample_event, sqs_event, wallet_instruction)


class WarmPhase:
    def warm_event(self, function: str, i: int) -> bytes:
        if function == "partner-api":
            return admin_event("GET", "/admin/payouts/SKY012000000001")
        if function == "ledger-events":
            return sample_event(function)
        if function == "payout-inquiry":
            return api_event(function, inquiry_body("SKY012000000004"))
        if function == "collection-inquiry":
            return api_event(function, collection_inquiry_body("SKY013000000001"))
        if function == "finance-notification":
            return api_event(function, finance_body(f"D-WARM-{i}"))
        if function == "payout-payout":
            return api_event(function, payout_body(f"SKY01{7_000_000_000 + i:010d}"))
        if function == PEER:
            return api_event(function, payout_body(f"SKY01{8_000_000_000 + i:010d}"))
        if function == RUST_PEER:
            return api_event(function, payout_body(f"SKY01{8_500_000_000 + i:010d}"))
        if function == "collection-collect":
            return api_event(function, collect_body("SKY013777777777", f"W-{i}", "10.00"))
        if function == "payout-queue-payout":
            deal = dt.datetime(2019, 3, 1) + dt.timedelta(seconds=i)
            return api_event(function, callback_body("SKY012000000003", "1", deal.strftime("%Y-%m-%d %H:%M:%S")))
        if function == "payout-queue":
            return sqs_event(f"bench-warm-{i}", wallet_instruction(6_700_000_000 + i))
        return sample_event(HELLO)

    def warm_phase(self, functions: list[str] | None = None):
        """Sections 2 and 4 (and the peers' part of 7): one warm instance per function."""
        paths = self.call_paths()
        self.results["requests"] = {}
        self.results["warm"] = {}
        for function in functions or [HELLO, *FUNCTIONS, *PEERS]:
            log(f"{function}: starting under RIE")
            rie = self.start(function, "warm")
            try:
                if function in paths:
                    rows = []
                    log(f"{function}: DynamoDB requests per call path ({len(paths[function])} paths)")
                    for label, expected, event in paths[function]:
                        self.ddb.reset()
                        pushes = self.skypay.pushes
                        status, body, _ = rie.invoke(event)
                        counts = self.ddb.counts()
                        code = response_code(function, status, body)
                        rows.append({"path": label, "answer": code, "requests": counts["total"],
                                     "byOperation": counts["byOperation"], "expected": expected,
                                     "pushes": self.skypay.pushes - pushes})
                        log(f"  {label}: answered {code}, {counts['total']} request(s) {counts['byOperation']}")
                    self.results["requests"][function] = rows
                n = self.args.warm
                log(f"{function}: {n} warm invocations")
                latencies, codes = [], {}
                for i in range(n):
                    status, body, seconds = rie.invoke(self.warm_event(function, i))
                    latencies.append(seconds * 1000)
                    code = response_code(function, status, body)
                    codes[code] = codes.get(code, 0) + 1
                    if (i + 1) % 250 == 0:
                        log(f"  {i + 1}/{n}")
                hwm = rie.vm_hwm_bytes()
                self.results["warm"][function] = {
                    "invocations": n, "codes": codes,
                    "p50Ms": statistics.median(latencies), "p99Ms": percentile(latencies, 99),
                    "meanMs": statistics.fmean(latencies), "vmHwmBytes": hwm,
                }
                log(f"  {function}: warm p50 {statistics.median(latencies):.2f} ms, "
                    f"p99 {percentile(latencies, 99):.2f} ms, VmHWM {hwm / 1e6 if hwm else float('nan'):.2f} MB, answers {codes}")
            finally:
                rie.stop()
