# Sourced by the scripts that need Python tools: a virtualenv holding exactly the pinned
# versions, installed once and reused while the pins match.
#
#   source scripts/lib/venv.sh
#   ensure_pinned_venv .venv-name tool==1.2.3 other==4.5.6

# True when the venv already has exactly these versions.
venv_has_pins() {
    local venv=$1
    shift
    [[ -x "$venv/bin/python" ]] || return 1
    "$venv/bin/python" - "$@" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    name = name.split("[")[0]  # moto[server]: the extra is not part of the distribution's name
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

# Creates the venv if missing and installs the pins unless they are already there.
ensure_pinned_venv() {
    local venv=$1
    shift
    if ! venv_has_pins "$venv" "$@"; then
        echo "== installing $* into $venv"
        [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet "$@"
    fi
}
