#!/usr/bin/env bash
# Ensures a Python virtual environment with the two independent Avro implementations the tests
# use as judges: `avro` 1.12 (the Apache reference implementation) and `fastavro`, both from PyPI.
# Idempotent and fast when already installed. Prints the interpreter path on stdout.
#
#   AUDIT_VENV   where the venv lives (default: <repo>/.venv, ignored by git)
#   PYTHON       the interpreter that creates the venv (default: python3)
#
# Tests find the interpreter through AUDIT_PYTHON or <repo>/.venv/bin/python.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${AUDIT_VENV:-$repo/.venv}"
base_python="${PYTHON:-python3}"
requirements=("avro==1.12.*" "fastavro>=1.9,<2")
stamp="$venv/.audit-requirements"
wanted="${requirements[*]}"

log() { printf '[ensure-python] %s\n' "$*" >&2; }

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] \
  && "$venv/bin/python" -c 'import avro, fastavro' 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi

command -v "$base_python" >/dev/null || { log "no $base_python on PATH: install Python 3.9+ first"; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  log "creating venv $venv"
  "$base_python" -m venv "$venv"
fi
log "installing ${requirements[*]} from PyPI"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" >&2
"$venv/bin/python" - <<'PY' >&2
import avro, fastavro
from importlib.metadata import version
assert version("avro").startswith("1.12."), version("avro")
print("[ensure-python] avro", version("avro"), "fastavro", version("fastavro"))
PY
printf '%s' "$wanted" >"$stamp"
echo "$venv/bin/python"
