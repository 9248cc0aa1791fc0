#!/usr/bin/env bash
# The edge fuzzer (crates/cmfa-server/tests/fuzz.rs) with 1,000,000 cases (or $1), release build.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_CASES="${1:-1000000}" cargo test --release -p cmfa-server --test fuzz -- --nocapture
