#!/usr/bin/env bash
# Runs schemathesis (from PyPI, in a virtualenv under target/) against the OpenAPI
# document a real hub serves, signed in as an agent, a supervisor and an admin. Any
# 5xx, undocumented status, response that breaks its schema, or invalid request
# accepted fails the run.
# Usage: scripts/api-fuzz.sh [postgres://… database, empty, for the hub to run on]
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis-venv
if [[ ! -x $venv/bin/schemathesis ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis==4.32.5'
fi
cargo build --quiet -p casedesk-server

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=schemathesis-demo-password
database=()
[[ -n ${1:-} ]] && database=(--database "$1")
CASEDESK_DEMO_PASSWORD=$password target/debug/casedesk-server --data-dir "$dir" "${database[@]}" \
  --listen "127.0.0.1:$port" --demo &
hub=$!
trap 'kill $hub 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/api/openapi.json" >/dev/null && break
  sleep 0.2
done

for user in alex sam ada; do
  token=$(curl -sf -X POST -H 'content-type: application/json' \
    -d "{\"user\":\"$user\",\"password\":\"$password\"}" "http://127.0.0.1:$port/api/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  echo "schemathesis as $user"
  # positive_data_acceptance is left out: a case's fields depend on its case type (an
  # invoice number is required for a finance case), which a static schema cannot say;
  # the engine refuses such a case with 422 naming the field.
  # The change stream (/api/sync/events) is left out: it is an endless event stream with
  # no response body to check; the API tests open it as each role.
  # Run from the scratch folder: schemathesis keeps its example database where it runs.
  (cd "$dir" && "$OLDPWD/$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
    -H "Authorization: Bearer $token" --max-examples 50 --seed 1 \
    --exclude-checks positive_data_acceptance --exclude-path /api/sync/events --no-color)
done
