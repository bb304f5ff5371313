#!/usr/bin/env bash
# schemathesis against a live todokit on SQLite: every operation of /api/openapi.json, all
# checks, authenticated as a user this script signs up. Fails (non-zero) on any failure. Run by
# scripts/test.
#   tests/openapi/run.sh [extra st run options…]
# Needs the debug binary (cargo build -p todokit --bin todokit); TODOKIT_BIN overrides it.
#
# Bounded: seed 20261207, at most 40 examples per operation and phase, one worker. Measured on
# 2 shared cores (debug server): about 7,100 cases, 0 failures, 2–4 minutes (plus the pip install
# on a first run). Per-operation settings, each explained, are in schemathesis.toml: the live
# event stream is read for one second, and the use-after-free check (ST301) is off for reading
# and changing a task, which the undo endpoint (`POST /api/tasks/{task}/restore`) deliberately
# brings back after a delete.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/schemathesis-venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r tests/openapi/requirements.txt
export ST_BIN="$PWD/$venv/bin/st"
exec scripts/with-server sqlite tests/openapi/schemathesis.sh "$@"
