"""Section 1: cold starts, a new RIE and bootstrap per run, the functions interleaved."""

from __future__ import annotations

import json
import statistics
import time

from .common import FUNCTIONS, HELLO, PEER, PEERS, REFUSED, RUST_PEER, log
from .events import (api_event, payout_body, percentile, response_code, sample_event, sqs_event,
                     wallet_instruction)


class ColdStarts:
    # section 1 ------------------------------------------------------------------------------

    def cold_event(self, function: str, run_index: int) -> bytes:
        if function == "payout-payout":
            return api_event(function, payout_body(f"SKY01{5_000_000_000 + run_index:010d}"))
        if function == PEER:
            return api_event(function, payout_body(f"SKY01{6_000_000_000 + run_index:010d}"))
        if function == RUST_PEER:
            return api_event(function, payout_body(f"SKY01{6_500_000_000 + run_index:010d}"))
        if function == REFUSED:
            return api_event("payout-payout", payout_body(f"SKY01{7_000_000_000 + run_index:010d}",
                                                          authentication="not-the-key"))
        if function == "payout-queue":
            return sqs_event(f"bench-cold-{run_index}", wallet_instruction(6_800_000_000 + run_index))
        if function == "collection-collect":
            # The sample event with a new receipt number each run: collected (1000) every time.
            event = json.loads(sample_event(function))
            body = json.loads(event["body"])
            body["receiptNumber"] = f"{body['receiptNumber']}{run_index:03d}"
            event["body"] = json.dumps(body)
            return json.dumps(event).encode()
        return sample_event(function)

    def cold_starts(self, functions: list[str] | None = None):
        n = self.args.runs
        functions = functions or [HELLO, *FUNCTIONS, REFUSED, *PEERS]
        log(f"cold starts: {n} runs of each of {', '.join(functions)}, interleaved")
        runs: dict[str, list] = {f: [] for f in functions}
        for r in range(n):
            for function in functions:
                rie = self.start(function, f"cold-{r + 1:02d}")
                event = self.cold_event(function, r)
                try:
                    started = time.perf_counter()
                    status, body, _ = rie.invoke(event)
                    answered = time.perf_counter()
                finally:
                    rie.stop()
                runs[function].append({
                    "firstInvocationMs": (answered - started) * 1000,
                    "rieReadyMs": (rie.t_ready - rie.t_spawn) * 1000,
                    "initMs": rie.init_duration_ms(),
                    "firstInvokeMs": rie.first_invoke_ms(),
                    "answer": response_code(function, status, body),
                })
            summary = ", ".join(f"{f} {runs[f][-1]['firstInvocationMs']:.1f}" for f in functions)
            log(f"  run {r + 1}/{n} (ms): {summary}")
        cold = {}
        for function, all_rows in runs.items():
            # A run whose invocation RIE did not complete (an HTTP error from RIE) is reported
            # among the answers but left out of the times.
            rows = [row for row in all_rows if not row["answer"].startswith("RIE HTTP")] or all_rows
            first = [row["firstInvocationMs"] for row in rows]
            inits = [row["initMs"] for row in rows if row["initMs"] is not None]
            invokes = [row["firstInvokeMs"] for row in rows if row["firstInvokeMs"] is not None]
            answers: dict[str, int] = {}
            for row in all_rows:
                answers[row["answer"]] = answers.get(row["answer"], 0) + 1
            cold[function] = {
                "runs": len(rows),
                "failedRuns": len(all_rows) - len(rows),
                "medianMs": statistics.median(first),
                "minMs": min(first), "maxMs": max(first),
                "p90Ms": percentile(first, 90),
                "initMedianMs": statistics.median(inits) if inits else None,
                "firstInvokeMedianMs": statistics.median(invokes) if invokes else None,
                "rieReadyMedianMs": statistics.median(row["rieReadyMs"] for row in rows),
                "answers": answers,
            }
        self.results["cold"] = cold
