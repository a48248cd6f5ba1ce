#!/usr/bin/env bash
# Installs what is missing, builds the desktop app and starts it on the demo workspace
# (a local SQLite file in the app-data folder, or in $CASEDESK_DATA_DIR if set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
scripts/tauri.sh build --debug --no-bundle
exec target/debug/casedesk "$@"
