#!/usr/bin/env bash
# Runs every test: formatting and lints, the engine's tests, the UI's type-check and lint,
# the customer pages in a real browser, and the desktop app end to end in a real window
# under Xvfb. Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

step "Rust formatting"
cargo fmt --all --check

step "UI build, type-check and lint"
npm --prefix ui run --silent build
npm --prefix ui run --silent check
npm --prefix ui run --silent lint

step "UI unit tests (Vitest, Tauri IPC mocked)"
npm --prefix ui run --silent test

step "Clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Engine and shell tests"
cargo test --workspace

step "The WAL stays bounded on a disk whose every fsync takes 100 ms (held by strace)"
# A slow disk keeps the background checkpoint busy; the writer must still get its turn.
store_test=$(cargo test -p casedesk-core --test store --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "store":
        print(m["executable"])')
slow_fsync=(strace -f -qq --seccomp-bpf -o /dev/null -e trace=fsync,fdatasync -e inject=fsync,fdatasync:delay_exit=100000)
if "${slow_fsync[@]}" true 2>/dev/null; then
  (cd crates/casedesk-core && "${slow_fsync[@]}" "$store_test" --quiet the_wal_stays_small_under_continuous_writes)
else
  echo "not run: this machine does not permit ptrace, so strace cannot slow its fsyncs" >&2
fi

step "The engine's and the hub's tests again, with the hub's workspaces on PostgreSQL (Debian's, on 127.0.0.1)"
# The same test binaries (the workspace build has the postgres back end), run with
# CASEDESK_TEST_PG_URL: every test world, every hub the API tests serve, and every hub
# process the loopback tests start, gets a database of its own. The simulation runs 100
# seeds here (each seed's hub a copy of the template's database), 1,000 on SQLite above.
mapfile -t pg_tests < <(cargo test --workspace --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable") or not m["profile"]["test"]:
        continue
    if "/crates/casedesk-core#" in m["package_id"] or \
            ("/crates/casedesk-server#" in m["package_id"] and m["target"]["name"] in ("loopback", "api")):
        print(m["manifest_path"].rsplit("/", 1)[0] + "\t" + m["executable"])')
pg_dir=$(mktemp -d)
trap 'scripts/postgres.sh stop "$pg_dir"' EXIT
CASEDESK_TEST_PG_URL=$(scripts/postgres.sh start "$pg_dir")
export CASEDESK_TEST_PG_URL
# Run outside cargo, the binaries would write the TypeScript bindings beside themselves.
export TS_RS_EXPORT_DIR="$PWD/ui/src/bindings"
for t in "${pg_tests[@]}"; do
  (cd "${t%%$'\t'*}" && CASEDESK_SIM_SEEDS=100 "${t#*$'\t'}" --quiet)
done
unset CASEDESK_TEST_PG_URL

step "Generated TypeScript bindings match the Rust types"
if git rev-parse --git-dir >/dev/null 2>&1 && [[ -n "$(git status --porcelain -- ui/src/bindings)" ]]; then
  git status --porcelain -- ui/src/bindings
  echo "ui/src/bindings is out of date: run 'cargo test -p casedesk-core' and commit the result" >&2
  exit 1
fi

step "Hub API against its served OpenAPI document (schemathesis), on SQLite and on PostgreSQL"
scripts/api-fuzz.sh
pg_server=$(scripts/postgres.sh url "$pg_dir")
psql -q "$pg_server/postgres" -c "CREATE DATABASE fuzz_hub"
scripts/api-fuzz.sh "$pg_server/fuzz_hub"

step "The customers' web form and status portal in a real browser (Playwright, Debian's chromium, a local SMTP sink)"
cargo build -p casedesk-server --quiet
npm --prefix tests run --silent web

step "Desktop build with the UI embedded"
scripts/tauri.sh build --debug --no-bundle

step "Desktop end to end (tauri-driver, WebKitWebDriver, Xvfb)"
xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- npm --prefix tests run --silent desktop

step "Two desks and a hub on PostgreSQL, end to end"
psql -q "$pg_server/postgres" -c "CREATE DATABASE e2e_hub"
CASEDESK_E2E_HUB_DATABASE="$pg_server/e2e_hub" xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- \
  node --test tests/desktop/sync.test.mjs
scripts/postgres.sh stop "$pg_dir"
