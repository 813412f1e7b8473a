#!/usr/bin/env bash
# Set up, then the whole test suite: ruff, mypy and pytest (with a real in-memory FHIR server
# from npm for the fallback-fetch tests when Node.js is present), then the installed wheel
# (scripts/check_wheel.sh). Arguments go to pytest; with any, the wheel check is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if command -v npm >/dev/null 2>&1 && [[ ! -d tests/fhir_server/node_modules ]]; then
  npm ci --prefix tests/fhir_server --no-audit --no-fund --loglevel=error
fi
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest -p no:cacheprovider "$@"
if [[ $# -eq 0 ]]; then
  bash scripts/check_wheel.sh
fi
