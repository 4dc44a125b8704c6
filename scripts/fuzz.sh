#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) over the pure parts of the `skypay` crate: body decoding,
# field parsing and validation, the envelope (fuzz/fuzz_targets/body.rs).
#
#   scripts/fuzz.sh [SECONDS]    fuzz the `body` target for SECONDS (default 60), niced
#   scripts/fuzz.sh --check      CI: the fuzz workspace compiles against shared/ (stable
#                                `cargo check`, no cargo-fuzz, no instrumentation)
#   scripts/fuzz.sh --build      build the instrumented target only
#   scripts/fuzz.sh --cmin       minimise fuzz/corpus/body (by edge coverage: small enough to
#                                commit)
#
# cargo-fuzz is built once into .tools/ (pinned). It needs unstable compiler flags
# (-Zsanitizer, sanitizer coverage); on the stable toolchain RUSTC_BOOTSTRAP=1 allows them,
# for the fuzz build only (its own workspace and target directory, fuzz/target).
# New inputs go to fuzz/corpus/body; fuzz/seeds/body holds the readable seed bodies (SkyPay's
# samples and the events/ bodies) and is only read. Crashes land in fuzz/artifacts/body/.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=body
# Where cargo-fuzz is installed: .tools/ by default; a CI can point SKYPAY_TOOLS_DIR at a cache
# that outlives its clone.
ROOT="${SKYPAY_TOOLS_DIR:-.tools}"
VERSION=0.13.2
CORPUS=fuzz/corpus/$TARGET
SEEDS=fuzz/seeds/$TARGET
DICT=fuzz/$TARGET.dict

mode=run
seconds=60
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    --build) mode=build ;;
    --cmin) mode=cmin ;;
    *[!0-9]*) echo "usage: $0 [SECONDS | --check | --build | --cmin]" >&2; exit 2 ;;
    *) seconds=$1 ;;
esac

# The fuzz build uses the dependency versions the gateway ships with: start from the root
# lock file; cargo then adds libfuzzer-sys and drops what the fuzz target does not use.
cp Cargo.lock fuzz/Cargo.lock

if [[ $mode == check ]]; then
    echo "== cargo check (fuzz workspace)"
    # In the main target directory: after the workspace's own clippy / check, most
    # dependencies are already checked there (about a minute instead of several).
    cargo check --manifest-path fuzz/Cargo.toml --bins --target-dir target
    echo "fuzz: the $TARGET target compiles"
    exit 0
fi

BIN="$ROOT/bin/cargo-fuzz"
if ! [[ -x "$BIN" && "$("$BIN" --version 2>/dev/null)" == "cargo-fuzz $VERSION" ]]; then
    echo "== installing cargo-fuzz $VERSION into $ROOT (once)"
    cargo install --locked --quiet --root "$ROOT" --version "$VERSION" cargo-fuzz
fi
export PATH="$(cd "$ROOT/bin" && pwd):$PATH"
export RUSTC_BOOTSTRAP=1

case $mode in
    build)
        nice -n 10 cargo fuzz build "$TARGET"
        ;;
    cmin)
        # By edge coverage only (no hit counts): a few hundred small files that reach every
        # edge the full corpus reaches, small enough to commit.
        nice -n 10 cargo fuzz cmin "$TARGET" "$CORPUS" -- -use_counters=0
        echo "corpus: $(find "$CORPUS" -type f | wc -l) files, $(du -sh --apparent-size "$CORPUS" | cut -f1)"
        ;;
    run)
        mkdir -p "$CORPUS"
        echo "== cargo fuzz run $TARGET for ${seconds}s"
        # -max_len: bodies well past SkyPay's real ones (~300 bytes); the 64 KiB limit itself is
        # a length check covered by the unit tests.
        nice -n 10 cargo fuzz run "$TARGET" "$CORPUS" "$SEEDS" -- \
            -dict="$DICT" \
            -max_len=8192 \
            -max_total_time="$seconds" \
            -print_final_stats=1
        echo "corpus: $(find "$CORPUS" -type f | wc -l) files, $(du -sh --apparent-size "$CORPUS" | cut -f1)"
        ;;
esac
