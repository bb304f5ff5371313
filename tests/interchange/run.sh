#!/usr/bin/env bash
# The iCalendar export and calendar feed read by Python's `icalendar` (issue 24), against a live
# server on the backend given (sqlite by default). Run by scripts/test; needs the test venv
# (target/test-venv, made by scripts/test with tests/conformance/install.sh) and the debug binary.
#   tests/interchange/run.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/test-venv"
exec scripts/with-server "${1:-sqlite}" "$venv/bin/python" -m pytest -q tests/interchange/test_ical.py
