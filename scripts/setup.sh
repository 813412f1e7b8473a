#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the project with its development tools and the
# cohort extra (DuckDB, Dask, which the cohort tests need), at the versions of constraints.txt.
# `bash scripts/setup.sh --upgrade` takes the newest releases pyproject.toml allows instead
# and writes them to constraints.txt (then run the tests, commit).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [[ "${1:-}" == "--upgrade" ]]; then
  .venv/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev,cohort]'
  {
    grep '^#' constraints.txt
    .venv/bin/python -m pip freeze --exclude-editable | grep -v '^relapsed-all-cds' | sort -f
    .venv/bin/python -m pip list --format=freeze | grep '^setuptools=='
  } > constraints.txt.new
  mv constraints.txt.new constraints.txt
else
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev,cohort]'
fi
