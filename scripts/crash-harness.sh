#!/usr/bin/env bash
# kill -9 under write load, 20 cycles (or $1) on SQLite and, with TEST_DATABASE_URL, on
# PostgreSQL: every acknowledged write must read back intact (tests/python/crash_harness.py).
# The test command runs 3 cycles of each (tests/python/test_crash.py).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p cognito-mfa
export COGNITO_MFA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/cognito-mfa"
cycles="${1:-20}"
python3 tests/python/crash_harness.py --cycles "$cycles" --store sqlite
if [[ -n ${TEST_DATABASE_URL:-} ]]; then
    python3 tests/python/crash_harness.py --cycles "$cycles" --store postgres
fi
