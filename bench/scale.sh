#!/usr/bin/env bash
# Cost as one pool grows (issue 12): GetUser, a TOTP sign-in and a filtered ListUsers at 1,000,
# 100,000 and 1,000,000 users, as ratios to the 1,000-user figures, and the server's RSS at the
# largest size. A release build on a fresh SQLite data dir. See bench/README.md.
#   bench/scale.sh                      # 1k, 100k, 1M; 5 s per run
#   BENCH_SIZES=7000,20000 bench/scale.sh --quick
set -euo pipefail
cd "$(dirname "$0")/.."
duration="5s"
[[ ${1:-} == --quick ]] && duration="2s"
sizes="${BENCH_SIZES:-1000,100000,1000000}"
totp_users="${BENCH_TOTP_USERS:-700}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet -p cognito-mfa -p cmfa-bench
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cognito-mfa-scale.XXXXXX")"
pid=""
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
env $(compgen -e | grep '^COGNITO_MFA_' | sed 's/^/-u /') "$target/release/cognito-mfa" serve \
    --listen 127.0.0.1:0 --data-dir "$tmp/data" --log warn --password-hash fast >"$tmp/out" 2>"$tmp/err" &
pid=$!
url=""
for _ in $(seq 300); do
    url="$(sed -n 's|^cognito-mfa listening on \(http://[^ ]*\).*$|\1|p' "$tmp/out" 2>/dev/null | head -n 1 || true)"
    [[ -n $url ]] && break
    kill -0 "$pid" || { cat "$tmp/err" >&2; exit 1; }
    sleep 0.1
done
"$target/release/cmfa-bench" --url "$url" --scenario scale --sizes "$sizes" --users "$totp_users" \
    --duration "$duration" --connections 32 --server-pid "$pid" | tee "$tmp/results"
du -sh "$tmp/data" >&2
kill "$pid" && wait "$pid" 2>/dev/null || true
pid=""
# The TOTP sign-in rates as shares of this run's RS256 ceiling (two signatures per sign-in, on
# both cores), measured with the server stopped.
"$target/release/cmfa-bench" --scenario sign-only --duration "$duration" 2>/dev/null >>"$tmp/results"
awk '
    / scenario=sign-only threads=2 / { for (i = 1; i <= NF; i++) if ($i ~ /^ops_per_s=/) { split($i, kv, "="); ceiling = kv[2] / 2 } }
    / scenario=scale-[0-9]+-totp / {
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^scenario=/) { split($i, kv, "="); name[++n] = kv[2] }
            if ($i ~ /^ops_per_s=/) { split($i, kv, "="); rate[n] = kv[2] }
        }
    }
    END {
        if (!ceiling) exit
        printf "RS256 ceiling (2 signatures per sign-in, 2 threads): %.0f sign-ins/s\n", ceiling
        for (i = 1; i <= n; i++) printf "  %s: %.0f sign-ins/s = %.0f%% of it\n", name[i], rate[i], rate[i] / ceiling * 100
    }' "$tmp/results" >&2
