#!/usr/bin/env bash
# cognito-mfa throughput benchmark: builds the release binary, starts it on a fresh data dir and
# drives it with wrk. See bench/README.md.
#
#   bench/run.sh            each step runs 10 s (about a minute in all, after the build)
#   bench/run.sh --quick    each step runs 3 s
#
# Env overrides: BENCH_DURATION (wrk -d, e.g. 10s), BENCH_THREADS (wrk -t, default 2),
# BENCH_CONNECTIONS (wrk -c, default 32), BENCH_POOLS (pools written in step 3, default 32),
# BENCH_SKIP_BUILD=1 (use the existing binary), BENCH_KEEP_TMP=1 (keep the data dir and logs).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h | --help)
            sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "run.sh: unknown argument: $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

if [[ $quick == 1 ]]; then default_duration=3s; else default_duration=10s; fi
DURATION="${BENCH_DURATION:-$default_duration}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
POOLS="${BENCH_POOLS:-32}"

# Targets (from the issue).
GET_TARGET_RPS=60000
GET_TARGET_P99_MS=5
SET_TARGET_RPS=20000
RSS_TARGET_MB=50

log() { printf '\n== %s\n' "$*" >&2; }
die() {
    printf 'run.sh: %s\n' "$*" >&2
    exit 1
}

# --- tools -----------------------------------------------------------------------------------

command -v curl >/dev/null || die "curl is required"
command -v cargo >/dev/null || die "cargo is required"
if ! command -v wrk >/dev/null; then
    [[ $(id -u) == 0 ]] || die "wrk is not installed (apt-get install -y wrk, as root)"
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
    command -v wrk >/dev/null || die "wrk install failed"
fi

# --- build -----------------------------------------------------------------------------------

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/cognito-mfa"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "building the release binary (cargo waits if another build holds the lock)"
    (cd "$ROOT" && cargo build --release -p cognito-mfa) >&2
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# --- server ----------------------------------------------------------------------------------

TMP="$(mktemp -d "${TMPDIR:-/tmp}/cognito-mfa-bench.XXXXXX")"
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then
        echo "run.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A clean configuration: no COGNITO_MFA_* variable from the caller's shell leaks into the run.
unset_env=()
while IFS= read -r name; do unset_env+=(-u "$name"); done < <(compgen -e | grep '^COGNITO_MFA_' || true)

log "starting $BIN on $TMP/data"
env "${unset_env[@]}" "$BIN" serve --listen 127.0.0.1:0 --data-dir "$TMP/data" --log warn \
    >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!

URL=""
for _ in $(seq 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$TMP/server.err" >&2
        die "the server exited during startup"
    fi
    URL="$(sed -n 's|^cognito-mfa listening on \(http://[^ ]*\).*$|\1|p' "$TMP/server.out" | head -n 1)"
    [[ -n $URL ]] && break
    sleep 0.1
done
[[ -n $URL ]] || die "the server did not print its address within 30 s"
echo "server pid $SERVER_PID at $URL" >&2

server_alive() {
    kill -0 "$SERVER_PID" 2>/dev/null || {
        cat "$TMP/server.err" >&2
        die "the server died (see its stderr above)"
    }
}

# api OP BODY: prints the response body; fails unless the status is 200.
api() {
    local op="$1" body="$2" out code
    out="$(curl -sS -X POST "$URL/" \
        -H 'Content-Type: application/x-amz-json-1.1' \
        -H "X-Amz-Target: AWSCognitoIdentityProviderService.$op" \
        --data-binary "$body" -w '\n%{http_code}')"
    code="${out##*$'\n'}"
    out="${out%$'\n'*}"
    [[ $code == 200 ]] || die "$op answered HTTP $code: $out"
    printf '%s\n' "$out"
}

pool_id() { # the UserPool.Id of a CreateUserPool response on stdin
    if command -v jq >/dev/null; then
        jq -er '.UserPool.Id'
    else
        grep -o '"Id":"[^"]*"' | head -n 1 | cut -d'"' -f4
    fi
}

# --- load ------------------------------------------------------------------------------------

# run_wrk NAME URL SCRIPT: runs wrk, shows its output, keeps it in $TMP/NAME.txt.
run_wrk() {
    local name="$1" url="$2" script="$3"
    log "$name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $url"
    BENCH_WRK_THREADS="$THREADS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$BENCH_DIR/$script" "$url" 2>&1 | tee "$TMP/$name.txt" >&2
    grep -q '^BENCH_RESULT ' "$TMP/$name.txt" || die "$name: wrk printed no BENCH_RESULT line"
    server_alive
}

# field NAME KEY: a key=value from the step's BENCH_RESULT line.
field() {
    sed -n "s/^BENCH_RESULT .*\<$2=\([0-9]*\).*$/\1/p" "$TMP/$1.txt" | head -n 1
}

# Step 1: fixed-JSON baseline.
curl -fsS "$URL/_cognito-mfa/health" >/dev/null || die "health check failed"
run_wrk health "$URL/_cognito-mfa/health" health.lua

# Step 2: GetUserPoolMfaConfig on one pool.
read_pool="$(api CreateUserPool '{"PoolName":"bench-read"}' | pool_id)"
[[ -n $read_pool ]] || die "CreateUserPool returned no UserPool.Id"
api GetUserPoolMfaConfig "{\"UserPoolId\":\"$read_pool\"}" >/dev/null
BENCH_POOL_ID="$read_pool" run_wrk get "$URL/" get_mfa.lua

# Step 3: SetUserPoolMfaConfig over $POOLS pools.
log "creating $POOLS pools"
pools=()
for i in $(seq "$POOLS"); do
    id="$(api CreateUserPool "{\"PoolName\":\"bench-$i\"}" | pool_id)"
    [[ -n $id ]] || die "CreateUserPool returned no UserPool.Id"
    pools+=("$id")
done
api SetUserPoolMfaConfig \
    "{\"UserPoolId\":\"${pools[0]}\",\"MfaConfiguration\":\"ON\",\"SoftwareTokenMfaConfiguration\":{\"Enabled\":true}}" \
    >/dev/null
BENCH_POOL_IDS="${pools[*]}" run_wrk set "$URL/" set_mfa.lua
# The writes landed: the last pool now reports MFA on.
api GetUserPoolMfaConfig "{\"UserPoolId\":\"${pools[-1]}\"}" | grep -q '"MfaConfiguration":"ON"' ||
    die "a pool written in step 3 does not report MfaConfiguration ON"

# Step 4: memory after the load.
server_alive
rss_kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")"
hwm_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")"

# --- summary ---------------------------------------------------------------------------------

# row LABEL STEP TARGET_RPS TARGET_P99_MS: one table line; TARGET_RPS is checked against
# successful (2xx) requests per second, so failed requests never count toward a target.
row() {
    local label="$1" step="$2" t_rps="$3" t_p99="$4"
    local req dur non2xx sock p50 p99
    req="$(field "$step" requests)"
    dur="$(field "$step" duration_us)"
    non2xx="$(field "$step" non2xx)"
    sock=$(($(field "$step" connect) + $(field "$step" read) + $(field "$step" write) + $(field "$step" timeout)))
    p50="$(field "$step" p50_us)"
    p99="$(field "$step" p99_us)"
    awk -v label="$label" -v req="$req" -v dur="$dur" -v bad="$non2xx" -v sock="$sock" \
        -v p50="$p50" -v p99="$p99" -v trps="$t_rps" -v tp99="$t_p99" 'BEGIN {
        s = dur / 1e6; rps = req / s; ok = (req - bad) / s
        target = "-"; verdict = "-"
        if (trps != "") {
            target = sprintf(">=%d/s", trps); verdict = (ok >= trps) ? "ok" : "MISS"
            if (tp99 != "") {
                target = target sprintf(", p99<=%gms", tp99)
                if (p99 / 1000 > tp99) verdict = "MISS"
            }
        }
        printf "%-32s %10.0f %10.0f %8.2f %8.2f %9d %8d  %-22s %s\n",
            label, rps, ok, p50 / 1000, p99 / 1000, bad, sock, target, verdict
    }'
}

summary="$TMP/summary.txt"
{
    rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then rev="$rev (dirty)"; fi
    echo "cognito-mfa benchmark  $(date -u '+%Y-%m-%d %H:%M:%S UTC')  commit $rev"
    echo "host: $(nproc) CPUs shared by server and wrk; wrk -t$THREADS -c$CONNECTIONS -d$DURATION" \
        "--latency; $POOLS pools written in the SetUserPoolMfaConfig step"
    echo
    printf "%-32s %10s %10s %8s %8s %9s %8s  %-22s %s\n" \
        step 'req/s' '2xx req/s' 'p50 ms' 'p99 ms' 'non-2xx' 'sock err' target result
    row "health (fixed-JSON baseline)" health "" ""
    row "GetUserPoolMfaConfig (1 pool)" get "$GET_TARGET_RPS" "$GET_TARGET_P99_MS"
    row "SetUserPoolMfaConfig ($POOLS pools)" set "$SET_TARGET_RPS" ""
    echo
    statuses="$(sed -n 's/^BENCH_STATUS //p' "$TMP/set.txt" | head -n 1)"
    echo "SetUserPoolMfaConfig responses by status: ${statuses:-none recorded}"
    awk -v rss="$rss_kb" -v hwm="$hwm_kb" -v t="$RSS_TARGET_MB" 'BEGIN {
        printf "server RSS after load: %.1f MB (peak %.1f MB)   target <=%d MB   %s\n",
            rss / 1024, hwm / 1024, t, (rss / 1024 <= t) ? "ok" : "MISS"
    }'
    errlines="$(grep -c . "$TMP/server.err" || true)"
    echo "server stderr (--log warn): $errlines lines"
    if [[ $errlines != 0 ]]; then sed -n '1,10s/^/    /p' "$TMP/server.err"; fi
} >"$summary"

mkdir -p "$BENCH_DIR/results"
cp "$summary" "$BENCH_DIR/results/latest.txt"
log "summary (also in bench/results/latest.txt)"
cat "$summary"
