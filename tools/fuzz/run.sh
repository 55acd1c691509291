#!/usr/bin/env bash
# Contract fuzzing: schemathesis (a tool nobody here wrote) reads the live server's OpenAPI document
# and attacks every /s3 path with valid and invalid input. Fails on a 5xx, an answer that breaks its
# documented status, content type, headers or schema, an invalid input that is accepted, or a stack
# trace in an answer. It starts the API itself on a free loopback port over a temporary folder and
# stops it afterwards. Tune with FUZZ_MAX_TIME (seconds, default 120) and FUZZ_MAX_EXAMPLES
# (cases per operation and phase, default 60); FUZZ_SEED replays a run. Extra arguments go to
# `st run`, e.g. `--include-operation-id startUpload`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

SCHEMATHESIS_VERSION=4.32.5
venv=tools/fuzz/.venv
max_time=${FUZZ_MAX_TIME:-120}
max_examples=${FUZZ_MAX_EXAMPLES:-60}
report_dir=tools/fuzz/report

# schemathesis lives in its own virtualenv, pinned, so CI and a laptop run the same fuzzer.
if [[ ! -x $venv/bin/st ]] || ! "$venv/bin/pip" show schemathesis 2>/dev/null | grep -qx "Version: $SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
work=$(mktemp -d)
base="http://127.0.0.1:$port"
server_pid=""

stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

# A clean environment: the development server over a fresh local-disk store, whatever the caller's
# shell has set (no S3 bucket, no auth, no file-size limit), so every run attacks the same server.
# The rate limits are off: thousands of requests from one address are the point here.
env -i PATH="$PATH" HOME="$HOME" \
  NODE_ENV=development HOST=127.0.0.1 PORT="$port" STORAGE=local STORAGE_DIR="$work/data" LOG_LEVEL=warn \
  RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_WORKSPACE=0 \
  "$root/node_modules/.bin/tsx" --conditions=@s3-service/source apps/api/src/main.ts >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
  if python3 -c "import urllib.request, sys; urllib.request.urlopen('$base/healthz', timeout=1)" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "fuzz: the API did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.5
done

# One stored object, offered to the download operation through the config (see seed.py).
cp tools/fuzz/schemathesis.toml "$work/schemathesis.toml"
python3 tools/fuzz/seed.py "$base" >>"$work/schemathesis.toml"
# Its crash store (for `st replay`) stays beside the script, not at the repository's root.
printf '\n[cache]\ndirectory = "%s"\n' "$root/tools/fuzz/.cache" >>"$work/schemathesis.toml"

echo "fuzz: schemathesis $SCHEMATHESIS_VERSION against $base/s3/openapi.json (max ${max_time}s, ${max_examples} examples)"
seed_args=()
if [[ -n ${FUZZ_SEED:-} ]]; then seed_args=(--seed "$FUZZ_SEED"); fi
set +e
# Run from the temporary folder: hypothesis keeps its example database in the working directory.
(cd "$work" && SCHEMATHESIS_HOOKS="$root/tools/fuzz/hooks.py" "$root/$venv/bin/st" --config-file "$work/schemathesis.toml" run \
  "$base/s3/openapi.json" \
  --max-time "$max_time" \
  --max-examples "$max_examples" \
  --report junit --report-dir "$root/$report_dir" \
  "${seed_args[@]}" "$@") | cut -c1-2000
# A failing case may carry megabytes of body, so lines are cut; the verdict is st's own status.
status=${PIPESTATUS[0]}
set -e

# The server must have lived through the run; whatever it logged as an error is the evidence of a bug.
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "fuzz: the API died during the run; its last words:" >&2
  tail -40 "$work/server.log" >&2
  status=1
fi
if grep -q '"level":[56]0' "$work/server.log"; then
  echo "fuzz: the API logged errors during the run:" >&2
  grep '"level":[56]0' "$work/server.log" | head -20 >&2
  status=1
fi
exit "$status"
