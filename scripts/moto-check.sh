#!/usr/bin/env bash
# The independent cross-check: the integration suite (tests/it) a second time, against
# moto_server (PyPI `moto[server]`, pinned, installed once into .venv-moto/), an emulator written
# by others. Each test gets a table of its own there, deleted when it ends.
#
# moto restores a copy of the whole table when a transaction is cancelled, which loses
# concurrent writes (docs/decisions.md, "Emulators"): the run is sequential and leaves out the
# concurrency tests (and the cancel race); the soak and property tests run on the embedded
# emulator only, for time. The ledger-events tests read the embedded emulator's stream.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-moto
source scripts/lib/pins.sh
PINS=("$MOTO_PIN")
source scripts/lib/venv.sh
ensure_pinned_venv "$VENV" "${PINS[@]}"

mkdir -p target
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("moto_server did not start")
PY

echo "== cargo test (tests/it) against moto_server on port $port"
# The simulation (simulation::) runs on its own embedded dynoxide in process, its fault layer
# under the SDK: it never reaches moto, and ran already in the test command.
SKYPAY_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port" \
  cargo test -p skypay-tests --test it -- --test-threads=1 --skip concurrency:: --skip soak --skip properties \
    --skip cancel::a_payment_and_a_cancel_racing_have_one_winner --skip ledger_events:: --skip simulation::
# moto's memory grows with what a table holds (it copies every table on each transaction): the
# peak is printed so that a test which makes it grow shows here before the machine runs out.
grep VmHWM "/proc/$moto/status" || true
