#!/usr/bin/env bash
# Features say what they build (issue 14, acceptance 2):
# 1. the consumer runtime with one deduplication backend compiles only that backend's driver;
# 2. a crate built without a backend feature stops with its compile_error! message.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO="${CARGO:-cargo}"
fail=0
step() { printf '[check-features] %s\n' "$*" >&2; }

# tree of the normal + build dependencies of one package with the given features (no dev-deps)
tree() { "$CARGO" tree -q -p "$1" --no-default-features --features "$2" -e normal,build --prefix none --format '{p}'; }

expect_absent() { # package features pattern what
  if tree "$1" "$2" | grep -Eq "$3"; then
    step "FAIL: $1 --features $2 compiles $4:"; tree "$1" "$2" | grep -E "$3" | sort -u >&2; fail=1
  else step "ok: $1 --features $2 compiles no $4"; fi
}
expect_present() {
  if tree "$1" "$2" | grep -Eq "$3"; then step "ok: $1 --features $2 compiles $4"
  else step "FAIL: $1 --features $2 does not compile $4"; fail=1; fi
}
SQLITE='^(sqlx-sqlite|libsqlite3-sys) '
POSTGRES='^sqlx-postgres '
expect_absent  audit-consumer postgres "$SQLITE" "SQLite code"
expect_present audit-consumer postgres "$POSTGRES" "the PostgreSQL driver"
expect_absent  audit-consumer sqlite "$POSTGRES" "PostgreSQL code"
expect_present audit-consumer sqlite "$SQLITE" "the SQLite driver"
expect_absent  audit-outbox postgres "$SQLITE" "SQLite code"
expect_absent  audit-outbox sqlite "$POSTGRES" "PostgreSQL code"
expect_absent  audit-consumer "" '^(sqlx|rdkafka) ' "sqlx or rdkafka (decode only)"
expect_absent  audit-store postgres "$SQLITE" "SQLite code"
expect_present audit-store postgres "$POSTGRES" "the PostgreSQL driver"
expect_absent  audit-store sqlite "$POSTGRES" "PostgreSQL code"
expect_present audit-store sqlite "$SQLITE" "the SQLite driver"
expect_absent  audit-store postgres,sqlite '^(rdkafka|axum|hyper) ' "rdkafka or HTTP (storage only)"
# audit-server: Kafka ingestion only with the feature `kafka` (default on); a store backend only
# with its feature. (`-e normal,build` leaves the dev-dependencies, e.g. sqlx/sqlite, out of the
# feature resolution too, as a build of the binary does; audit-server takes audit-store without
# its default feature `sqlite`, else every build of it would compile SQLite.)
expect_absent  audit-server sqlite '^(rdkafka|rdkafka-sys|audit-registry) ' "rdkafka (HTTP ingestion only)"
expect_absent  audit-server postgres '^(rdkafka|rdkafka-sys|audit-registry) ' "rdkafka (HTTP ingestion only)"
expect_absent  audit-server sqlite "$POSTGRES" "PostgreSQL code"
expect_absent  audit-server postgres "$SQLITE" "SQLite code"
expect_present audit-server postgres "$POSTGRES" "the PostgreSQL driver"
expect_present audit-server sqlite "$SQLITE" "the SQLite driver"
expect_present audit-server sqlite,kafka '^rdkafka ' "rdkafka (Kafka ingestion)"
expect_present audit-server postgres,kafka '^rdkafka ' "rdkafka (Kafka ingestion)"

# no backend: the compile_error! names the features to enable
expect_compile_error() { # package features message
  local out
  if out=$("$CARGO" check -q -p "$1" --no-default-features ${2:+--features "$2"} 2>&1); then
    step "FAIL: $1 built without a backend feature"; fail=1
  elif grep -q "$3" <<<"$out"; then step "ok: $1 without a backend: compile_error! \"$3...\""
  else step "FAIL: $1 failed without the expected message:"; printf '%s\n' "$out" | tail -20 >&2; fail=1; fi
}
expect_compile_error audit-outbox "" "audit-outbox: no storage backend: enable the feature \`postgres\`, \`sqlite\`"
expect_compile_error audit-store "" "audit-store: no storage backend: enable the feature \`postgres\`, \`sqlite\`"
expect_compile_error audit-consumer kafka "audit-consumer: the \`kafka\` runtime needs a deduplication backend"
exit $fail
