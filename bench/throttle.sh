#!/usr/bin/env bash
# What `--throttle aws` costs: GetUserPoolMfaConfig throughput with throttling off and on, the
# two servers side by side and measured alternately (off, on, off, on) so drift on a shared
# machine hits both. The throttled server's rates are raised (bench/throttle-rates.toml) so no
# request is refused: what is measured is the bookkeeping of every request. Goal: under 5%.
#
#   bench/throttle.sh            8 pairs of 4-s runs
#   bench/throttle.sh --quick    3 pairs of 3-s runs
#
# Single runs here swing by 10-20% with CPU steal, so many short pairs are run and the cost is
# computed from the means.
#
# Env: BENCH_DURATION, BENCH_PAIRS, BENCH_THREADS (wrk -t, 2), BENCH_CONNECTIONS (wrk -c, 32),
# BENCH_SKIP_BUILD=1 (use the existing release binary; CARGO_TARGET_DIR is honoured).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
DURATION="${BENCH_DURATION:-4s}" PAIRS="${BENCH_PAIRS:-8}"
[[ ${1:-} == --quick ]] && DURATION="${BENCH_DURATION:-3s}" PAIRS="${BENCH_PAIRS:-3}"
THREADS="${BENCH_THREADS:-2}" CONNECTIONS="${BENCH_CONNECTIONS:-32}"
command -v wrk >/dev/null || { echo "throttle.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/cognito-mfa"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    (cd "$ROOT" && cargo build --release -p cognito-mfa) >&2
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/cognito-mfa-throttle.XXXXXX")"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT

start() { # start NAME ARGS...: prints the URL
    local name="$1"
    shift
    "$BIN" serve --listen 127.0.0.1:0 --data-dir "$TMP/$name" --log warn "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pids+=($!)
    for _ in $(seq 300); do
        url="$(sed -n 's|^cognito-mfa listening on \(http://[^ ]*\).*$|\1|p' "$TMP/$name.out" | head -n 1)"
        [[ -n $url ]] && { echo "$url"; return; }
        sleep 0.1
    done
    cat "$TMP/$name.err" >&2
    exit 1
}
pool() { # pool URL: a new pool's id
    curl -sS -X POST "$1/" -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: AWSCognitoIdentityProviderService.CreateUserPool' --data-binary '{"PoolName":"t"}' |
        grep -o '"Id":"[^"]*"' | head -n 1 | cut -d'"' -f4
}
rate() { # rate URL POOL: requests/s of one wrk run
    BENCH_POOL_ID="$2" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$BENCH_DIR/get_mfa.lua" "$1/" 2>&1 |
        sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}

off_url="$(start off)"
on_url="$(start on --throttle aws --config "$BENCH_DIR/throttle-rates.toml")"
off_pool="$(pool "$off_url")" on_pool="$(pool "$on_url")"
results=()
for side in $(for _ in $(seq "$PAIRS"); do echo off on; done); do
    if [[ $side == off ]]; then r="$(rate "$off_url" "$off_pool")"; else r="$(rate "$on_url" "$on_pool")"; fi
    echo "GetUserPoolMfaConfig, throttling $side: $r requests/s" >&2
    results+=("$side=$r")
done
printf '%s\n' "${results[@]}" | awk -F= '
    $1 == "off" { off += $2; n_off++ } $1 == "on" { on += $2; n_on++ }
    END {
        off /= n_off; on /= n_on; cost = (1 - on / off) * 100
        printf "throttle cost on GetUserPoolMfaConfig: off %.0f/s, on %.0f/s (means of %d runs each): %.1f%%   goal <5%%   %s\n",
            off, on, n_on, cost, (cost < 5) ? "ok" : "MISS"
    }'
