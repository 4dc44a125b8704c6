#!/usr/bin/env bash
# A newcomer's builds, timed: the README's run command, the walkthrough's other commands, the
# README's test command and rie-check's two builds, in that order, from an empty target
# directory; then each again on the warm target. Prints one markdown table.
#
#   bench/builds.sh CHECKOUT TARGET_DIR [LABEL]
#
# CHECKOUT is a clone or worktree (e.g. `git worktree add /tmp/before <commit>`); TARGET_DIR is
# deleted first. "third-party" counts the crates.io crates cargo compiled in that step
# ("Compiling" lines without a path); "workspace" the members.
set -euo pipefail

checkout=$(cd "$1" && pwd)
target=$2
label=${3:-$(git -C "$checkout" rev-parse --short HEAD)}
rm -rf "$target"
mkdir -p "$target"
target=$(cd "$target" && pwd)
export CARGO_TARGET_DIR=$target CARGO_TERM_COLOR=never

functions=()
for dir in "$checkout"/functions/*/; do functions+=(-p "$(basename "$dir")"); done

steps=(
    "cargo build -p skypay-local"
    "cargo build -p skypay-sim"
    "cargo build -p payout-payout"
    "cargo test --workspace --no-run"
    "cargo build ${functions[*]}"
    "cargo build -p skypay-tests --bin ddb-local -p skypay-local --bin skypay-local"
)
names=(
    "README run: cargo run -p skypay-local"
    "walkthrough: cargo run -p skypay-sim"
    "walkthrough: cargo run -p payout-payout"
    "README test: cargo test --workspace (build)"
    "rie-check: the functions"
    "rie-check: ddb-local + skypay-local"
)

log=$(mktemp)
run() { # $1 = command; prints "seconds third-party workspace"
    local start end
    start=$(date +%s.%N)
    (cd "$checkout" && $1) >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    end=$(date +%s.%N)
    local third ws
    third=$(grep -cE '^ +Compiling [^ ]+ v[^ ]+$' "$log" || true)
    ws=$(grep -cE '^ +Compiling [^ ]+ v[^ ]+ \(' "$log" || true)
    printf '%s %s %s\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" "$third" "$ws"
}
fmt_time() { # seconds -> "Xm YYs" / "Z.Zs"
    awk -v s="$1" 'BEGIN { if (s >= 60) printf "%dm %02ds", s / 60, s % 60; else printf "%.1fs", s }'
}

echo "### $label ($(nproc) cores, $(rustc --version | cut -d' ' -f2))"
echo
echo "| step, in order | cold | third-party / workspace crates compiled | warm re-run |"
echo "|---|---:|---:|---:|"
cold=()
for i in "${!steps[@]}"; do
    cold[$i]=$(run "${steps[$i]}")
done
du_cold=$(du -sh "$target" | cut -f1)
for i in "${!steps[@]}"; do
    read -r secs third ws <<<"${cold[$i]}"
    read -r wsecs _ _ <<<"$(run "${steps[$i]}")"
    echo "| ${names[$i]} | $(fmt_time "$secs") | $third / $ws | $(fmt_time "$wsecs") |"
done
echo
echo "target/ after every step: $du_cold"
rm -f "$log"
