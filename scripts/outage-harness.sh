#!/usr/bin/env bash
# PostgreSQL stopped and started under write load, 10 cycles (or $1), on a private cluster the
# harness creates (tests/python/outage_harness.py). The test command runs 2 (test_outage.py).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p cognito-mfa
export COGNITO_MFA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/cognito-mfa"
python3 tests/python/outage_harness.py --cycles "${1:-10}"
