#!/usr/bin/env bash
# The wheel as a hospital installs it: built, installed (at the versions of constraints.txt) in
# a clean venv outside the repository, and run from another folder: `--version`, a replay of a
# fixture, then `serve` and the Dockerfile's gunicorn command, each until discovery answers.
# Needs .venv (scripts/setup.sh) to build with.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
work=$(mktemp -d)
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

.venv/bin/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$work/dist" . \
  2> "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet -c constraints.txt "$work"/dist/*.whl
cd "$work"  # nothing of the repository on the path from here
cli=$work/venv/bin/relapsed-all-cds

"$cli" --version
"$cli" replay "$repo/fixtures/seed000-p1-maintenance/bundle.json" > replay.json
venv/bin/python - <<'PY'
import json
result = json.loads(open("replay.json").readline())
assert "error" not in result and result["strata"], result
PY

free_port() {
  venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits until the server started last answers discovery on port $1, then stops it.
answers_discovery() {
  for _ in $(seq 1 300); do
    if venv/bin/python -c "import json, sys, urllib.request
services = json.load(urllib.request.urlopen('http://127.0.0.1:$1/cds-services', timeout=2))
sys.exit(not services['services'])" 2>/dev/null; then
      kill "$server" && wait "$server" 2>/dev/null || true
      server=""
      return 0
    fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  echo "the installed wheel did not answer discovery:" >&2
  cat server.log >&2
  return 1
}

port=$(free_port)
RELAPSED_ALL_CDS_WORKERS=1 "$cli" serve --port "$port" > /dev/null 2> server.log &
server=$!
answers_discovery "$port"

# the Dockerfile's command (its environment: auth off here, there is no issuer to trust)
port=$(free_port)
RELAPSED_ALL_CDS_PORT=$port RELAPSED_ALL_CDS_WORKERS=1 RELAPSED_ALL_CDS_AUTH_ENABLED=false \
  RELAPSED_ALL_CDS_DATABASE_URL="sqlite:///$work/feedback.sqlite3" \
  venv/bin/gunicorn --config python:service.gunicorn_conf service.wsgi:app 2> server.log &
server=$!
answers_discovery "$port"
echo "wheel OK: installed outside the repository; --version, replay, serve and the Dockerfile's gunicorn command work"
