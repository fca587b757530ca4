#!/usr/bin/env bash
# `just e2e`: the whole story in a real browser against the real server and worker on the
# embedded default (SQLite, no Redis, mail to the outbox), in a fresh folder on a free port.
# The processes are always stopped; their logs are printed when the story fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${CARGO_TARGET_DIR:-$repo/target}/debug"

apt_install() { apt-get install -y "$@" || { apt-get update && apt-get install -y "$@"; }; }
command -v chromium >/dev/null || apt_install chromium
command -v npm >/dev/null || apt_install nodejs npm
[ -d "$here/node_modules/playwright-core" ] || (cd "$here" && npm ci --no-audit --no-fund)
cargo build --bins

work="$(mktemp -d -t mailer-e2e.XXXXXX)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
pids=()
stop() {
    status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${E2E_LOGS:-}" ]; then mkdir -p "$E2E_LOGS" && cp "$work"/*.log "$E2E_LOGS"/ 2>/dev/null || true; fi
    if [ "$status" -ne 0 ]; then
        echo "--- server log (last 40 lines)"; tail -n 40 "$work/server.log" 2>/dev/null || true
        echo "--- worker log (last 40 lines)"; tail -n 40 "$work/worker.log" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap stop EXIT INT TERM

# No mailer.toml, no DATABASE_URL: the embedded default, with var/ inside the fresh folder.
cd "$work"
unset DATABASE_URL REDIS_URL SMTP_URL SECRET_KEY MAILER_CONFIG
export MAILER_BIND="127.0.0.1:$port" MAILER_TEMPLATES_DIR="$repo/templates"
export E2E_STAFF_PASSWORD="e2e-staff-$(date +%s)-harbour"
MAILER_SUPERUSER_PASSWORD="$E2E_STAFF_PASSWORD" "$bin/mailer" createsuperuser --email manager@example.com --role manager >/dev/null
MAILER_SUPERUSER_PASSWORD="$E2E_STAFF_PASSWORD" "$bin/mailer" createsuperuser --email writer@example.com --role content-manager >/dev/null

# The server first (it applies the migrations), the worker once the site answers.
"$bin/mailer" serve >"$work/server.log" 2>&1 & pids+=($!)
for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null
"$bin/mailer-worker" >"$work/worker.log" 2>&1 & pids+=($!)

E2E_BASE_URL="http://127.0.0.1:$port" E2E_OUTBOX="$work/var/outbox" \
E2E_SCREENSHOTS="${E2E_SCREENSHOTS:-$repo/tests/screenshots}" node "$here/story.mjs"
