#!/usr/bin/env bash
# Run by tests/openapi/run.sh inside scripts/with-server (TODOKIT_URL set).
set -euo pipefail
token="$(curl -sf -X POST "$TODOKIT_URL/api/auth/sign-up" -H 'content-type: application/json' \
  -d '{"email":"schemathesis@example.com","password":"schemathesis-password"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
report_dir="$(mktemp -d)"
trap 'rm -rf "$report_dir"' EXIT
# Bounded and reproducible: a fixed seed, at most 40 cases per operation and phase, no example
# database carried between runs. Measured on the 2 shared cores: 1,591 cases in 8 min 15 s
# (seed 20261207, before the last fixes: 10 failures left, see the commit log).
"$ST_BIN" run "$TODOKIT_URL/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --seed 20261207 \
  --max-examples 40 \
  --generation-database none \
  --workers 2 \
  --no-color \
  --report-dir "$report_dir" \
  "$@"
