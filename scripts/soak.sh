#!/usr/bin/env bash
# The longer job for sync: the seeded simulation over many more seeds than the suite runs
# (optimised build), then the loopback test on real processes several times.
#   scripts/soak.sh [SEEDS] [FIRST] [LOOPBACK_RUNS]   defaults: 20000 seeds from 1000, 10 runs
# A failing seed is printed; run it alone with CASEDESK_SIM_FIRST=<seed> CASEDESK_SIM_SEEDS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
seeds="${1:-20000}"
first="${2:-1000}"
runs="${3:-10}"
start=$(date +%s)
CASEDESK_SIM_SEEDS="$seeds" CASEDESK_SIM_FIRST="$first" \
  cargo test --release -p casedesk-core --test simulation
echo "simulation: $seeds seeds from $first passed in $(( $(date +%s) - start )) s"
for i in $(seq 1 "$runs"); do
  cargo test --release -p casedesk-server --test loopback --quiet
  echo "loopback: run $i of $runs passed"
done
