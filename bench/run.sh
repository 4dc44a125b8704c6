#!/usr/bin/env bash
# The benchmark harness (issue 5): one command, from anywhere in the repository.
#
#   bench/run.sh [--runs 20] [--warm 1000] [--load-requests 10000] [--peers | --cold]
#                [--skip-build] [--skip-criterion] [--no-arm64]
#
# Installs what it needs into bench/.venv (pinned, from PyPI): the Python peer's packages,
# aws-sam-cli (only for its aws-lambda-rie binary, no Docker), and cargo-lambda + zig for the
# arm64 build. Then runs bench/bench.py (standard library only), which builds the release
# bootstraps and writes BENCHMARKS.md at the repository root (raw figures: bench/out/).
set -euo pipefail

cd "$(dirname "$0")/.."
source scripts/lib/pins.sh
VENV=bench/.venv
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    echo "[bench] creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "[bench] installing pinned packages into $VENV (quiet when already there)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/requirements.txt
# aws-sam-cli only for samcli/local/rapid/aws-lambda-rie-x86_64: none of its dependencies.
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "$AWS_SAM_CLI_PIN"
# arm64 builds: cargo-lambda drives cargo-zigbuild with zig from the ziglang wheel. Optional:
# without them the report has x86_64 sizes only.
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check "$CARGO_LAMBDA_PIN" "$ZIGLANG_PIN"; then
    echo "[bench] cargo-lambda / ziglang not installed: arm64 sizes will be left out"
fi

exec "$VENV/bin/python" -I bench/bench.py "$@"
