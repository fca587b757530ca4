#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis (from PyPI): starts `mailer serve` on the embedded
# default in a temporary folder on a free port, makes a verified account and an API token,
# and runs every check against the server's own OpenAPI document. Exits non-zero on any
# failure (a 5xx, a response that breaks the schema, valid data refused, invalid data
# accepted, …).
#
#   .ci/schemathesis.sh                 # builds the binaries first (cargo build --bins)
#   MAX_EXAMPLES=200 .ci/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mailer/schemathesis-venv}"
version="${SCHEMATHESIS_VERSION:-4.32.5}"
max_examples="${MAX_EXAMPLES:-50}"

# schemathesis in a virtualenv of its own, installed once (and again when the pin moves).
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi
"$venv/bin/schemathesis" --version

cargo build --bins --quiet
mailer="$CARGO_TARGET_DIR/debug/mailer"

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export MAILER_DATA_DIR="$work" DATABASE_URL="sqlite://$work/mailer.db" MAILER_LOG_LEVEL=warn
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

MAILER_SUPERUSER_PASSWORD="schemathesis-$(date +%s%N)" \
    "$mailer" createsuperuser --email fuzz@example.com >/dev/null 2>&1
token=$("$mailer" token create --email fuzz@example.com --name schemathesis 2>/dev/null)

"$mailer" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

status=0
"$venv/bin/schemathesis" --config-file "$root/.ci/schemathesis.toml" run \
    "http://127.0.0.1:$port/api/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks all \
    --max-examples "$max_examples" \
    --seed "${SEED:-20261125}" \
    --no-color || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 50 lines) ---" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit $status
