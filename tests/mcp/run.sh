#!/usr/bin/env bash
# MCP server tests with the official MCP Python SDK client against the real todokit binary.
# Uses (creating it if needed) the shared venv at target/test-venv. TODOKIT_BIN defaults to
# target/debug/todokit (or $CARGO_TARGET_DIR/debug/todokit); build it first.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/test-venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r tests/mcp/requirements.txt
if [ -z "${TODOKIT_BIN:-}" ]; then
  export TODOKIT_BIN="${CARGO_TARGET_DIR:-target}/debug/todokit"
fi
if [ ! -x "$TODOKIT_BIN" ]; then
  echo "todokit binary not found at $TODOKIT_BIN; run cargo build -p todokit first" >&2
  exit 1
fi
exec "$venv/bin/python" -m pytest -q tests/mcp "$@"
