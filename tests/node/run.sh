#!/usr/bin/env bash
# Runs the amazon-cognito-identity-js suite: installs the pinned packages from package-lock.json
# (npm ci) and runs `node --test`. Needs Node >= 20 and the server binary: $COGNITO_MFA_BIN
# (relative paths are taken from the caller's directory), else ../../target/debug/cognito-mfa
# relative to this directory (`cargo build -p cognito-mfa`).
set -euo pipefail
if [[ -n "${COGNITO_MFA_BIN:-}" && "$COGNITO_MFA_BIN" != /* ]]; then
    COGNITO_MFA_BIN="$PWD/$COGNITO_MFA_BIN"
    export COGNITO_MFA_BIN
fi
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error >/dev/null
exec node --test
