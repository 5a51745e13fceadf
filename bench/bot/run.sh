#!/usr/bin/env bash
# Smart-assistant benchmark (issue 5, "bench/"): per-message latency in-process and
# POST /api/v1/bot/messages over HTTP under real load (wrk), on the demo data.
#
#   bench/bot/run.sh          # ~2 min on 2 cores; prints both, keeps bench/results/bot-*/
#
# Steps: fresh SQLite database in a temp dir -> `kefu db upgrade` -> `kefu demo` (2,000 orders)
# -> setup_data.py prepare (a bearer token for the demo shopper "customer" and the message mix
# grounded in their orders) -> setup_data.py settle (the demo's ~600 queued notices delivered and
# the sweeps run, so the server's background loop is idle during the measurement) -> inprocess.py (N messages through kefu.services.assistant.converse,
# whole turns with database reads and the turn's write) -> `kefu serve --workers WORKERS` ->
# wrk with bench/lua/bot_walk.lua (each connection walks the mix, a new conversation every 10
# messages) -> the bot turns written are counted against wrk's 200 answers (nothing lost).
#
# Knobs (environment): PORT=18768 WORKERS=2 WRK_THREADS=2 WRK_CONNS=32 WRK_DURATION=15
#   INPROCESS_N=3000  KEEP_DB=1  BENCH_SHARED=../shared/bench
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH_SHARED="${BENCH_SHARED:-$REPO/../shared/bench}"
BENCH_SHARED="$(cd "$BENCH_SHARED" && pwd)"
PORT="${PORT:-18768}"
WORKERS="${WORKERS:-2}"
export WRK_THREADS="${WRK_THREADS:-2}" WRK_CONNS="${WRK_CONNS:-32}" WRK_DURATION="${WRK_DURATION:-15}"
export WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"
INPROCESS_N="${INPROCESS_N:-3000}"
PY="$REPO/.venv/bin/python"
KEFU="$REPO/.venv/bin/kefu"
# shellcheck source=/dev/null
source "$BENCH_SHARED/lib.sh"
ensure_wrk
port_free "$PORT" || { log "port $PORT is in use; set PORT"; exit 1; }

TMP="$(mktemp -d /tmp/kefu-bot-bench.XXXXXX)"
export KEFU_DATABASE_URL="sqlite:///$TMP/kefu.db" KEFU_OUTBOX_FILE="$TMP/outbox.log" KEFU_STORAGE_DIR="$TMP/uploads"
RESULTS="$REPO/bench/results/bot-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
SERVER_PID=
cleanup() {
    rss_sampler_stop || true
    [ -n "$SERVER_PID" ] && stop_tree "$SERVER_PID"
    if [ "${KEEP_DB:-0}" = 1 ]; then log "database kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

log "fresh database $KEFU_DATABASE_URL with the demo data"
"$KEFU" db upgrade >&2
"$KEFU" demo --if-empty > "$TMP/demo.txt"
"$PY" "$HERE/setup_data.py" prepare "$TMP"
"$PY" "$HERE/setup_data.py" settle

log "in-process: $INPROCESS_N messages"
"$PY" "$HERE/inprocess.py" "$INPROCESS_N" "$TMP/messages.txt" | tee "$RESULTS/inprocess.txt"

log "starting kefu serve --workers $WORKERS on port $PORT"
"$KEFU" serve --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" --no-access-log > "$RESULTS/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
wait_http "$BASE/health" 90 "$SERVER_PID" || { log "server did not start"; cat "$RESULTS/server.log" >&2; exit 1; }
TOKEN="$(cat "$TMP/token.txt")"
# warm every worker: the classifier loads in the background at start; a few messages each
for i in $(seq 1 20); do
    curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        -d "{\"session_id\":\"warm-$i\",\"text\":\"你好\"}" "$BASE/api/v1/bot/messages"
done
rss_sampler_start "$SERVER_PID"

before=$("$PY" "$HERE/setup_data.py" count)
wrk_phase bot_messages "$REPO/bench/lua/bot_walk.lua" "$BASE/api/v1/bot/messages" \
    BENCH_LUA_COMMON="$BENCH_LUA/common.lua" BENCH_AUTH="Bearer $TOKEN" BENCH_EXPECT=200 \
    BENCH_MESSAGES="$TMP/messages.txt" BENCH_METHOD=POST BENCH_SLOTS=$(( (WRK_CONNS + WRK_THREADS - 1) / WRK_THREADS ))
after=$("$PY" "$HERE/setup_data.py" count)
ok=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['ok'])" "$RESULTS/bot_messages.json")
added=$((after - before))
notes="bot_messages: wrk counted $ok answers 200; bot turns written: $added (extra = requests in flight when wrk stopped, at most $WRK_CONNS)"$'\n'
[ "$added" -ge "$ok" ] && [ $((added - ok)) -le "$WRK_CONNS" ] || notes+="bot_messages: TURN COUNT CHECK FAILED (lost $((ok - added)))"$'\n'

rss_hwm "$SERVER_PID" > "$RESULTS/hwm.txt"
echo "kefu: kefu serve --workers $WORKERS (uvicorn), SQLite, $(nproc) cores, wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_DURATION}s" > "$RESULTS/system.txt"
printf '%s' "$notes" > "$RESULTS/notes.txt"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS/notes.txt"
python3 "$BENCH_SHARED/report.py" "$RESULTS"
cat "$RESULTS/notes.txt"
log "results in $RESULTS"
