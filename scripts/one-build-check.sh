#!/usr/bin/env bash
# One build serves every command: after the workspace's build, the README's and the
# walkthrough's other commands (and rie-check's and schemathesis's builds) compile nothing.
#
# Cargo unifies a dependency's features over the packages a command selects; the
# workspace-hack crate (cargo hakari) asks every member for the same union, so every
# selection resolves one feature set. This checks the outcome, not the tool, so it needs no
# cargo-hakari: a dependency or a feature added without `cargo hakari generate` and
# `cargo hakari manage-deps` makes some selection rebuild crates, and this fails naming them.
#
# Usage: scripts/one-build-check.sh   (after `cargo test --workspace`, as in .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

functions=()
for dir in functions/*/; do functions+=(-p "$(basename "$dir")"); done

# Reads cargo's JSON messages; prints what was compiled. With --third-party, only what is not
# a workspace member counts (the workspace's own binaries are linked on their first build).
built() {
  python3 -c '
import json, sys
third_party_only = sys.argv[1] == "third-party"
total, built = 0, []
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact":
        continue
    total += 1
    if msg["fresh"]:
        continue
    if third_party_only and msg["package_id"].startswith("path+"):
        continue
    built.append(msg["package_id"].rsplit("/", 1)[-1] + " (" + msg["target"]["name"] + ")")
print(f"{total} artifacts, {len(built)} compiled" + (": " + ", ".join(built) if built else ""))
sys.exit(1 if built else 0)
' "$1"
}

failed=0
check() {
  local what=$1
  shift
  printf '%-60s ' "cargo build $*"
  if ! cargo build "$@" --message-format=json 2>/dev/null | built "$what"; then
    failed=1
  fi
}

echo "== the workspace: no dependency compiled again after cargo test --workspace"
check third-party --workspace
echo "== each command alone: nothing compiled"
check all -p skypay-local
check all -p skypay-sim
check all -p payout-payout
check all "${functions[@]}"
check all -p skypay-tests --bin ddb-local -p skypay-local --bin skypay-local

if ((failed)); then
  cat >&2 <<'EOF'
FAILED: a command compiled again what the workspace's build has. A dependency's features
differ between selections: run `cargo hakari generate && cargo hakari manage-deps`
(cargo install cargo-hakari --locked) and commit workspace-hack/ and the Cargo.toml files.
A workspace crate's own [features] have the same effect; workspace-hack cannot unify those.
EOF
  exit 1
fi
echo "one build serves every command"
