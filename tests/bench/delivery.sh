#!/usr/bin/env bash
# `just bench-delivery [N] [ed25519|rsa]`: how fast mailer-worker sends, next to what the SMTP
# sink itself takes in the same run; with a second argument (or BENCH_DKIM), every message
# is DKIM-signed with a key `mailer dkim generate` makes for the run.
#
# 1. postfix's smtp-sink listens on a free port (Debian's postfix package, installed if
#    missing; the postfix daemon itself is never started).
# 2. smtp-source sends N messages to it over 10 kept-open connections (-d), three times: the
#    best run is the sink's rate.
# 3. A fresh PostgreSQL database and Redis prefix get one user, N clients, a message and one
#    due mailing; the release mailer-worker (10 SMTP connections) sends it through the same
#    sink. Its rate is N over the span from the first attempt to the last (from the attempt
#    log), its peak RSS comes from /proc (VmHWM), and the CPU time it and its PostgreSQL
#    backends used per delivery from /proc/<pid>/stat (and smtp-sink's, and the machine's idle
#    and stolen time from /proc/stat).
# Knobs: BENCH_WORKERS (mailer-worker processes sharing the mailing, default 1; the run
# also counts recipients with two successful attempts), BENCH_CONCURRENCY (the worker's deliveries in flight, default 256),
# BENCH_THREADS (its Tokio threads), BENCH_PG_SSLMODE (default disable: a local database),
# BENCH_DKIM (ed25519 or rsa: sign every message), BENCH_MESSAGE (personal, the default: a
# personalised Markdown message sent as text + HTML; plain: one text for all), BENCH_PROFILE (default release; debug
# checks the script quickly, its figures mean nothing),
# BENCH_LOG_LEVEL and BENCH_KEEP_LOG=<file> (keep its log;
# `BENCH_LOG_LEVEL=warn,mailer::delivery=debug` logs each group's claim, send and record times).
# Everything it made (database, Redis keys, processes, temp dir) is removed at the end.
set -euo pipefail

N="${1:-20000}"
DKIM="${2:-${BENCH_DKIM:-}}"
case "$DKIM" in
    "" | ed25519 | rsa) ;;
    *) echo "DKIM algorithm must be ed25519 or rsa, not $DKIM"; exit 1 ;;
esac
PROFILE="${BENCH_PROFILE:-release}"
CONNECTIONS=10
CONCURRENCY="${BENCH_CONCURRENCY:-256}"
PG="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
TARGET="${CARGO_TARGET_DIR:-target}"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need smtp-sink || ! need smtp-source; then
    echo "installing postfix for smtp-sink and smtp-source…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends postfix >/dev/null
fi
need psql || { echo "psql is needed (postgresql-client)"; exit 1; }
pg_isready -h 127.0.0.1 -q || { echo "PostgreSQL is not up on 127.0.0.1:5432"; exit 1; }
redis-cli -u "$REDIS" ping >/dev/null || { echo "Redis is not up at $REDIS"; exit 1; }

if [ "$PROFILE" = release ]; then
    cargo build --release --bins --quiet
else
    cargo build --bins --quiet
fi
BIN="$TARGET/$PROFILE"

WORK="$(mktemp -d)"
DB="mailer_bench_$$"
PREFIX="mailer-bench-$$"
SINK_PID=""
WORKER_PIDS=()
WORKERS="${BENCH_WORKERS:-1}"
cleanup() {
    for pid in "${WORKER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    redis-cli -u "$REDIS" --scan --pattern "$PREFIX:*" | xargs -r -n 500 redis-cli -u "$REDIS" del >/dev/null
    [ -n "${BENCH_KEEP_LOG:-}" ] && cat "$WORK"/worker*.log > "$BENCH_KEEP_LOG"
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" -m 256 "127.0.0.1:$PORT" 1024 &
SINK_PID=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

# CPU seconds (user + system) of processes, from /proc/<pid>/stat.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ t += ($14 + $15) / hz } END { printf "%.3f", t }' "$@" 2>/dev/null || echo 0; }
sink_cpu() { cpu_of "/proc/$SINK_PID/stat"; }
# The machine's idle and steal time (a VM's other tenants) in /proc/stat, in ticks.
machine() { awk '/^cpu / { print $5 + $6, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# Percent of the machine idle / stolen between two readings of machine().
share() { python3 -c "print(round(100 * ($2 - $1) / max(1, $4 - $3)))"; }

# Three runs, the best counts: the sink's rate is the reference, and on a shared machine
# a single run is sometimes a quarter slower than the next.
SOURCE_RUNS=3
echo "== smtp-source: $N messages, $CONNECTIONS connections, best of $SOURCE_RUNS =="
sink_cpu0=$(sink_cpu)
read -r idle0 steal0 total0 <<<"$(machine)"
SOURCE_RATES=()
for _ in $(seq "$SOURCE_RUNS"); do
    start=$(date +%s.%N)
    smtp-source -d -s "$CONNECTIONS" -m "$N" -l 600 -f bench@example.com -t sink@example.com "127.0.0.1:$PORT"
    end=$(date +%s.%N)
    SOURCE_RATES+=("$(python3 -c "print(round($N / ($end - $start)))")")
done
read -r idle1 steal1 total1 <<<"$(machine)"
SOURCE_RATE=$(printf '%s\n' "${SOURCE_RATES[@]}" | sort -n | tail -1)
SOURCE_SINK_US=$(python3 -c "print(round(($(sink_cpu) - $sink_cpu0) * 1e6 / ($N * $SOURCE_RUNS)))")
SOURCE_MACHINE="$(share "$idle0" "$idle1" "$total0" "$total1")% idle, $(share "$steal0" "$steal1" "$total0" "$total1")% stolen"
echo "smtp-source: ${SOURCE_RATES[*]} messages/s"

echo "== mailer-worker: $N deliveries =="
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
export DATABASE_URL="$PG/$DB?sslmode=${BENCH_PG_SSLMODE:-disable}" REDIS_URL="$REDIS" MAILER_REDIS_PREFIX="$PREFIX"
export SECRET_KEY="bench-secret-key-bench-secret-key-0123456789" MAILER_DATA_DIR="$WORK"
export SMTP_URL="smtp://127.0.0.1:$PORT" MAILER_LOG_LEVEL="${BENCH_LOG_LEVEL:-warn}"
export MAILER_WORKER__SMTP_CONNECTIONS="$CONNECTIONS" MAILER_WORKER__CONCURRENCY="$CONCURRENCY"
export MAILER_WORKER__TICK_INTERVAL_SECS=1 MAILER_WORKER__POLL_INTERVAL_MS=50
if [ -n "$DKIM" ]; then
    "$BIN/mailer" dkim generate --selector bench --domain example.com --algorithm "$DKIM" \
        --out "$WORK/dkim.pem" >/dev/null 2>&1
    export MAILER_DKIM__SELECTOR=bench MAILER_DKIM__DOMAIN=example.com MAILER_DKIM__KEY_FILE="$WORK/dkim.pem"
fi
"$BIN/mailer" migrate >/dev/null
MAILER_SUPERUSER_PASSWORD="Quartz-Lantern-$$-Fjord" "$BIN/mailer" createsuperuser --email bench@example.com >/dev/null
q() { psql "$DATABASE_URL" -qAtc "$1"; }
UID_=$(q "SELECT id FROM users WHERE email = 'bench@example.com'")
# BENCH_MESSAGE=personal (the default): a personalised Markdown message (the client's name
# in the subject and the body, paragraphs, a link, a list), sent as text + HTML;
# plain: the same text for everybody, no template tags (what every run measured before
# templates).
case "${BENCH_MESSAGE:-personal}" in
    personal)
        SUBJECT='News for {{ client.full_name }}'
        BODY='Dear {{ client.full_name }},

Our **autumn sale** starts today: everything in the shop is 20% off until the end of the
month, and delivery is free for orders over 50 euros.

What is new this season:

- warm wool jumpers in six colours
- waterproof boots, made to last
- scarves and hats to match

[Visit the shop](https://shop.example.com/autumn) and find your size before it is gone.
We send this to {{ client.email }} because you asked for our news.

Thank you for staying with us,
the shop team'
        ;;
    plain)
        SUBJECT='Benchmark'
        BODY="$(python3 -c "print('Hello, this is the benchmark. ' * 20)")"
        ;;
    *) echo "BENCH_MESSAGE must be personal or plain"; exit 1 ;;
esac
MID=$(psql "$DATABASE_URL" -qAt -v subject="$SUBJECT" -v body="$BODY" <<'SQL' | head -1
INSERT INTO messages (owner_id, subject, body, created_at, updated_at)
VALUES ((SELECT id FROM users WHERE email = 'bench@example.com'), :'subject', :'body', now(), now())
RETURNING id
SQL
)
q "INSERT INTO clients (owner_id, email, full_name, comment, created_at, updated_at)
   SELECT $UID_, 'c' || g || '@example.com', 'Client ' || g, '', now(), now()
   FROM generate_series(1, $N) g" >/dev/null
# Not due yet: the worker is started first, then the mailing becomes due.
MAILING=$(q "INSERT INTO mailings (owner_id, message_id, start_at, end_at, periodicity, status,
                                   is_enabled, next_run_at, created_at, updated_at)
             VALUES ($UID_, $MID, now() - interval '1 minute', now() + interval '1 day', 'once',
                     'created', true, now() + interval '1 day', now(), now())
             RETURNING id" | head -1)
q "INSERT INTO mailing_clients (mailing_id, client_id)
   SELECT $MAILING, id FROM clients WHERE owner_id = $UID_" >/dev/null
# Statistics as autovacuum keeps them on a database in use (a fresh table has none, and
# the planner then scans the whole table for a handful of ids).
q "ANALYZE" >/dev/null

# BENCH_THREADS: the worker's Tokio threads (default: one per core).
[ -n "${BENCH_THREADS:-}" ] && export TOKIO_WORKER_THREADS="$BENCH_THREADS"
for w in $(seq "$WORKERS"); do
    "$BIN/mailer-worker" > "$WORK/worker$w.log" 2>&1 &
    WORKER_PIDS+=($!)
done
sleep 1
worker_cpu() {
    local stats=()
    for pid in "${WORKER_PIDS[@]}"; do stats+=("/proc/$pid/stat"); done
    cpu_of "${stats[@]}"
}
pg_cpu() {
    local stats=()
    for pid in $(pgrep -f "postgres: .* $DB "); do stats+=("/proc/$pid/stat"); done
    [ ${#stats[@]} -gt 0 ] && cpu_of "${stats[@]}" || echo 0
}
worker_cpu0=$(worker_cpu)
pg_cpu0=$(pg_cpu)
sink_cpu0=$(sink_cpu)
read -r idle0 steal0 total0 <<<"$(machine)"
DUE=$(q "UPDATE mailings SET next_run_at = now() WHERE id = $MAILING RETURNING extract(epoch FROM now())" | head -1)
start=$(date +%s.%N)
deadline=$(( $(date +%s) + 600 ))
while :; do
    # Done once the occurrence was taken (a once-mailing's next run is cleared), its
    # fan-out finished and nothing is pending: three index probes, however many rows.
    left=$(q "SELECT (SELECT next_run_at IS NOT NULL FROM mailings WHERE id = $MAILING)
                  OR EXISTS (SELECT 1 FROM fan_outs)
                  OR EXISTS (SELECT 1 FROM deliveries WHERE status = 'pending')")
    [ "$left" = f ] && break
    if [ "$(date +%s)" -gt "$deadline" ]; then
        done_=$(q "SELECT count(*) FROM deliveries WHERE mailing_id = $MAILING AND status <> 'pending'")
        echo "gave up at $done_ of $N deliveries"; tail -20 "$WORK/worker1.log"; exit 1
    fi
    for pid in "${WORKER_PIDS[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "a worker died"; tail -20 "$WORK"/worker*.log; exit 1
        fi
    done
    # Seldom: every poll is a psql process and a TLS handshake, CPU the worker and its
    # database would otherwise have (the rate comes from the attempt log, not from this).
    sleep 1
done
end=$(date +%s.%N)
read -r idle1 steal1 total1 <<<"$(machine)"
WORKER_MACHINE="$(share "$idle0" "$idle1" "$total0" "$total1")% idle, $(share "$steal0" "$steal1" "$total0" "$total1")% stolen"
SINK_US=$(python3 -c "print(round(($(sink_cpu) - $sink_cpu0) * 1e6 / $N))")
WORKER_US=$(python3 -c "print(round(($(worker_cpu) - $worker_cpu0) * 1e6 / $N))")
PG_US=$(python3 -c "print(round(($(pg_cpu) - $pg_cpu0) * 1e6 / $N))")
RSS_KB=0
for pid in "${WORKER_PIDS[@]}"; do
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    [ "$kb" -gt "$RSS_KB" ] && RSS_KB=$kb
done
read -r SENT FAILED SPAN FIRST <<<"$(q "SELECT count(*) FILTER (WHERE status = 'success'),
                                        count(*) FILTER (WHERE status = 'failure'),
                                        extract(epoch FROM max(attempted_at) - min(attempted_at)),
                                        extract(epoch FROM min(attempted_at)) - $DUE
                                 FROM attempts WHERE mailing_id = $MAILING" | tr '|' ' ')"
TWICE=$(q "SELECT count(*) FROM (SELECT client_id FROM attempts WHERE mailing_id = $MAILING
                                 AND status = 'success' GROUP BY client_id HAVING count(*) > 1) t")
# The rate over each tenth of the attempts, first to last: a flat rate keeps them alike.
TENTHS=$(q "SELECT string_agg(round(n / greatest(extract(epoch FROM last - first), 0.001))::text, ' ' ORDER BY tenth)
            FROM (SELECT tenth, count(*) AS n, min(attempted_at) AS first, max(attempted_at) AS last
                  FROM (SELECT attempted_at, ntile(10) OVER (ORDER BY attempted_at) AS tenth
                        FROM attempts WHERE mailing_id = $MAILING) a GROUP BY tenth) t")
OUR_RATE=$(python3 -c "print(round($SENT / $SPAN))")
WALL=$(python3 -c "print(round($end - $start, 1))")
RATIO=$(python3 -c "print(round(100 * $OUR_RATE / $SOURCE_RATE))")
echo
printf '%-34s %s\n' "deliveries sent / failed" "$SENT / $FAILED"
printf '%-34s %s\n' "workers" "$WORKERS (recipients sent to twice: $TWICE)"
printf '%-34s %s\n' "DKIM" "${DKIM:-off}"
printf '%-34s %s\n' "message" "${BENCH_MESSAGE:-personal}"
printf '%-34s %s\n' "smtp-source ($CONNECTIONS connections)" "$SOURCE_RATE messages/s (best of ${SOURCE_RATES[*]})"
printf '%-34s %s\n' "mailer-worker ($CONNECTIONS connections)" "$OUR_RATE messages/s (first to last attempt)"
printf '%-34s %s\n' "ratio" "$RATIO% of smtp-source"
printf '%-34s %s\n' "due → first attempt" "$(python3 -c "print(round($FIRST, 2))") s"
printf '%-34s %s\n' "due → all done (incl. fan-out)" "$WALL s"
printf '%-34s %s\n' "rate per tenth of the attempts" "$TENTHS messages/s"
printf '%-34s %s\n' "CPU per delivery" "worker ${WORKER_US} µs, PostgreSQL ${PG_US} µs (incl. fan-out), smtp-sink ${SINK_US} µs"
printf '%-34s %s\n' "smtp-sink CPU per message" "${SOURCE_SINK_US} µs under smtp-source"
printf '%-34s %s\n' "machine (idle, stolen by the host)" "smtp-source: $SOURCE_MACHINE; mailer-worker: $WORKER_MACHINE"
printf '%-34s %s\n' "worker peak RSS" "$((RSS_KB / 1024)) MiB"
