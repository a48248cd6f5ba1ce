#!/usr/bin/env bash
# The Tauri CLI with this repository's layout spelled out: the app (Cargo.toml,
# tauri.conf.json) at the root, the frontend in ui/. Example: scripts/tauri.sh dev
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export TAURI_APP_PATH="$root" TAURI_FRONTEND_PATH="$root/ui"
exec "$root/ui/node_modules/.bin/tauri" "$@"
