#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, SDK integration, restart) and the boto3/AWS CLI
# suite. Installs the Python packages the suites need first. Works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Python test dependencies"
python3 -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

echo "== Generated wire code is current with the pinned botocore"
python3 tools/gen_wire.py --check

echo "== Rust tests"
cargo build --quiet -p cognito-mfa
cargo test --workspace

echo "== boto3 / AWS CLI tests"
COGNITO_MFA_BIN="$PWD/target/debug/cognito-mfa" python3 -m pytest tests/python -q
