#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, SDK integration, restart), the Node
# amazon-cognito-identity-js suite (needs Node >= 20 and npm) and the boto3/AWS CLI suite, whose
# passkey browser test drives Debian's headless Chromium. Installs what the suites need first
# (Python and npm packages; chromium and chromium-driver with apt-get when missing). Works on a
# fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Browser for the passkey test (Debian's chromium and chromium-driver)"
if ! [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    SUDO=""
    if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

echo "== Python test dependencies"
python3 -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

echo "== Generated wire code is current with the pinned botocore"
python3 tools/gen_wire.py --check

# Where cargo puts the binary (respects CARGO_TARGET_DIR).
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/cognito-mfa"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac

echo "== Rust tests"
cargo build --quiet -p cognito-mfa
cargo test --workspace

echo "== Node (amazon-cognito-identity-js) tests"
COGNITO_MFA_BIN="$BIN" tests/node/run.sh

echo "== boto3 / AWS CLI tests"
COGNITO_MFA_BIN="$BIN" python3 -m pytest tests/python -q
