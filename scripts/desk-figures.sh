#!/usr/bin/env bash
# Prints the desktop's figures from the real window: start, case-open and idle memory
# (no argument), or a workbin of 100,000 open tasks scrolled (`workbin`).
# Needs what scripts/test.sh installs, and the app built with the UI embedded.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x target/debug/casedesk ]] || scripts/tauri.sh build --debug --no-bundle
run() { xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- node "$@"; }
case "${1:-desk}" in
  desk) run tests/desktop/figures.mjs ;;
  workbin)
    # Seeded once (a few minutes); later runs reuse it.
    seeded=target/workbin-100k
    mkdir -p "$seeded"
    cargo run --release -q -p casedesk-core --example seed_workbin -- "$seeded" 100000
    run tests/desktop/workbin-figures.mjs "$seeded"
    ;;
  *) echo "usage: $0 [desk|workbin]" >&2; exit 2 ;;
esac
