#!/usr/bin/env bash
# Run by tests/openapi/run.sh inside scripts/with-server (TODOKIT_URL set).
set -euo pipefail
session="$(curl -sf -X POST "$TODOKIT_URL/api/auth/sign-up" -H 'content-type: application/json' \
  -d '{"email":"schemathesis@example.com","password":"schemathesis-password"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
# The run authenticates with a personal access token, not the session: `POST /api/auth/sign-out`
# (and revoking sessions) ends a session for good, which would leave every later case a 401.
token="$(curl -sf -X POST "$TODOKIT_URL/api/tokens" -H 'content-type: application/json' \
  -H "Authorization: Bearer $session" -d '{"name":"schemathesis"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token_secret"])')"
report_dir="$(mktemp -d)"
trap 'rm -rf "$report_dir"' EXIT
# Bounded and reproducible: a fixed seed, at most 40 cases per operation and phase, no example
# database carried between runs, one worker (the run signs in as one user; two workers let one
# scenario's bulk delete remove another's tasks mid-scenario). Every check is on (schemathesis.toml); the
# per-operation settings there say why they exist. Measured on the 2 shared cores: see run.sh.
"$ST_BIN" --config-file "$(dirname "$0")/schemathesis.toml" run "$TODOKIT_URL/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --seed 20261207 \
  --max-examples 40 \
  --generation-database none \
  --workers 1 \
  --no-color \
  --report-dir "$report_dir" \
  "$@"
