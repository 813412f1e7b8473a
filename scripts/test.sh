#!/usr/bin/env bash
# Set up, then the whole test suite: ruff, mypy and pytest (with a real in-memory FHIR server
# from npm for the fallback-fetch tests when Node.js is present, and Debian's chromium), then the
# installed wheel (scripts/check_wheel.sh). Arguments go to pytest; with any, the wheel check is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Debian's chromium and its driver for the tests that look at the relapse view in a browser.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      chromium chromium-driver fonts-dejavu-core >/dev/null
  else
    echo "chromium/chromedriver missing and apt-get unavailable: the browser tests will skip" >&2
  fi
fi
if command -v npm >/dev/null 2>&1 && [[ ! -d tests/fhir_server/node_modules ]]; then
  npm ci --prefix tests/fhir_server --no-audit --no-fund --loglevel=error
fi
# the OAuth 2 authorization server (oidc-provider) of the SMART App Launch tests
if command -v npm >/dev/null 2>&1 && [[ ! -d tests/auth_server/node_modules ]]; then
  npm ci --prefix tests/auth_server --no-audit --no-fund --loglevel=error
fi
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest -p no:cacheprovider "$@"
if [[ $# -eq 0 ]]; then
  bash scripts/check_wheel.sh
fi
