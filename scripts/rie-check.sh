#!/usr/bin/env bash
# The Lambda bootstraps, built for this machine, under the AWS Lambda runtime interface
# emulator (aws-lambda-rie from the aws-sam-cli package): no Docker, no AWS account. Each event in
# events/ is invoked against a DynamoDB API on loopback and the answers are asserted; see
# scripts/rie_check.py for the list (its steps: scripts/lib/rie_steps.py). Exits non-zero on any
# failed check.
#
#   scripts/rie-check.sh           the release bootstraps, as deployed (fat LTO: slow to build)
#   scripts/rie-check.sh --debug   the same code in debug builds (CI: shares the test build)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
only=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --debug) profile=debug ;;
        --only) only="${2:-}"; shift ;;
        *) echo "usage: $0 [--debug] [--only FUNCTION]" >&2; exit 2 ;;
    esac
    shift
done
if [[ -n "$only" && ! -d "functions/$only" ]]; then
    echo "rie-check: no function $only (one of: $(ls functions | tr '\n' ' '))" >&2
    exit 2
fi

arch="$(uname -m)"
if [[ "$arch" != x86_64 ]]; then
    # The emulator and the bootstraps must match the machine; only x86_64 is wired up here.
    echo "rie-check: runs on x86_64 (this machine is $arch)" >&2
    exit 2
fi

# aws-sam-cli ships the emulator.
scripts/sam-checks.sh --install-only
rie="$(.venv-sam/bin/python -c 'import os, samcli; print(os.path.join(os.path.dirname(samcli.__file__), "local", "rapid", "aws-lambda-rie-x86_64"))')"
[[ -x "$rie" ]] || { echo "rie-check: no emulator at $rie" >&2; exit 1; }

echo "== cargo build ($profile: the bootstraps, for the host)"
release_flag=()
[[ "$profile" == release ]] && release_flag=(--release)
functions=()
if [[ -n "$only" ]]; then
    functions=(-p "$only")
else
    for dir in functions/*/; do functions+=(-p "$(basename "$dir")"); done
fi
cargo build "${release_flag[@]}" "${functions[@]}"
echo "== cargo build (ddb-local, skypay-local)"
cargo build -p skypay-tests --bin ddb-local -p skypay-local --bin skypay-local

target_dir="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
logs="$target_dir/rie-check"
rm -rf "$logs"
mkdir -p "$logs"

# rie_check.py stops what it starts (also on SIGINT/SIGTERM, forwarded below); should it die
# first, its process groups (listed in $logs/pids as they start) are stopped here.
cleanup() {
    local pid
    [[ -f "$logs/pids" ]] || return 0
    while read -r pid; do
        if [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
            kill -TERM -- "-$pid" 2>/dev/null || true
        fi
    done <"$logs/pids"
}
checker=""
stop_checker() {
    if [[ -n "$checker" ]]; then
        kill -TERM "$checker" 2>/dev/null || true
        wait "$checker" 2>/dev/null || true
    fi
    exit "$1"
}
trap cleanup EXIT
trap 'stop_checker 130' INT
trap 'stop_checker 143' TERM

echo "== checks"
# In the background so that a signal reaches the trap at once (bash runs traps only between
# commands), then waited for: its exit status is this script's.
.venv-sam/bin/python scripts/rie_check.py \
    --bins "$target_dir/$profile" \
    --ddb-local "$target_dir/debug/ddb-local" \
    --skypay-local "$target_dir/debug/skypay-local" \
    --rie "$rie" \
    --logs "$logs" ${only:+--only "$only"} &
checker=$!
wait "$checker"
