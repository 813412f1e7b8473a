#!/usr/bin/env bash
# Set up, check the code maps and fixtures by replaying them, then start the CDS Hooks service on
# the embedded default (127.0.0.1:8080, SQLite feedback file, JWT auth off for local use).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/relapsed-all-cds replay fixtures --strict > /dev/null
echo "Replayed $(ls -d fixtures/*/ | wc -l) fixture bundles."
exec .venv/bin/relapsed-all-cds serve "$@"
