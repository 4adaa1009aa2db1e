#!/usr/bin/env bash
# Runs .ci/run on fresh clones of this repository's main, RUNS times in a row (default 3), while another
# process keeps one core fully busy: the proof that the suite holds on a loaded machine. Prints how long each
# run took and stops at the first red run. Logs go to $OUT (default /tmp/ci-busy).
#   bash scripts/ci-busy.sh            # 3 runs of main
#   RUNS=1 REF=HEAD bash scripts/ci-busy.sh
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${RUNS:-3}"
REF="${REF:-main}"
OUT="${OUT:-/tmp/ci-busy}"
mkdir -p "$OUT"

node -e 'for(;;){}' &
BUSY=$!
trap 'kill "$BUSY" 2>/dev/null' EXIT
echo "busy loop pid $BUSY; $RUNS run(s) of $REF; logs in $OUT"

for run in $(seq 1 "$RUNS"); do
  clone="$(mktemp -d /tmp/ci-busy-clone.XXXXXX)"
  git clone -q --branch "$REF" "$REPO" "$clone" 2>/dev/null || { git clone -q "$REPO" "$clone" && git -C "$clone" checkout -q "$REF"; }
  started=$(date +%s)
  (cd "$clone" && CI=true bash .ci/run </dev/null) >"$OUT/run-$run.log" 2>&1
  rc=$?
  took=$(( $(date +%s) - started ))
  summary="$(grep -E '^Tests:' "$OUT/run-$run.log" | tail -1)"
  echo "run $run: exit $rc in ${took} s (commit $(git -C "$clone" rev-parse --short HEAD)) ${summary}"
  rm -rf "$clone"
  [[ $rc -eq 0 ]] || exit "$rc"
done
