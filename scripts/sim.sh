#!/usr/bin/env bash
# The seeded whole-system simulation (tests/support/world), for long hunts and replays:
#
#   scripts/sim.sh --seeds 10000 --steps 100     # seeds 0..10000
#   scripts/sim.sh --from 5000 --seeds 100       # seeds 5000..5100
#   scripts/sim.sh --seed 4711 [--steps 200]     # one seed again, its whole trace
#   scripts/sim.sh --seed 4711 --shrink          # ... and, when it fails, its steps shrunk
#
# `cargo test --workspace` runs seeds 0..32 (tests/it/simulation.rs); this runs as many as
# asked, built with optimisations (about five times the test build's speed; the first build
# takes about 6 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p skypay-tests --bin sim -- "$@"
