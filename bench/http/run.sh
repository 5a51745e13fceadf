#!/usr/bin/env bash
# HTTP benchmark of kefu: POST /api/v1/aftersales/evaluate and POST /api/v1/aftersales/applications
# against `kefu serve --workers 2` on a fresh SQLite database, driven by wrk.
#
#   bench/http/run.sh            # about 2 minutes; prints the table, keeps bench/results/http-*/
#
# Uses the shared harness ../shared/bench (lib.sh: wrk_phase, RSS sampler, server CPU per phase,
# stop_tree; lua/post_json.lua, lua/common.lua; report.py). Knobs (environment):
#   PORT=18765 WORKERS=2 WRK_THREADS=2 WRK_CONNS=32 WRK_DURATION=15 WRK_TIMEOUT=30s
#   ORDERS=60000        eligible orders imported for the submit phase (each is used once)
#   CASE=../shared/cases/aftersales/pub-001.json   body of the evaluate phase
#   ACCESS_LOG=0        1 = keep uvicorn's access log on (it costs throughput)
#   PHASES="evaluate submit"   KEEP_DB=1 (keep the temp dir with the database)
#   BENCH_SHARED=../shared/bench
#   PROFILE=1           py-spy (.venv/bin/pip install py-spy) samples every worker during each
#                       phase: $RESULTS/<phase>-<pid>.txt (collapsed stacks); summarize with
#                       bench/http/top_frames.py (profiling costs some throughput)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH_SHARED="${BENCH_SHARED:-$REPO/../shared/bench}"
PORT="${PORT:-18765}"
WORKERS="${WORKERS:-2}"
export WRK_THREADS="${WRK_THREADS:-2}" WRK_CONNS="${WRK_CONNS:-32}" WRK_DURATION="${WRK_DURATION:-15}"
ORDERS="${ORDERS:-60000}"
CASE="${CASE:-$REPO/../shared/cases/aftersales/pub-001.json}"
PHASES="${PHASES:-evaluate submit}"
PY="$REPO/.venv/bin/python"
KEFU="$REPO/.venv/bin/kefu"
# shellcheck source=/dev/null
source "$BENCH_SHARED/lib.sh"
ensure_wrk
port_free "$PORT" || { log "port $PORT is in use; set PORT"; exit 1; }

TMP="$(mktemp -d /tmp/kefu-bench.XXXXXX)"
export KEFU_DATABASE_URL="sqlite:///$TMP/kefu.db"
RESULTS="$REPO/bench/results/http-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
SERVER_PID=
cleanup() {
    rss_sampler_stop || true
    [ -n "$SERVER_PID" ] && stop_tree "$SERVER_PID"
    if [ "${KEEP_DB:-0}" = 1 ]; then log "database kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

log "fresh database $KEFU_DATABASE_URL"
"$KEFU" db upgrade >&2
if [[ " $PHASES " == *" submit "* ]]; then
    log "generating and importing $ORDERS eligible orders for customer CBENCH"
    "$PY" "$HERE/setup_data.py" orders "$ORDERS" "$TMP/orders.jsonl"
    t0=$(now_ms)
    "$KEFU" import orders "$TMP/orders.jsonl" >&2
    log "import took $(( $(now_ms) - t0 )) ms"
    TOKEN="$("$PY" "$HERE/setup_data.py" account)"
fi

log "starting kefu serve --workers $WORKERS on port $PORT"
ACCESS_FLAG=--no-access-log; [ "${ACCESS_LOG:-0}" = 1 ] && ACCESS_FLAG=--access-log
"$KEFU" serve --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" "$ACCESS_FLAG" > "$RESULTS/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/health" 90 "$SERVER_PID" || { log "server did not start"; cat "$RESULTS/server.log" >&2; exit 1; }
sleep 2   # let the second worker finish its startup too
rss_sampler_start "$SERVER_PID"

rows() { "$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from aftersales_applications').fetchone()[0])" "$TMP/kefu.db"; }
notes=""
workers() { local p; for p in $(descendants "$SERVER_PID"); do
    grep -q spawn_main /proc/"$p"/cmdline 2>/dev/null && echo "$p"; done; return 0; }
profile_start() {
    SPY_PIDS=""
    [ "${PROFILE:-0}" = 1 ] || return 0
    local w
    for w in $(workers); do
        "$REPO/.venv/bin/py-spy" record --nonblocking --rate 100 --format raw -d "$WRK_DURATION" \
            -o "$RESULTS/$1-$w.txt" --pid "$w" > /dev/null 2>&1 &
        SPY_PIDS="$SPY_PIDS $!"
    done
}
profile_wait() { local p; for p in $SPY_PIDS; do wait "$p" || true; done; SPY_PIDS=""; }
for phase in $PHASES; do
    profile_start "$phase"
    case "$phase" in
    evaluate)
        wrk_phase evaluate post_json.lua "$BASE/api/v1/aftersales/evaluate" BENCH_BODY_FILE="$CASE" ;;
    submit)
        before=$(rows)
        wrk_phase submit "$REPO/bench/lua/submit_walk.lua" "$BASE/api/v1/aftersales/applications" \
            BENCH_LUA_COMMON="$BENCH_LUA/common.lua" BENCH_AUTH="Bearer $TOKEN" BENCH_EXPECT=201 \
            BENCH_THREADS="$WRK_THREADS" BENCH_ORDERS="$ORDERS" BENCH_METHOD=POST BENCH_OK_IDS="$RESULTS/submit_ok_ids.txt"
        after=$(rows)   # wrk_phase waited for the server to go idle
        missing=$("$PY" "$HERE/check_rows.py" "$TMP/kefu.db" "$RESULTS/submit_ok_ids.txt")
        ok=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['ok'])" "$RESULTS/submit.json")
        extra=$((after - before - ok))
        notes+="submit: wrk counted $ok answers 201; rows added to aftersales_applications: $((after - before)) (extra rows: $extra = requests in flight when wrk stopped, at most $WRK_CONNS); 201 answers without a row (lost): $missing"$'\n'
        echo "{\"label\":\"submit_rows\",\"ok_201\":$ok,\"rows_added\":$((after - before)),\"lost\":$missing,\"in_flight_extra\":$extra}" > "$RESULTS/submit_rows.json"
        [ "$missing" -eq 0 ] && [ "$extra" -ge 0 ] && [ "$extra" -le "$WRK_CONNS" ] || notes+="submit: ROW CHECK FAILED"$'\n' ;;
    *) log "unknown phase $phase" ; exit 2 ;;
    esac
    profile_wait
done

rss_hwm "$SERVER_PID" > "$RESULTS/hwm.txt"
echo "kefu: kefu serve --workers $WORKERS (uvicorn, uvloop, httptools), SQLite, $(nproc) cores, wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_DURATION}s" > "$RESULTS/system.txt"
printf '%s' "$notes" > "$RESULTS/notes.txt"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS/notes.txt"
python3 "$BENCH_SHARED/report.py" "$RESULTS"
log "results in $RESULTS"
