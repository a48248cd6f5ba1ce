#!/usr/bin/env bash
# Prints the desktop's start, case-open and idle-memory figures from the real window.
# Needs what scripts/test.sh installs, and the app built with the UI embedded.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x target/debug/casedesk ]] || scripts/tauri.sh build --debug --no-bundle
xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- node tests/desktop/figures.mjs
