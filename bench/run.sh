#!/usr/bin/env bash
# cognito-mfa throughput benchmark: builds the release binary, starts it on a fresh data dir and
# drives it with wrk. See bench/README.md.
#
#   bench/run.sh            each step runs 10 s (about a minute in all, after the build)
#   bench/run.sh --quick    each step runs 3 s
#
# Env overrides: BENCH_DURATION (wrk -d, e.g. 10s), BENCH_THREADS (wrk -t, default 2),
# BENCH_CONNECTIONS (wrk -c, default 32), BENCH_POOLS (pools written in step 3, default 32),
# BENCH_SKIP_BUILD=1 (use the existing binary), BENCH_KEEP_TMP=1 (keep the data dir and logs),
# BENCH_WAIT_IDLE=SECONDS (first wait up to that long for other processes to stop using CPU).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h | --help)
            sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
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

# CPU accounting, so a run on a busy machine (someone else's build) shows up in the summary.
# All three print CPU seconds.
CLK_TCK="$(getconf CLK_TCK)"
machine_cpu() { # busy CPU time of the whole machine: user, nice, system, steal
    # (irq and softirq are left out: loopback networking of the benchmark itself lands there)
    awk -v hz="$CLK_TCK" '$1 == "cpu" { print ($2 + $3 + $4 + $9) / hz; exit }' /proc/stat
}
server_cpu() { # utime + stime of the server (fields 14 and 15; the name has no spaces)
    awk -v hz="$CLK_TCK" '{ print ($14 + $15) / hz }' "/proc/$SERVER_PID/stat"
}
children_cpu() { # user + sys of this shell's finished children (wrk, once it has exited)
    # `times` must run in this shell, not in a $(...) subshell, to see its children.
    times >"$TMP/times"
    awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
        print t
    }' "$TMP/times"
}

# run_wrk NAME URL SCRIPT: runs wrk, shows its output, keeps it in $TMP/NAME.txt, and the
# average number of cores used by the server, wrk and everything else in $TMP/NAME.cpu.
run_wrk() {
    local name="$1" url="$2" script="$3" m0 s0 c0 t0 m1 s1 c1 t1
    log "$name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency $url"
    children_cpu >"$TMP/c0"
    m0="$(machine_cpu)" s0="$(server_cpu)" t0="$(date +%s.%N)"
    BENCH_WRK_THREADS="$THREADS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$BENCH_DIR/$script" "$url" 2>&1 | tee "$TMP/$name.txt" >&2
    m1="$(machine_cpu)" s1="$(server_cpu)" t1="$(date +%s.%N)"
    children_cpu >"$TMP/c1"
    c0="$(cat "$TMP/c0")" c1="$(cat "$TMP/c1")"
    grep -q '^BENCH_RESULT ' "$TMP/$name.txt" || die "$name: wrk printed no BENCH_RESULT line"
    server_alive
    awk -v m0="$m0" -v m1="$m1" -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" \
        -v t0="$t0" -v t1="$t1" 'BEGIN {
        w = t1 - t0; srv = (s1 - s0) / w; wrk = (c1 - c0) / w; oth = (m1 - m0) / w - srv - wrk
        if (oth < 0) oth = 0
        printf "%.2f %.2f %.2f\n", srv, wrk, oth
    }' >"$TMP/$name.cpu"
}

# field NAME KEY: a key=value from the step's BENCH_RESULT line.
field() {
    sed -n "s/^BENCH_RESULT .*\<$2=\([0-9]*\).*$/\1/p" "$TMP/$1.txt" | head -n 1
}

# Optionally wait for other processes (e.g. someone's build) to leave the CPUs alone.
if [[ ${BENCH_WAIT_IDLE:-0} -gt 0 ]]; then
    log "waiting up to ${BENCH_WAIT_IDLE}s for the machine to go quiet"
    deadline=$((SECONDS + BENCH_WAIT_IDLE))
    quiet=0
    while :; do # quiet = under 0.15 busy cores for three 2 s samples in a row
        m0="$(machine_cpu)"
        sleep 2
        other="$(awk -v a="$m0" -v b="$(machine_cpu)" 'BEGIN { printf "%.2f", (b - a) / 2 }')"
        if awk -v o="$other" 'BEGIN { exit !(o < 0.15) }'; then quiet=$((quiet + 1)); else quiet=0; fi
        if ((quiet >= 3)); then
            echo "quiet (other processes: $other cores)" >&2
            break
        fi
        if ((SECONDS >= deadline)); then
            echo "still busy ($other cores used by other processes); running anyway" >&2
            break
        fi
    done
fi

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
    local req dur non2xx sock p50 p99 c_srv c_wrk c_oth
    req="$(field "$step" requests)"
    dur="$(field "$step" duration_us)"
    non2xx="$(field "$step" non2xx)"
    sock=$(($(field "$step" connect) + $(field "$step" read) + $(field "$step" write) + $(field "$step" timeout)))
    p50="$(field "$step" p50_us)"
    p99="$(field "$step" p99_us)"
    read -r c_srv c_wrk c_oth <"$TMP/$step.cpu"
    awk -v label="$label" -v req="$req" -v dur="$dur" -v bad="$non2xx" -v sock="$sock" \
        -v p50="$p50" -v p99="$p99" -v trps="$t_rps" -v tp99="$t_p99" \
        -v cpu="$c_srv/$c_wrk/$c_oth" 'BEGIN {
        s = dur / 1e6; rps = req / s; ok = (req - bad) / s
        target = "-"; verdict = "-"
        if (trps != "") {
            target = sprintf(">=%d/s", trps); verdict = (ok >= trps) ? "ok" : "MISS"
            if (tp99 != "") {
                target = target sprintf(", p99<=%gms", tp99)
                if (p99 / 1000 > tp99) verdict = "MISS"
            }
        }
        printf "%-32s %10.0f %10.0f %8.2f %8.2f %9d %8d  %-17s %-21s %s\n",
            label, rps, ok, p50 / 1000, p99 / 1000, bad, sock, cpu, target, verdict
    }'
}

summary="$TMP/summary.txt"
{
    rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then rev="$rev (dirty)"; fi
    echo "cognito-mfa benchmark  $(date -u '+%Y-%m-%d %H:%M:%S UTC')  commit $rev"
    if [[ ${BENCH_SKIP_BUILD:-0} == 1 ]]; then
        echo "binary not rebuilt (BENCH_SKIP_BUILD=1): $BIN from $(date -u -r "$BIN" '+%Y-%m-%d %H:%M:%S UTC')"
    fi
    echo "host: $(nproc) CPUs shared by server and wrk; wrk -t$THREADS -c$CONNECTIONS -d$DURATION" \
        "--latency; $POOLS pools written in the SetUserPoolMfaConfig step"
    echo
    printf "%-32s %10s %10s %8s %8s %9s %8s  %-17s %-21s %s\n" \
        step 'req/s' '2xx req/s' 'p50 ms' 'p99 ms' 'non-2xx' 'sock err' 'cores srv/wrk/oth' \
        target result
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
    busy="$(cat "$TMP"/{health,get,set}.cpu | awk '$3 > m { m = $3 } END { print (m > 0.2) ? m : "" }')"
    if [[ -n $busy ]]; then
        echo "WARNING: other processes used up to $busy cores during a step (the 'oth' column);" \
            "the numbers above understate the server. Rerun on a quiet machine."
    fi
    errlines="$(grep -c . "$TMP/server.err" || true)"
    echo "server stderr (--log warn): $errlines lines"
    if [[ $errlines != 0 ]]; then sed -n '1,10s/^/    /p' "$TMP/server.err"; fi
} >"$summary"

mkdir -p "$BENCH_DIR/results"
cp "$summary" "$BENCH_DIR/results/latest.txt"
log "summary (also in bench/results/latest.txt)"
cat "$summary"
