#!/usr/bin/env bash
# The load run of docs/benchmarks.md ("Load: a province's working day"), end to end:
#
#   benchmarks/load/run.sh                      # 30 minutes, 50 users, gunicorn 2 workers × 4 threads
#   DURATION=3m USERS=60 benchmarks/load/run.sh # a short tuning run
#
# 1. a persistent PostgreSQL 15 cluster under $LOADPG (default /tmp/loadpg, port $PGPORT 5444), made on first use
#    with the settings of scripts/with-postgres (C collation, C.UTF-8 ctype) and a server's memory settings;
#    left running at the end (stop it with: runuser -u postgres -- pg_ctl -D /tmp/loadpg/data stop);
# 2. the demo at $DEMO_GROUPS groups (default 100000, seed 7) unless the database already holds it, then ANALYZE;
# 3. benchmarks/load/setup.py (logins, samples, API tokens) and collectstatic;
# 4. gunicorn ($WORKERS workers × $THREADS threads (gthread), persistent connections: CONN_MAX_AGE 60 from settings) and the
#    task worker, as docs/operations.md describes, with DEBUG=0;
# 5. locust headless (benchmarks/load/locustfile.py) for $DURATION with $USERS users, spawned $SPAWN_RATE a second,
#    while every 30 s the RSS of gunicorn's workers and the task worker goes to rss.csv;
# 6. stops gunicorn, the worker and the sampler (not the cluster). Results in $OUT (default var/load/<time>/):
#    locust_stats.csv (per request type: count, failures, p50/p95/p99), locust_stats_history.csv, report.html,
#    rss.csv, gunicorn.log, summary.txt.
#
# Traffic goes to 127.0.0.1 only, and the run stops by itself after $DURATION.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECKOUT=$(pwd)
# The server runs from a snapshot of a commit ($REF, default HEAD) so that edits in progress in the checkout
# neither break nor colour the run; the front-end vendor files (built by npm, not in git) are copied beside it.
REF=${REF:-HEAD}
ROOT=${SRC:-/tmp/loadpg-src}
case "$ROOT" in /tmp/?*) rm -rf "$ROOT" ;; *) [ -e "$ROOT" ] && { echo "SRC=$ROOT exists and is not under /tmp: not replacing it" >&2; exit 1; } ;; esac
mkdir -p "$ROOT"
git -C "$CHECKOUT" archive "$REF" | tar -x -C "$ROOT"
cp -a "$CHECKOUT/jiketong/static/vendor" "$ROOT/jiketong/static/" 2>/dev/null || true
cd "$ROOT"
export PYTHONPATH=$ROOT
PY=${PY:-$CHECKOUT/.venv/bin/python}
LOCUST=${LOCUST:-$CHECKOUT/.venv/bin/locust}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PGPORT=${PGPORT:-5444}
LOADPG=${LOADPG:-/tmp/loadpg}
DEMO_GROUPS=${DEMO_GROUPS:-100000}
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
USERS=${USERS:-50}
SPAWN_RATE=${SPAWN_RATE:-5}
DURATION=${DURATION:-30m}
BIND=${BIND:-127.0.0.1:8100}
OUT=${OUT:-$CHECKOUT/var/load/$(date +%Y%m%d-%H%M%S)}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:$PGPORT/jiketong}
export JIKETONG_VAR_DIR=${JIKETONG_VAR_DIR:-$LOADPG-var}
export DEBUG=0
mkdir -p "$OUT" "$JIKETONG_VAR_DIR"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# --- 1. the cluster -----------------------------------------------------------------------------------------
if ! as_pg "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
  if [ ! -d "$LOADPG/data" ]; then
    mkdir -p "$LOADPG"
    [ "$(id -u)" = 0 ] && chown postgres: "$LOADPG"
    as_pg "$PGBIN/initdb" -D "$LOADPG/data" -U postgres --auth=trust --encoding=UTF8 --lc-collate=C \
      --lc-ctype=C.UTF-8 >/dev/null
  fi
  # fsync off only speeds up the demo load; reads and the run's small writes are what is measured.
  as_pg "$PGBIN/pg_ctl" -D "$LOADPG/data" -l "$LOADPG/log" -w start -o "-p $PGPORT -k $LOADPG \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c shared_buffers=2GB -c work_mem=32MB -c effective_cache_size=12GB -c random_page_cost=1.1 \
    -c maintenance_work_mem=512MB -c max_connections=200 -c shared_preload_libraries=pg_stat_statements" >/dev/null
  as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='jiketong'" \
    | grep -q 1 || as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres jiketong
fi

# --- 2. the data ------------------------------------------------------------------------------------------
"$PY" -m jiketong migrate --noinput -v0
have=$("$PY" -m jiketong shell -c "from jiketong.customers.models import Customer; print(Customer.objects.count())" | tail -n 1)
if [ "$have" -lt $((DEMO_GROUPS * 95 / 100)) ]; then
  reset=""; [ "$have" -gt 0 ] && reset="--reset"
  "$PY" -m jiketong demo --groups "$DEMO_GROUPS" --seed 7 $reset | tail -n 3
  as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres jiketong -qc "VACUUM ANALYZE"
fi

# --- 3. logins and static files ------------------------------------------------------------------------------
"$PY" -m jiketong collectstatic --noinput -v0
"$PY" benchmarks/load/setup.py --out "$OUT/personas.json"

# --- 4. the server and the task worker -------------------------------------------------------------------------
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$CHECKOUT/.venv/bin/gunicorn" jiketong.wsgi --workers "$WORKERS" --threads "$THREADS" --bind "$BIND" \
  --timeout 60 --keep-alive 5 ${ACCESS_LOG:+--access-logfile -} --error-logfile - >"$OUT/gunicorn.log" 2>&1 &
gunicorn_pid=$!
pids+=("$gunicorn_pid")
"$PY" -m jiketong worker >"$OUT/worker.log" 2>&1 &
worker_pid=$!
pids+=("$worker_pid")
for _ in $(seq 60); do curl -fs "http://$BIND/healthz" >/dev/null && break; sleep 1; done
curl -fs "http://$BIND/healthz" >/dev/null || { echo "gunicorn did not answer /healthz" >&2; exit 1; }

# --- 5. RSS samples and locust ---------------------------------------------------------------------------------
(
  echo "time,elapsed_s,process,pid,rss_mib"
  start=$(date +%s)
  while kill -0 "$gunicorn_pid" 2>/dev/null; do
    now=$(date +%s)
    for pid in $(pgrep -P "$gunicorn_pid"); do
      echo "$(date -u +%H:%M:%S),$((now - start)),gunicorn worker,$pid,$(ps -o rss= -p "$pid" | awk '{printf "%.1f", $1/1024}')"
    done
    echo "$(date -u +%H:%M:%S),$((now - start)),task worker,$worker_pid,$(ps -o rss= -p "$worker_pid" | awk '{printf "%.1f", $1/1024}')"
    sleep 30
  done
) >"$OUT/rss.csv" &
pids+=("$!")

# Which statements the run's time goes to (pg_stat_statements, loaded at the cluster's start above).
psql_q() { as_pg "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres jiketong -qAt "$@"; }
psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null 2>&1 \
  || echo "pg_stat_statements is not loaded (a cluster started before run.sh had it): no statement figures" >&2
{
  echo "load run $(date -u +%FT%TZ): $DEMO_GROUPS groups, gunicorn $WORKERS×$THREADS, $USERS users, $DURATION"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/summary.txt"
pg_pid=$(head -n 1 "$LOADPG/data/postmaster.pid" 2>/dev/null || true)
snapshot() { "$PY" benchmarks/load/cpu.py snapshot gunicorn="$gunicorn_pid" postgres="$pg_pid" worker="$worker_pid" locust=$$; }
snapshot >"$OUT/cpu-before.json"
started=$(date +%s)
"$LOCUST" -f benchmarks/load/locustfile.py --host "http://$BIND" --personas "$OUT/personas.json" --headless \
  -u "$USERS" -r "$SPAWN_RATE" -t "$DURATION" --stop-timeout 10 --csv "$OUT/locust" --csv-full-history \
  --html "$OUT/report.html" --only-summary --loglevel WARNING 2>&1 | tail -n 80 | tee -a "$OUT/summary.txt" || true
snapshot >"$OUT/cpu-after.json"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/summary.txt"
requests=$(awk -F, '$2 == "\"Aggregated\"" || $2 == "Aggregated" {print $3}' "$OUT/locust_stats.csv" | tail -n 1)
"$PY" benchmarks/load/cpu.py report "$OUT/cpu-before.json" "$OUT/cpu-after.json" "${requests:-0}" \
  "$(($(date +%s) - started))" | tee -a "$OUT/summary.txt"
psql_q -F ' | ' -c "SELECT round(total_exec_time)::int AS total_ms, calls, round(mean_exec_time::numeric, 2) AS mean_ms,
  left(regexp_replace(query, '\s+', ' ', 'g'), 220) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25" \
  >"$OUT/top-statements.txt" 2>/dev/null || true
echo "gunicorn log: $(grep -ciE 'error|exception|timeout' "$OUT/gunicorn.log" || true) lines naming an error or timeout" >>"$OUT/summary.txt"
echo "results in $OUT"
