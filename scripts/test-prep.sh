#!/usr/bin/env bash
# Installs and starts everything `make test` needs. Idempotent: fast when all is in place.
# Tools are cached outside the clone in $AUDIT_TOOLS_DIR (default ~/.cache/jeap-audit-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
export AUDIT_TOOLS_DIR="${AUDIT_TOOLS_DIR:-$HOME/.cache/jeap-audit-tools}"
mkdir -p "$AUDIT_TOOLS_DIR"

step() { printf '[test-prep] %s\n' "$*" >&2; }

# 1. PostgreSQL (runs on the machine; start it when stopped).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  step "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { step "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }

# 2. Build tools for native deps (rdkafka's bundled librdkafka uses cmake).
bash scripts/ensure-build-deps.sh

# 3. Python avro 1.12 + fastavro (independent Avro implementations used as judges).
bash scripts/ensure-python.sh >/dev/null

# 4. Kafka-protocol broker (Tansu) and schema registry (rivven-schema), cached binaries.
bash scripts/ensure-tansu.sh >/dev/null
bash scripts/ensure-rivven.sh >/dev/null

# 5. cargo-deny for the license check.
if [ ! -x "$AUDIT_TOOLS_DIR/cargo-deny/bin/cargo-deny" ]; then
  step "installing cargo-deny (once)"
  cargo install cargo-deny --locked --root "$AUDIT_TOOLS_DIR/cargo-deny" >/dev/null
fi
step "ready"
