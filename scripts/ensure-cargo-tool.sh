#!/usr/bin/env bash
# Idempotently installs a cargo-built tool into the tool cache OUTSIDE the clone and prints the
# binary path on stdout (progress goes to stderr).
#
#   scripts/ensure-cargo-tool.sh NAME CRATE VERSION BINARY [extra cargo install args...]
#
# Layout: ${AUDIT_TOOLS_DIR:-$HOME/.cache/jeap-audit-tools}/NAME-VERSION/bin/BINARY
# (`cargo install --root` of that directory). If the binary exists nothing is done. Concurrent
# invocations are safe: an flock on NAME-VERSION.lock serialises them, so the second caller waits
# for the first build and then finds the binary.
set -euo pipefail

if [ "$#" -lt 4 ]; then
    echo "usage: $0 NAME CRATE VERSION BINARY [cargo install args...]" >&2
    exit 2
fi
name="$1"; crate="$2"; version="$3"; binary="$4"; shift 4

tools_dir="${AUDIT_TOOLS_DIR:-$HOME/.cache/jeap-audit-tools}"
root="$tools_dir/$name-$version"
bin="$root/bin/$binary"

if [ -x "$bin" ]; then
    echo "$bin"
    exit 0
fi

mkdir -p "$tools_dir/logs"
lock="$tools_dir/$name-$version.lock"
exec 9>"$lock"
if ! flock -n 9; then
    echo "ensure-cargo-tool: another process is installing $crate $version, waiting for it..." >&2
    flock 9
fi

# Re-check under the lock: the process we waited for may have built it.
if [ ! -x "$bin" ]; then
    log="$tools_dir/logs/$name.log"
    echo "ensure-cargo-tool: building $crate $version into $root (log: $log); this can take a while" >&2
    if ! cargo install "$crate" --locked --version "$version" --root "$root" "$@" >"$log" 2>&1; then
        echo "ensure-cargo-tool: cargo install $crate $version failed; last lines of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
fi

if [ ! -x "$bin" ]; then
    echo "ensure-cargo-tool: $bin is missing after cargo install $crate $version" >&2
    exit 1
fi
echo "$bin"
