#!/usr/bin/env bash
# `sam build`: the four functions with cargo-lambda (cross-compiling with zig), into .aws-sam/.
# cargo-lambda and zig come from PyPI into .venv-sam/ (pinned, installed once). No Docker.
#
#   scripts/sam-build.sh            arm64, the template's default (Graviton)
#   scripts/sam-build.sh x86_64     for x86_64 Lambdas
#
# Slow: four release builds with fat LTO (about 25 minutes on 2 cores from a cold cache).
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:-arm64}"
case "$arch" in
    arm64) rust_target=aarch64-unknown-linux-gnu ;;
    x86_64) rust_target=x86_64-unknown-linux-gnu ;;
    *) echo "usage: $0 [arm64|x86_64]" >&2; exit 2 ;;
esac

scripts/sam-checks.sh --install-only --build-tools

# cargo-lambda needs the Rust standard library for the Lambda's architecture.
if ! rustup target list --installed | grep -qx "$rust_target"; then
    echo "== rustup target add $rust_target"
    rustup target add "$rust_target"
fi

# The venv first on PATH: `cargo-lambda`, and `python3 -m ziglang` for the zig linker.
export PATH="$PWD/.venv-sam/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-ap-southeast-1}"

echo "== sam build ($arch)"
start=$SECONDS
sam build --parameter-overrides "Architecture=$arch"
echo "sam build took $((SECONDS - start)) s"

echo "== bootstraps"
for f in .aws-sam/build/*/bootstrap; do
    kind="$(command -v file >/dev/null && file -b "$f" | cut -d, -f1-2 || true)"
    printf '%-40s %9d bytes  %s\n' "$f" "$(stat -c %s "$f")" "$kind"
done
