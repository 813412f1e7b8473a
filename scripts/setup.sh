#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the project with its development tools and the
# cohort extra (DuckDB, Dask), which the cohort tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev,cohort]'
