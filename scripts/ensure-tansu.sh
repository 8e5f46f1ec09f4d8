#!/usr/bin/env bash
# Ensures the Tansu 0.6.0 Kafka-protocol broker is built and cached outside the clone; prints its path.
# The `dynostore` feature is required: the default build has no storage engine.
# Cache: ${AUDIT_TOOLS_DIR:-$HOME/.cache/jeap-audit-tools}/tansu-0.6.0/bin/tansu (15-25 min to build once).
set -euo pipefail
exec "$(dirname "$0")/ensure-cargo-tool.sh" tansu tansu 0.6.0 tansu --features dynostore
