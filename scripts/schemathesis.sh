#!/usr/bin/env bash
# Property-based API tests: schemathesis (PyPI) generates calls from an OpenAPI document and
# sends them to a fresh `skypay-local --memory`. Every reply must be a documented status with
# a documented content type and body: for the SkyPay endpoints, HTTP 200 and exactly the
# envelope, whatever the body; for the loan system's routes (the router partner-api serves in
# AWS), the documented statuses and shapes. No server errors.
#
#   scripts/schemathesis.sh [SPEC]            install if needed, build, run (SPEC: default
#                                             openapi/skypay.yaml; openapi/partner-api.yaml)
#   scripts/schemathesis.sh --install-only    only make sure .venv-schemathesis has the tools
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (per operation and phase, default 300),
# SCHEMATHESIS_SEED (default fixed, so CI is reproducible; set it to explore further),
# SCHEMATHESIS_KEEP=1 (keep the server log, the hook and the event stream in the temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-schemathesis
SPEC=openapi/skypay.yaml
# Pinned. Bump deliberately: a new schemathesis can bring new checks.
source scripts/lib/pins.sh
PINS=("${SCHEMATHESIS_PINS[@]}")
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-300}"
SEED="${SCHEMATHESIS_SEED:-20190218}"

install_only=false
for arg in "$@"; do
    case "$arg" in
        --install-only) install_only=true ;;
        openapi/*.yaml) SPEC=$arg ;;
        *) echo "usage: $0 [--install-only | openapi/SPEC.yaml]" >&2; exit 2 ;;
    esac
done

# SkyPay's endpoints answer 200 and an envelope to anything: a "negative" (schema-invalid)
# request is never refused with a 4xx there. The loan system's routes check semantic rules the
# schema cannot state (a real date, a cursor this server gave, an amount above 0): a
# schema-valid request can be 400, naming the rule.
case "$SPEC" in
    openapi/partner-api.yaml) EXCLUDED=negative_data_rejection,positive_data_acceptance ;;
    *) EXCLUDED=negative_data_rejection ;;
esac

source scripts/lib/venv.sh
ensure_pinned_venv "$VENV" "${PINS[@]}"
$install_only && exit 0

echo "== validate $SPEC"
"$VENV/bin/openapi-spec-validator" "$SPEC"

echo "== cargo build -p skypay-local"
cargo build --quiet -p skypay-local
BIN="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/skypay-local"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -s "$WORK/server.log" ]]; then
        echo "-- last lines of the server log:" >&2
        tail -n 40 "$WORK/server.log" >&2
    fi
    [[ -n "${SCHEMATHESIS_KEEP:-}" ]] && echo "kept $WORK" || rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

# The local defaults, stated rather than inherited: the run must not depend on (or print) a
# developer's own keys, and nothing may restrict sources, encrypt, or push to a real SkyPay.
USER_NAME=AppName@skypay
KEY=30AC21B2-9EAA-4503-B0F0-7BE5C277ED75
PREFIX=SKY01

echo "== start skypay-local --memory"
env -u SKYPAY_ENCRYPTION_KEY -u SKYPAY_ENCRYPTION -u ALLOWED_SOURCE_CIDRS \
    -u SKYPAY_API_URL -u SKYPAY_SENDER -u AWS_ENDPOINT_URL_DYNAMODB -u TABLE_NAME \
    SKYPAY_USERNAME="$USER_NAME" SKYPAY_AUTH_KEYS="$KEY" CONTROL_NUMBER_PREFIX="$PREFIX" \
    RUST_LOG="${RUST_LOG:-warn}" \
    "$BIN" --memory --listen "127.0.0.1:${SCHEMATHESIS_PORT:-0}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

# The banner names the port (port 0 lets the system choose a free one); then /healthz.
BASE=""
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "skypay-local exited at start" >&2; exit 1; }
    BASE="$(sed -n 's/^skypay-local listening on \(http:[^ ]*\).*/\1/p' "$WORK/server.log")"
    if [[ -n "$BASE" ]] && curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
        break
    fi
    BASE=""
    sleep 0.1
done
[[ -n "$BASE" ]] || { echo "skypay-local did not answer /healthz within 30 s" >&2; exit 1; }
echo "skypay-local is up on $BASE"

# The ledger entries the spec's examples name, so the examples reach the success paths
# (1000) and then the repeat paths (-1026, -1015) instead of stopping at "unknown".
admin() {
    curl -fsS -o /dev/null -H 'Content-Type: application/json' "$BASE$1" -d "$2" ||
        { echo "seeding $1 failed" >&2; exit 1; }
}
admin /admin/payouts '{"controlNumber":"SKY0112345678","name":"Cruz,Juan","phone":"09171234567","amount":"3400.00","withdrawChannel":1}'
admin /admin/payouts '{"controlNumber":"SKY0100000042","name":"Cruz,Juan","phone":"09171234567","amount":"500","withdrawChannel":6,"accountNo":"09171234567"}'
admin /admin/contracts '{"contractNumber":"SKY0187654321","amountDue":"5000.00","name":"Cruz,Juan","address":"Manila","phone":"09171234567"}'

# Generated bodies mostly carry random credentials and stop at -1001. This hook also offers
# each generated object with the right credentials and action, and then with our prefix on
# the control / contract number, so field validation and the ledger are exercised too.
mkdir -p "$WORK/hooks"
cat >"$WORK/hooks/skypay_hooks.py" <<PY
import schemathesis
from hypothesis import strategies as st

USER_NAME = "$USER_NAME"
KEY = "$KEY"
PREFIX = "$PREFIX"


@schemathesis.hook
def flatmap_body(context, body):
    if not isinstance(body, dict) or context.operation is None:
        return st.just(body)
    if context.operation.method.upper() != "POST":
        return st.just(body)
    action = context.operation.path.lstrip("/")
    authed = dict(body, userName=USER_NAME, authentication=KEY, action=action)
    ours = dict(authed)
    for field in ("controlNumber", "contractNumber"):
        value = ours.get(field)
        if isinstance(value, str):
            ours[field] = PREFIX + value[5:]
    return st.sampled_from([body, authed, ours])
PY

# Its per-project cache (failures to replay) goes into the venv, not a .schemathesis/ in the
# work tree.
cat >"$WORK/schemathesis.toml" <<TOML
[cache]
directory = "$PWD/$VENV/cache"
TOML

echo "== schemathesis run $SPEC (max $MAX_EXAMPLES examples per operation and phase, seed $SEED)"
# negative_data_rejection is left out on purpose: the contract answers HTTP 200 with an
# envelope (2001 / 2002) for bodies that break the schema, never a 4xx. Every other check
# that applies runs; the stateful ones have no links to follow and report nothing.
set +e
PYTHONPATH="$WORK/hooks" SCHEMATHESIS_HOOKS=skypay_hooks \
    "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$SPEC" \
    --url "$BASE" \
    --checks all \
    --exclude-checks "$EXCLUDED" \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --request-timeout 10 \
    --no-color \
    --report ndjson --report-ndjson-path "$WORK/events.ndjson" \
    2>&1 | tee "$WORK/schemathesis.out"
status=${PIPESTATUS[0]}
set -e

# What was sent, from schemathesis' event stream: the number of cases, and per endpoint the
# response codes reached (evidence that the run got past authentication into the ledger).
"$VENV/bin/python" - "$WORK/events.ndjson" <<'PY' || true
import base64, collections, json, sys
cases, codes = 0, collections.defaultdict(collections.Counter)
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        finished = json.loads(line).get("ScenarioFinished") or {}
    except ValueError:
        continue
    for interaction in finished.get("recorder", {}).get("interactions", {}).values():
        cases += 1
        request, response = interaction.get("request") or {}, interaction.get("response")
        path = request.get("uri", "").split("?")[0].rsplit("/", 1)[-1]
        if response is None:
            codes[path]["no response"] += 1
            continue
        code = f"HTTP {response.get('status_code')}"
        try:
            body = base64.b64decode((response.get("content") or {}).get("$base64", ""))
            code = json.loads(body)["responseCode"]
        except (ValueError, KeyError, TypeError):
            pass
        codes[path][code] += 1
print(f"schemathesis: {cases} test cases sent to skypay-local")
for path in sorted(codes):
    seen = ", ".join(f"{code} x{n}" for code, n in sorted(codes[path].items()))
    print(f"  /{path}: {seen}")
PY

if [[ $status -ne 0 ]]; then
    echo "schemathesis: FAILED (exit $status)" >&2
    exit "$status"
fi
echo "schemathesis: clean"
