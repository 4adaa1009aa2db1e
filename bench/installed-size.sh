#!/usr/bin/env bash
# What installing the package adds under ~/.n8n/nodes: packs the package as a maintainer does (`npm pack`,
# whose prepack builds), installs the tarball into an empty nodes folder the way users do (`npm install`,
# without peer dependencies: n8n provides n8n-workflow) and measures it. Writes bench/installed-size.md,
# which bench/report.ts appends to bench/RESULTS.md, and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d /tmp/governed-ai-size-XXXX)
trap 'rm -rf "$TMP"' EXIT
npm pack --pack-destination "$TMP" --loglevel=error >/dev/null
TGZ=$(ls "$TMP"/*.tgz)
mkdir -p "$TMP/nodes"
(cd "$TMP/nodes" && echo '{"name":"installed-nodes","private":true}' > package.json &&
  npm install --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error "$TGZ" >/dev/null)
kb() { du -s --block-size=1K "$1" | cut -f1; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
TOTAL=$(kb "$TMP/nodes/node_modules")
FILES=$(find "$TMP/nodes/node_modules" -type f | wc -l)
PACKED=$(stat -c %s "$TGZ")
PACKFILES=$(tar -tzf "$TGZ" | wc -l)
{
  echo "## installed size: what \`npm install n8n-nodes-governed-ai\` adds under ~/.n8n/nodes"
  echo
  echo "Measured $(date -u +%Y-%m-%d) by \`bash bench/installed-size.sh\` ($(npm --version | sed 's/^/npm /'), $(node --version | sed 's/^/Node /')): the package packed as published, installed into an empty nodes folder without peer dependencies (n8n provides n8n-workflow). n8n's Community Nodes screen installs the same dependencies (it runs npm in the package's folder, dev, peer and optional dependencies removed)."
  echo
  echo "- tarball: $PACKFILES files, $(awk -v b="$PACKED" 'BEGIN { printf "%.1f", b / 1000 }') kB"
  echo "- installed: $(mb "$TOTAL") MB in $FILES files, $(ls "$TMP/nodes/node_modules" | grep -v '^\.' | wc -l) top-level entries"
  echo
  echo "| folder in node_modules (its own nested node_modules included) | MB |"
  echo "|---|---|"
  (cd "$TMP/nodes/node_modules" && for d in * @*/*; do [[ -d "$d" && "$d" != @* || "$d" == @*/* ]] && echo "$(kb "$d") $d"; done) |
    sort -rn | head -8 | while read -r k d; do echo "| $d | $(mb "$k") |"; done
  echo
  SDK=$(( $(kb "$TMP/nodes/node_modules/openai") + $(kb "$TMP/nodes/node_modules/@anthropic-ai") ))
  echo "Trimmed: json-schema-to-ts is used for types only and is a devDependency (the Anthropic SDK still brings it), source maps no longer ship (their sources are not in the package). What remains is needed at run time: the two official provider SDKs ($(mb "$SDK") MB of it, on purpose), zod, pg."
  echo
} > bench/installed-size.md
cat bench/installed-size.md
