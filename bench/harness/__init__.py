"""The parts of the benchmark harness; bench/bench.py is its command line.

  common          paths, names, budgets, log, HTTP and subprocess helpers, the machine
  builds          the cargo builds (release, the Rust peer, arm64 with cargo-lambda), RIE's path
  services        ddb-local, skypay-local and skypay-load; the functions' environment
  events          the events sent to the functions, and reading their answers
  measure         Harness: the runs (all, --cold, --peers), made of the parts below
    base            the functions' commands and environments; services and the ledger's seed
    cold            section 1: cold starts
    call_paths      section 2: every call path of every endpoint
    warm            sections 2 and 4: requests per call path, warm latency and peak memory
    sizes           section 3: binary sizes
    cargo_benches   sections 5 and 9: criterion, reconcile-bench
    throughput      section 6: skypay-local --memory under skypay-load
  report          BENCHMARKS.md
"""

import sys
from pathlib import Path

# processes and fakes (scripts/lib), shared with scripts/rie_check.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "scripts" / "lib"))
