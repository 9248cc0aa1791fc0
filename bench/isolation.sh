#!/usr/bin/env bash
# Does password hashing stall the rest of the server? Release build, default Argon2id.
#
#   bench/isolation.sh           10 s per step
#   bench/isolation.sh --quick   4 s per step
#
# Steps, on one fresh server (--password-hash default):
#   1. GetUserPoolMfaConfig on 4 connections (wrk), alone: p50 / p99.
#   2. The same while 32 connections sign in (cmfa-bench signin-password): p50 / p99, and the
#      sign-ins/s of that run; then (2b) 32 connections signing in alone.
#   3. 256 connections signing in at once: peak RSS of the server (VmHWM), answers by type.
#   4. The default Argon2id hash rate in-process on 2 threads (cmfa-bench hash-only), after the
#      server stopped: sign-ins/s as a share of it.
#   5. The hand-off itself: an empty job to the compute pool and back (cmfa-bench handoff-only).
# Goals (issue 9): p99 in step 2 <= 3x p99 in step 1; peak RSS <= 100 MB; sign-ins/s >= 90 % of
# the 2-thread hash rate. A report, not a test: nothing fails when a goal is missed.
# Env: BENCH_DURATION, BENCH_SKIP_BUILD=1, BENCH_KEEP_TMP=1.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
DURATION="${BENCH_DURATION:-10s}"
[[ ${1:-} == --quick ]] && DURATION="${BENCH_DURATION:-4s}"
secs="${DURATION%s}"
USERS=200

log() { printf '\n== %s\n' "$*" >&2; }
die() {
    printf 'isolation.sh: %s\n' "$*" >&2
    exit 1
}

if ! command -v wrk >/dev/null; then
    [[ $(id -u) == 0 ]] || die "wrk is not installed (apt-get install -y wrk, as root)"
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
fi
command -v curl >/dev/null || die "curl is required"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SERVER_BIN="$TARGET_DIR/release/cognito-mfa"
BENCH_BIN="$TARGET_DIR/release/cmfa-bench"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building the release binaries"
    (cd "$ROOT" && cargo build --release -p cognito-mfa -p cmfa-bench) >&2
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/cognito-mfa-isolation.XXXXXX")"
SERVER_PID=""
cleanup() {
    local rc=$?
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    jobs -p | xargs -r kill 2>/dev/null || true
    [[ ${BENCH_KEEP_TMP:-0} == 1 ]] && echo "kept $TMP" >&2 || rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

unset_env=()
while IFS= read -r name; do unset_env+=(-u "$name"); done < <(compgen -e | grep '^COGNITO_MFA_' || true)
env "${unset_env[@]}" "$SERVER_BIN" serve --listen 127.0.0.1:0 --data-dir "$TMP/data" --log warn \
    --password-hash default >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 300); do
    URL="$(sed -n 's|^cognito-mfa listening on \(http://[^ ]*\).*$|\1|p' "$TMP/server.out" | head -n 1)"
    [[ -n $URL ]] && break
    sleep 0.1
done
[[ -n $URL ]] || die "the server did not start"

api() {
    curl -fsS -X POST "$URL/" -H 'Content-Type: application/x-amz-json-1.1' \
        -H "X-Amz-Target: AWSCognitoIdentityProviderService.$1" --data-binary "$2"
}
POOL="$(api CreateUserPool '{"PoolName":"isolation"}' | sed -n 's/.*"Id":"\([^"]*\)".*/\1/p')"
api SetUserPoolMfaConfig "{\"UserPoolId\":\"$POOL\",\"MfaConfiguration\":\"OPTIONAL\",\"SoftwareTokenMfaConfiguration\":{\"Enabled\":true}}" >/dev/null

# wrk_get NAME: GetUserPoolMfaConfig on 4 connections for $DURATION; BENCH_RESULT in $TMP/NAME.
wrk_get() {
    BENCH_POOL_ID="$POOL" wrk -t1 -c4 -d"$DURATION" --latency -s "$BENCH_DIR/get_mfa.lua" "$URL/" >"$TMP/$1"
}
field() { sed -n "s/^BENCH_RESULT .*\<$2=\([0-9.]*\).*$/\1/p" "$1" | head -n 1; }

log "1. GetUserPoolMfaConfig alone (4 connections, $DURATION)"
wrk_get alone.txt

log "2. the same while 32 connections sign in with the default hash"
"$BENCH_BIN" --url "$URL" --server-pid "$SERVER_PID" --scenario signin-password --users "$USERS" \
    --connections 32 --duration "$((secs + 4))s" --label signin-under-read >"$TMP/signin.txt" 2>"$TMP/signin.err" &
bench_pid=$!
for _ in $(seq 1200); do
    grep -q 'set-up took' "$TMP/signin.err" && break
    kill -0 "$bench_pid" 2>/dev/null || die "cmfa-bench ended early: $(cat "$TMP/signin.err")"
    sleep 0.1
done
sleep 1
wrk_get loaded.txt
wait "$bench_pid" || die "cmfa-bench failed: $(cat "$TMP/signin.err")"

log "2b. sign-ins alone, 32 connections"
"$BENCH_BIN" --url "$URL" --server-pid "$SERVER_PID" --scenario signin-password --users "$USERS" \
    --connections 32 --duration "${secs}s" --label signin-alone >"$TMP/alone-signin.txt" 2>"$TMP/alone-signin.err" ||
    die "cmfa-bench failed: $(cat "$TMP/alone-signin.err")"

log "3. 256 sign-ins in flight: peak RSS"
"$BENCH_BIN" --url "$URL" --server-pid "$SERVER_PID" --scenario signin-password --users "$USERS" \
    --connections 256 --duration "${secs}s" --label signin-256 >"$TMP/flood.txt" 2>"$TMP/flood.err" ||
    die "cmfa-bench failed: $(cat "$TMP/flood.err")"
hwm_kb="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

log "4. default Argon2id in-process, 1 and 2 threads"
"$BENCH_BIN" --scenario hash-only --duration "${secs}s" >"$TMP/hash.txt" 2>"$TMP/hash.err"
hash2="$(grep 'threads=2' "$TMP/hash.txt" | sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p')"

log "5. the hand-off to the compute pool itself (an empty job)"
"$BENCH_BIN" --scenario handoff-only --duration "${secs}s" >"$TMP/handoff.txt" 2>"$TMP/handoff.err"
handoff_p50="$(grep 'concurrent=1 ' "$TMP/handoff.txt" | sed -n 's/.*p50_ns=\([0-9]*\).*/\1/p')"
handoff_rate="$(grep -v 'concurrent=1 ' "$TMP/handoff.txt" | sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p')"

us_to_ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
a50="$(field "$TMP/alone.txt" p50_us)"
a99="$(field "$TMP/alone.txt" p99_us)"
l50="$(field "$TMP/loaded.txt" p50_us)"
l99="$(field "$TMP/loaded.txt" p99_us)"
a_req="$(field "$TMP/alone.txt" requests)"
l_req="$(field "$TMP/loaded.txt" requests)"
rate="$(field "$TMP/signin.txt" ops_per_s)"
alone_rate="$(field "$TMP/alone-signin.txt" ops_per_s)"
flood_rate="$(field "$TMP/flood.txt" ops_per_s)"
flood_errors="$(sed -n 's/.*error_types=\([^ ]*\).*/\1/p' "$TMP/flood.txt")"
{
    echo "cognito-mfa isolation benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $DURATION per step"
    printf 'GetUserPoolMfaConfig alone:            %8s req  p50 %s ms  p99 %s ms\n' "$a_req" "$(us_to_ms "$a50")" "$(us_to_ms "$a99")"
    printf 'GetUserPoolMfaConfig under sign-ins:   %8s req  p50 %s ms  p99 %s ms  (p99 ratio %s, goal <= 3)\n' \
        "$l_req" "$(us_to_ms "$l50")" "$(us_to_ms "$l99")" "$(awk -v a="$a99" -v b="$l99" 'BEGIN { printf "%.2f", b / a }')"
    printf 'sign-ins/s meanwhile (default hash):   %s\n' "$rate"
    printf 'sign-ins/s alone (default hash):       %s\n' "$alone_rate"
    printf 'default Argon2id, 2 threads:           %s hashes/s  -> sign-ins alone at %s %% of it (goal >= 90)\n' \
        "$hash2" "$(awk -v r="$alone_rate" -v h="$hash2" 'BEGIN { printf "%.0f", 100 * r / h }')"
    printf '256 connections signing in:            %s sign-ins/s, answers refused: %s\n' "$flood_rate" "$flood_errors"
    printf 'server peak RSS (VmHWM):               %s MB (goal <= 100)\n' "$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
    printf 'hand-off to the compute pool:          round trip p50 %s us; %s empty jobs/s with 32 at once\n' \
        "$(awk -v n="$handoff_p50" 'BEGIN { printf "%.1f", n / 1000 }')" "$handoff_rate"
} | tee "$TMP/summary.txt"
mkdir -p "$BENCH_DIR/results"
cp "$TMP/summary.txt" "$BENCH_DIR/results/isolation-latest.txt"
