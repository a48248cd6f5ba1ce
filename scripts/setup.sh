#!/usr/bin/env bash
# Installs what Casedesk needs to build and run on Debian/Ubuntu, skipping what is there.
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[[ "${1:-}" == "--test" ]] && want_tests=true

packages=(build-essential pkg-config curl libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
  libxdo-dev libssl-dev)
if $want_tests; then
  packages+=(xvfb xauth webkit2gtk-driver dbus dbus-x11 dunst imagemagick fonts-dejavu-core python3-venv
    postgresql chromium strace)
fi
command -v node >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: installing the Rust toolchain (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi

# Vite 8 needs Node.js 20.19 or newer; Debian 12's own nodejs is 18.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "setup: Node.js $(node --version) is too old; Casedesk's UI build needs 20.19 or newer (nodejs.org or NodeSource)" >&2
  exit 1
fi

# Installs the versions the lock file pins; skipped when node_modules is newer than it.
# (npm install, not npm ci: the lock records only this platform's build of optional
# native packages such as the Tauri CLI, which npm ci refuses.)
install_node_modules() {
  local dir=$1
  if [[ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
    echo "setup: npm install in $dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}
install_node_modules ui
if $want_tests; then
  install_node_modules tests
  if ! command -v tauri-driver >/dev/null; then
    echo "setup: cargo install tauri-driver"
    cargo install tauri-driver --locked --version '^2' --quiet
  fi
fi
