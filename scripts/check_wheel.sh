#!/usr/bin/env bash
# The wheel as a hospital installs it: built, installed (at the versions of constraints.txt) in
# a clean venv outside the repository, and run from another folder: `--version`, a replay of a
# fixture, and `serve` until discovery answers. Needs .venv (scripts/setup.sh) to build with.
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

port=$(venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RELAPSED_ALL_CDS_WORKERS=1 "$cli" serve --port "$port" > serve.out 2> serve.log &
server=$!
for _ in $(seq 1 300); do
  if venv/bin/python -c "import json, sys, urllib.request
services = json.load(urllib.request.urlopen('http://127.0.0.1:$port/cds-services', timeout=2))
sys.exit(not services['services'])" 2>/dev/null; then
    echo "wheel OK: installed outside the repository, replay and serve (discovery on port $port) work"
    exit 0
  fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.2
done
echo "serve from the installed wheel did not answer discovery:" >&2
cat serve.log >&2
exit 1
