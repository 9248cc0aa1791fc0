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
    --duration "$duration" --connections 32 --server-pid "$pid"
du -sh "$tmp/data" >&2
