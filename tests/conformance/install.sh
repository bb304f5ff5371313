#!/usr/bin/env sh
# Lightweight (CI) install of the conformance suite into the current Python environment.
# Idempotent. Two steps on purpose: --no-deps applies to every package on its command line.
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --disable-pip-version-check --no-deps openai-chatkit==1.6.5
"$PYTHON" -m pip install --disable-pip-version-check -r requirements.txt
"$PYTHON" -c "import chatkit.types, icalendar, pydantic, pytest; print('conformance deps OK: pydantic', pydantic.VERSION)"
