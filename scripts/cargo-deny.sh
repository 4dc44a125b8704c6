#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (deny.toml): licenses, bans (duplicate versions warn),
# sources (crates.io only). cargo-deny is built once into .tools/ (pinned) and reused.
#
#   scripts/cargo-deny.sh                  install if needed, then check
#   scripts/cargo-deny.sh --install-only   only make sure .tools/bin/cargo-deny is there
#
# The advisories check needs the RustSec database from the network; see the top of deny.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where cargo-deny is installed: .tools/ by default; a CI can point SKYPAY_TOOLS_DIR at a cache
# that outlives its clone.
ROOT="${SKYPAY_TOOLS_DIR:-.tools}"
VERSION=0.20.2
BIN="$ROOT/bin/cargo-deny"

install_only=false
for arg in "$@"; do
    case "$arg" in
        --install-only) install_only=true ;;
        *) echo "usage: $0 [--install-only]" >&2; exit 2 ;;
    esac
done

if ! [[ -x "$BIN" && "$("$BIN" --version 2>/dev/null)" == "cargo-deny $VERSION" ]]; then
    echo "== installing cargo-deny $VERSION into $ROOT (once)"
    # A debug build: about a minute on 2 cores instead of eight for the release profile, and
    # the check itself still takes about two seconds on this workspace.
    cargo install --locked --quiet --debug --root "$ROOT" --version "$VERSION" cargo-deny
fi
$install_only && exit 0

echo "== cargo deny check licenses bans sources"
# Duplicate versions are listed without their inclusion graphs (hundreds of lines); for the
# graphs: .tools/bin/cargo-deny check bans
"$BIN" --locked check --hide-inclusion-graph licenses bans sources
echo "cargo-deny: clean"
