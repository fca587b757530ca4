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

# Load-test the cached home page and blog list against a bare Poem handler in the same server (wrk, release build, embedded default): req/s, p99, ratio to bare, server RSS
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
    env -u REDIS_URL -u DATABASE_URL MAILER_DATA_DIR="$dir" MAILER_BIND="127.0.0.1:$port" \
        MAILER_LOG_LEVEL="{{ log }}" DATABASE_URL="sqlite://$dir/mailer.db" \
        "{{ CARGO_TARGET_DIR }}/release/examples/bench_pages" >"$dir/server.log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
    for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.3; done
    curl -sf "$base/healthz" >/dev/null || { cat "$dir/server.log"; exit 1; }
    # Warm the caches (the first view of each page computes it).
    for path in / /blog; do curl -sf -o /dev/null "$base$path"; done
    echo "wrk -t{{ threads }} -c{{ connections }} -d{{ seconds }}s, $(nproc) cores, server log level {{ log }}"
    printf '%-22s %12s %10s %9s %8s\n' page "requests/s" "p99 ms" "vs bare" "X-Cache"
    bare_rps=""
    for entry in "bare handler|/__bench/bare" "bare, 3.8 KB body|/__bench/bare-3800" "home (cached)|/" "blog list (cached)|/blog" "blog post (counted)|/blog/warming-tip-1"; do
        name="${entry%%|*}"; path="${entry#*|}"
        out="$(wrk -t{{ threads }} -c{{ connections }} -d{{ seconds }}s --latency "$base$path")"
        rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
        p99="$(awk '$1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
            f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.2f", v * f }' <<<"$out")"
        errors="$(awk '/Non-2xx|Socket errors/' <<<"$out")"
        [ -n "$errors" ] && echo "  $name: $errors"
        [ -z "$bare_rps" ] && bare_rps="$rps"
        ratio="$(awk -v a="$rps" -v b="$bare_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
        cache="$(curl -s -o /dev/null -D - "$base$path" | awk -F': ' 'tolower($1) == "x-cache" { gsub(/\r/, "", $2); print $2 }')"
        printf '%-22s %12s %10s %9s %8s\n' "$name" "$rps" "$p99" "$ratio" "${cache:--}"
    done
    echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status) now, $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status) peak"
