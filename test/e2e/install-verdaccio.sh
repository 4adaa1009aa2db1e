#!/usr/bin/env bash
# Installs Verdaccio (a local npm registry) from the npm registry into a cache folder, once, for the
# registry end-to-end test. Not a dependency of this package. Verdaccio 6.10 wants Node >= 22: the test
# runs it with the Node 24 that install-n8n.sh installs.
# Prints the folder holding node_modules/verdaccio on stdout; everything else goes to stderr.
set -euo pipefail

VERDACCIO_VERSION="${VERDACCIO_VERSION:-6.10.4}"
CACHE="${N8N_E2E_CACHE:-$HOME/.cache/n8n-nodes-governed-ai}"
DIR="$CACHE/verdaccio-$VERDACCIO_VERSION"
MARKER="$DIR/.installed"

if [[ -f "$MARKER" ]]; then
  echo "$DIR"
  exit 0
fi
mkdir -p "$DIR"
exec 9>"$CACHE/.install-verdaccio-$VERDACCIO_VERSION.lock"
flock 9
if [[ -f "$MARKER" ]]; then
  echo "$DIR"
  exit 0
fi
cd "$DIR"
{
  echo "[install-verdaccio] installing verdaccio@$VERDACCIO_VERSION into $DIR (once)"
  [[ -f package.json ]] || echo '{"private":true}' > package.json
  # --engine-strict=false: installed by the machine's npm, run by Node 24 (see the test).
  npm install --no-audit --no-fund --ignore-scripts --engine-strict=false --loglevel=error "verdaccio@$VERDACCIO_VERSION"
  touch "$MARKER"
  echo "[install-verdaccio] done"
} >&2
echo "$DIR"
