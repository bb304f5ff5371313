#!/usr/bin/env bash
# Browser tests: the real todokit binary driven through Debian's Chromium.
#   TODOKIT_BIN  server binary (default: target/debug/todokit, built if missing)
#   FAKE_LLM_BIN the scripted fake LLM (default: next to TODOKIT_BIN, built if missing)
#   CHROMIUM     browser (default: /usr/bin/chromium; `apt-get install chromium`)
# Screenshots land in tests/browser/artifacts/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ -z "${TODOKIT_BIN:-}" ]; then
  export TODOKIT_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/todokit"
  cargo build -p todokit -p todokit-fake-llm --locked
fi
if [ -z "${FAKE_LLM_BIN:-}" ]; then
  export FAKE_LLM_BIN="$(dirname "$TODOKIT_BIN")/todokit-fake-llm"
  if [ ! -x "$FAKE_LLM_BIN" ]; then
    cargo build -p todokit-fake-llm --locked
    FAKE_LLM_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/todokit-fake-llm"
  fi
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "Chromium not found at ${CHROMIUM:-/usr/bin/chromium}; install it with: apt-get install -y chromium" >&2
  exit 1
fi

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 ./*.test.js
