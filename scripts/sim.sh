#!/usr/bin/env bash
# The seeded whole-system simulation (tests/support/world), for long hunts and replays:
#
#   scripts/sim.sh --seeds 10000 --steps 200     # seeds 0..10000
#   scripts/sim.sh --from 5000 --seeds 100       # seeds 5000..5100
#   scripts/sim.sh --seed 4711 [--shrink]        # one seed again (its trace; shrunk on failure)
#
# `cargo test --workspace` runs a bounded set of seeds (tests/it/simulation.rs); this runs as
# many as asked, on the test build (the emulator and SQLite are optimised in it).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet -p skypay-tests --bin sim -- "$@"
