#!/usr/bin/env bash
# Ensures the rivven-schema 0.0.22 Confluent-API schema registry is built and cached outside the
# clone; prints its path.
# Cache: ${AUDIT_TOOLS_DIR:-$HOME/.cache/jeap-audit-tools}/rivven-schema-0.0.22/bin/rivven-schema
set -euo pipefail
exec "$(dirname "$0")/ensure-cargo-tool.sh" rivven-schema rivven-schema 0.0.22 rivven-schema
