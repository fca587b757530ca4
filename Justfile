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

# Delivery benchmark: N deliveries (default 20,000) through postfix's smtp-sink, next to smtp-source's own rate in the same run, and the worker's peak RSS (needs PostgreSQL and Redis)
bench-delivery n="20000":
    tests/bench/delivery.sh {{ n }}

# End-to-end story in Debian's chromium (playwright-core) against the real server and worker on the embedded default; screenshots go to tests/screenshots/
e2e:
    tests/e2e/run.sh
