#!/usr/bin/env bash
# Static checks of template.yaml: cfn-lint and `sam validate --lint`. No AWS account and no
# Docker needed; the tools come from PyPI into .venv-sam/ (pinned, installed once).
#
#   scripts/sam-checks.sh                  install if needed, then lint
#   scripts/sam-checks.sh --install-only   only make sure .venv-sam has the SAM tools
#   scripts/sam-checks.sh --install-only --build-tools
#                                          ... and cargo-lambda + zig for `sam build`
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-sam
# Pinned. Bump deliberately: a new cfn-lint can bring new rules.
source scripts/lib/pins.sh
SAM_PINS=("$AWS_SAM_CLI_PIN" "$CFN_LINT_PIN")
BUILD_PINS=("$CARGO_LAMBDA_PIN" "$ZIGLANG_PIN")

install_only=false
pins=("${SAM_PINS[@]}")
for arg in "$@"; do
    case "$arg" in
        --install-only) install_only=true ;;
        --build-tools) pins+=("${BUILD_PINS[@]}") ;;
        *) echo "usage: $0 [--install-only [--build-tools]]" >&2; exit 2 ;;
    esac
done

source scripts/lib/venv.sh
ensure_pinned_venv "$VENV" "${pins[@]}"
$install_only && exit 0

# The tools need a region, never credentials: nothing here calls AWS.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-ap-southeast-1}"
export AWS_REGION="$AWS_DEFAULT_REGION"
export SAM_CLI_TELEMETRY=0

echo "== cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml
echo "cfn-lint: clean"

echo "== sam validate --lint"
"$VENV/bin/sam" validate --lint --template template.yaml
