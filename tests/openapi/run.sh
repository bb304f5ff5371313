#!/usr/bin/env bash
# schemathesis against a live todokit on SQLite: every operation of /api/openapi.json, all
# checks, authenticated as a user this script signs up. Fails (non-zero) on any failure.
#   tests/openapi/run.sh [extra st run options…]
# Needs the debug binary (cargo build -p todokit --bin todokit); TODOKIT_BIN overrides it.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/schemathesis-venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r tests/openapi/requirements.txt
export ST_BIN="$PWD/$venv/bin/st"
exec scripts/with-server sqlite tests/openapi/schemathesis.sh "$@"
