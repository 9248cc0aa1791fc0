#!/usr/bin/env bash
# Installs aws-amplify 6 and esbuild (npm) and bundles entry.mjs into dist/ for the browser test.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/aws-amplify || ! -d node_modules/esbuild ]]; then
    npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build
