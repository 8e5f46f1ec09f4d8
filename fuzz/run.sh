#!/usr/bin/env bash
# Runs a cargo-fuzz target of the audit-schema decoders for SECONDS (default 60) on inputs up to
# 1 KiB, seeded with the committed datums, and prints the largest peak allocation the target
# measured for one input.
#
#   bash fuzz/run.sh [SECONDS] [TARGET]      TARGET: decode (default) | decode_generic
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz, which this
# script installs once into ${AUDIT_TOOLS_DIR:-~/.cache/jeap-audit-tools}/cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
target="${2:-decode}"
tools="${AUDIT_TOOLS_DIR:-$HOME/.cache/jeap-audit-tools}"
fuzz_bin="$tools/cargo-fuzz/bin/cargo-fuzz"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "[fuzz] needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if [ ! -x "$fuzz_bin" ]; then
  echo "[fuzz] installing cargo-fuzz (once)" >&2
  cargo install cargo-fuzz --locked --root "$tools/cargo-fuzz" >&2
fi

corpus="corpus/$target"
mkdir -p "$corpus" artifacts
# Seeds: real datums (Python-written fixtures), so the fuzzer starts deep in the structure.
for f in ../crates/audit-schema/tests/fixtures/python-avro/*/*.bin; do
  cp -n "$f" "$corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")" 2>/dev/null || true
done

log="artifacts/$target.log"
echo "[fuzz] cargo +nightly fuzz run $target $corpus -- -max_len=1024 -max_total_time=$seconds (log: fuzz/$log)" >&2
set +e
PATH="$tools/cargo-fuzz/bin:$PATH" cargo +nightly fuzz run "$target" "$corpus" -- \
  -max_len=1024 -max_total_time="$seconds" -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1 \
  >"$log" 2>&1
status=$?
set -e
grep -E "ERROR|panicked|Done [0-9]+ runs|stat::number_of_executed_units" "$log" >&2 || true
echo "[fuzz] $target: largest peak allocations measured (last line of each kind):" >&2
for kind in "new peak allocation (failed decode)" "new peak allocation (decoded message)" \
            "new peak per input byte (failed decode" "new peak per input byte (decoded message"; do
  grep -F "$kind" "$log" | tail -1 >&2 || true
done
exit "$status"
