#!/usr/bin/env bash
# npm test (and test:unit / test:e2e): jest over both projects, one file at a time. On a fresh clone it
# installs the npm packages first, so `npm test` works as the very first command; the end-to-end harness
# installs n8n itself, once, into its cache (test/e2e/install-n8n.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x node_modules/.bin/jest ]]; then
  echo "[test] no node_modules yet: installing the dependencies (npm ci) first" >&2
  npm ci --no-audit --no-fund >&2
fi
exec node_modules/.bin/jest --runInBand "$@"
