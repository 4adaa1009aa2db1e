#!/usr/bin/env bash
# npm run demo: install n8n once (cache), pack the package as a maintainer publishes it (a plain `npm pack`,
# whose prepack builds and checks it), start n8n at http://localhost:5678 with that tarball installed, import
# the examples and run them on the sample data.
# Uses OPENAI_API_KEY / ANTHROPIC_API_KEY when set; otherwise the bundled local provider server, which replays
# the answers recorded per sample ticket (examples/data/recorded-answers.json).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -d node_modules ]]; then
  echo "[demo] installing dependencies (npm ci) …"
  npm ci --no-audit --no-fund
fi

echo "[demo] n8n: $(bash test/e2e/install-n8n.sh) (installed once, a few minutes the first time)"

# The demo script packs the package (test/e2e/harness.ts packedTarball: `npm pack` in a staging copy),
# installs it into .cache/demo/n8n/.n8n/nodes and drives n8n.
exec node -r ./scripts/register-ts.js scripts/demo.ts "$@"
