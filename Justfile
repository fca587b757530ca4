# Mailer — every task a developer runs. `just` lists them.

set shell := ["bash", "-euo", "pipefail", "-c"]

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() / "target")
bin := CARGO_TARGET_DIR / "debug"

# List the recipes
default:
    @just --list --unsorted

# Run the site and the worker together on the embedded default (SQLite, no Redis, mail to var/outbox); Ctrl-C stops both
run:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --bins
    "{{ bin }}/mailer" migrate
    trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT
    "{{ bin }}/mailer-worker" &
    "{{ bin }}/mailer" serve &
    # Stop everything when either process ends (or on Ctrl-C, which both receive too).
    wait -n

# Serve the web site only (applies migrations first)
serve *args:
    cargo run --bin mailer -- serve {{ args }}

# Run the background worker only
worker:
    cargo run --bin mailer-worker

# Apply migrations; `just migrate down --all`, `just migrate status`
migrate *args:
    cargo run --bin mailer -- migrate {{ args }}

# Run every test; suites needing PostgreSQL/Redis are skipped by name when those are unreachable (TEST_REQUIRE_SERVICES=1 makes that a failure)
test *args:
    #!/usr/bin/env bash
    set -euo pipefail
    export TEST_SKIP_LOG="$(mktemp)"
    trap 'rm -f "$TEST_SKIP_LOG"' EXIT
    # The integration suite starts the real binaries: build them first.
    cargo build --bins
    status=0
    cargo test --workspace {{ args }} || status=$?
    if [ -s "$TEST_SKIP_LOG" ]; then
        echo
        echo "SKIPPED because a service was unreachable ($(wc -l < "$TEST_SKIP_LOG") tests):"
        sort "$TEST_SKIP_LOG" | sed 's/^/  - /'
    fi
    exit $status

# Fuzz the JSON API with schemathesis (installed in its own virtualenv) against a fresh server
api-fuzz:
    .ci/schemathesis.sh

# Seed a million attempts for one user on PostgreSQL and time /reports (median of 9); BENCH_ATTEMPTS=N for another size
bench-reports:
    cargo build --bins
    TEST_REQUIRE_SERVICES=1 cargo test -p mailer-tests --test it reports::bench_reports -- --ignored --nocapture

# Formatting and clippy, warnings are errors
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code
fmt:
    cargo fmt --all

# Delivery benchmark: N deliveries (default 20,000) through postfix's smtp-sink, next to smtp-source's own rate in the same run, and the worker's peak RSS (needs PostgreSQL and Redis); dkim=ed25519|rsa signs every message
bench-delivery n="20000" dkim="":
    tests/bench/delivery.sh {{ n }} {{ dkim }}

# End-to-end story in Debian's chromium (playwright-core) against the real server and worker on the embedded default, twice: in English from Berlin, in Russian from Moscow; screenshots go to tests/screenshots/
e2e:
    E2E_LANG=en E2E_TZ=Europe/Berlin tests/e2e/run.sh
    E2E_LANG=ru E2E_TZ=Europe/Moscow tests/e2e/run.sh

# Load-test the cached home page, the blog and the signed-in pages (a user with 50,000 clients, a mailing of 100,000 deliveries) against a bare Poem handler in the same server (wrk, release build): req/s, p99, ratios to bare and to the cached home, server RSS. Embedded default, or PostgreSQL + Redis with BENCH_DATABASE_URL=postgres://user@host:port (a fresh database is made there and dropped) and BENCH_REDIS_URL=redis://host:port (a fresh key prefix); BENCH_CLIENTS=N for another size
bench-pages seconds="10" connections="32" threads="2" log="warn":
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v wrk >/dev/null; then
        apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    fi
    cargo build --release --example bench_pages
    dir="$(mktemp -d)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    base="http://127.0.0.1:$port"
    db_url="sqlite://$dir/mailer.db"
    pg_admin=""
    pg_name="mailer_bench_$$"
    prefix="bench$$"
    if [ -n "${BENCH_DATABASE_URL:-}" ]; then
        pg_admin="${BENCH_DATABASE_URL%/}/postgres"
        db_url="${BENCH_DATABASE_URL%/}/$pg_name"
        psql -q "$pg_admin" -c "CREATE DATABASE $pg_name" >/dev/null
    fi
    # Production mode wants a secret key; the embedded default makes its own.
    redis=(SECRET_KEY="${SECRET_KEY:-bench-pages-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}")
    [ -n "${BENCH_REDIS_URL:-}" ] && redis+=(REDIS_URL="$BENCH_REDIS_URL" MAILER_REDIS_PREFIX="$prefix")
    echo "seeding (${BENCH_CLIENTS:-50000} clients, a mailing of twice as many deliveries) on ${BENCH_DATABASE_URL:+PostgreSQL}${BENCH_DATABASE_URL:-SQLite}${BENCH_REDIS_URL:+ + Redis}"
    env -u REDIS_URL -u DATABASE_URL MAILER_DATA_DIR="$dir" MAILER_BIND="127.0.0.1:$port" \
        MAILER_LOG_LEVEL="{{ log }}" DATABASE_URL="$db_url" "${redis[@]}" \
        BENCH_SESSION_FILE="$dir/session" \
        "{{ CARGO_TARGET_DIR }}/release/examples/bench_pages" >"$dir/server.log" 2>&1 &
    pid=$!
    cleanup() {
        kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
        [ -n "$pg_admin" ] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_name" >/dev/null || true
        if [ -n "${BENCH_REDIS_URL:-}" ]; then
            redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "$prefix:*" | xargs -r redis-cli -u "$BENCH_REDIS_URL" del >/dev/null || true
        fi
        rm -rf "$dir"
    }
    trap cleanup EXIT
    for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && break; kill -0 $pid 2>/dev/null || break; sleep 0.3; done
    curl -sf "$base/healthz" >/dev/null || { cat "$dir/server.log"; exit 1; }
    session="$(sed -n 's/^cookie=//p' "$dir/session")"
    mailing="$(sed -n 's/^mailing=//p' "$dir/session")"
    # The CSRF cookie a browser would send back (without it each page makes a new one).
    csrf="$(curl -s -o /dev/null -D - -H "Cookie: $session" "$base/clients" | awk -F'[:;] *' 'tolower($1) == "set-cookie" && $2 ~ /^mailer_csrf=/ { print $2 }')"
    cookie="$session${csrf:+; $csrf}"
    # Warm the caches (the first view of each page computes it).
    for path in / /blog; do curl -sf -o /dev/null "$base$path"; done
    # The seed gives 200 clients besides BENCH_CLIENTS.
    last_page=$(( (${BENCH_CLIENTS:-50000} + 200 + 19) / 20 ))
    echo "wrk -t{{ threads }} -c{{ connections }} -d{{ seconds }}s, $(nproc) cores, server log level {{ log }}, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-26s %12s %10s %9s %9s %8s\n' page "requests/s" "p99 ms" "vs bare" "vs home" "X-Cache"
    bare_rps=""; home_rps=""
    for entry in "bare handler|/__bench/bare|" "bare, 3.8 KB body|/__bench/bare-3800|" "home (cached)|/|" \
        "blog list (cached)|/blog|" "blog post (counted)|/blog/warming-tip-1|" \
        "home, signed in|/|in" "/clients|/clients|in" "/clients search|/clients?q=person4242|in" \
        "/clients by e-mail desc|/clients?sort=email&dir=desc|in" "/clients last page|/clients?page=$last_page|in" \
        "/messages|/messages|in" "/mailings|/mailings|in" "/dashboard|/dashboard|in" "/reports|/reports|in" \
        "mailing page (100k)|/mailings/$mailing|in"; do
        name="${entry%%|*}"; rest="${entry#*|}"; path="${rest%%|*}"; signed="${rest#*|}"
        headers=()
        [ -n "$signed" ] && headers=(-H "Cookie: $cookie")
        code="$(curl -s -o /dev/null -w '%{http_code}' "${headers[@]}" "$base$path")"
        [ "$code" = 200 ] || echo "  $name: HTTP $code"
        out="$(wrk -t{{ threads }} -c{{ connections }} -d{{ seconds }}s --latency "${headers[@]}" "$base$path")"
        rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
        p99="$(awk '$1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
            f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.2f", v * f }' <<<"$out")"
        errors="$(awk '/Non-2xx|Socket errors/' <<<"$out")"
        [ -n "$errors" ] && echo "  $name: $errors"
        [ -z "$bare_rps" ] && bare_rps="$rps"
        [ "$path" = / ] && [ -z "$home_rps" ] && home_rps="$rps"
        ratio="$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
        of_home="-"
        [ -n "$home_rps" ] && of_home="$(awk -v a="$rps" -v b="$home_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
        cache="$(curl -s -o /dev/null -D - "${headers[@]}" "$base$path" | awk -F': ' 'tolower($1) == "x-cache" { gsub(/\r/, "", $2); print $2 }')"
        printf '%-26s %12s %10s %9s %9s %8s\n' "$name" "$rps" "$p99" "$ratio" "$of_home" "${cache:--}"
    done
    echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status) now, $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status) peak; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
