"""Section 6: skypay-local --memory under skypay-load, and where the CPU went."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from .common import log
from .services import Local, skypay_load


class Throughput:
    # section 6 ------------------------------------------------------------------------------

    @staticmethod
    def thread_cpu(pid: int) -> dict[str, float]:
        """CPU seconds so far per thread name of a process."""
        tick = os.sysconf("SC_CLK_TCK")
        by_name: dict[str, float] = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                name = stat[stat.index("(") + 1: stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                cpu = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError, IndexError):
                continue
            by_name[name] = by_name.get(name, 0.0) + cpu
        return by_name

    @staticmethod
    def machine_cpu() -> tuple[int, int]:
        """(busy, total) jiffies over all CPUs, from /proc/stat."""
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields) - idle, sum(fields)

    def throughput(self):
        log("throughput: skypay-local --memory (release) and skypay-load")
        load = self.release / "skypay-load"
        local = Local(self.release / "skypay-local", ddb=None, name="skypay-local-memory")
        try:
            scenarios = []
            serial = 0
            for duplicates in (0, 20):
                for clients in (1, 8, 64):
                    count = self.args.load_requests if clients > 1 else max(1, self.args.load_requests // 3)
                    fresh = count - count * duplicates // 100
                    scenarios.append({"clients": clients, "duplicates": duplicates,
                                      "count": count, "from": serial})
                    serial += fresh
            self.local = local
            log(f"  registering {serial} payouts through /admin/payouts (not timed)")
            started = time.perf_counter()
            self.register(0, serial, clients=8)
            log(f"  registered in {time.perf_counter() - started:.1f} s")
            rows = []
            control = {"clients": 64, "duplicates": 0, "count": self.args.load_requests,
                       "from": 0, "refused": True}
            for scenario in [*scenarios, control]:
                before_machine = self.machine_cpu()
                before_threads = self.thread_cpu(local.proc.pid)
                before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                args = ["pay", "--url", local.url, "--from", scenario["from"],
                        "--count", scenario["count"], "--clients", scenario["clients"],
                        "--duplicates", scenario["duplicates"]]
                if scenario.get("refused"):
                    args += ["--key", "wrong-key"]
                summary = skypay_load(load, *args)
                wall = time.perf_counter() - started
                after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
                after_threads = self.thread_cpu(local.proc.pid)
                after_machine = self.machine_cpu()
                cores = os.cpu_count() or 1
                busy = after_machine[0] - before_machine[0]
                total = max(1, after_machine[1] - before_machine[1])
                machine_busy_percent = 100 * cores * busy / total
                threads = {name: round(after_threads.get(name, 0) - before_threads.get(name, 0), 3)
                           for name in after_threads}
                server_cpu = sum(threads.values())
                generator_cpu = (after_children.ru_utime - before_children.ru_utime
                                 + after_children.ru_stime - before_children.ru_stime)
                row = {**scenario, **summary, "serverCpuSeconds": round(server_cpu, 3),
                       "serverCpuPercent": round(100 * server_cpu / wall, 1),
                       "generatorCpuSeconds": round(generator_cpu, 3),
                       "generatorCpuPercent": round(100 * generator_cpu / wall, 1),
                       "serverThreads": {k: v for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0},
                       "machineBusyPercent": round(machine_busy_percent, 1),
                       "serverCpuUsPerCall": round(1e6 * server_cpu / max(1, summary["answered"]), 1),
                       "wallSeconds": round(wall, 3)}
                row["otherCpuPercent"] = round(max(0.0, machine_busy_percent - row["serverCpuPercent"]
                                                   - row["generatorCpuPercent"]), 1)
                rows.append(row)
                label = "refused before the ledger (-1001)" if scenario.get("refused") else f"{scenario['duplicates']}% duplicates"
                log(f"  {scenario['clients']:>2} clients, {label}: {summary['requestsPerSecond']} req/s, "
                    f"p50 {summary['p50Us'] / 1000:.2f} ms, p99 {summary['p99Us'] / 1000:.2f} ms, "
                    f"codes {summary['codes']}, server CPU {row['serverCpuPercent']}%, "
                    f"generator CPU {row['generatorCpuPercent']}%, other processes {row['otherCpuPercent']}%, "
                    f"{row['serverCpuUsPerCall']} us server CPU per call")
            self.results["throughput"] = rows
        finally:
            local.stop()
