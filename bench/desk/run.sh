#!/usr/bin/env bash
# Service-desk benchmark (issue 4, "bench/"): ticket creation and the agent's queue listing over
# HTTP, at 1,000 and at 1,000,000 tickets, side by side with django-helpdesk 2.6.1 (the peer) in
# one run, with the shared harness ../shared/bench (lib.sh, lua/, report.py, peer_dh/run.sh).
#
#   bench/desk/run.sh              # ~6-7 min on 2 cores; prints the table, keeps bench/results/desk-*/
#
# Steps: fresh SQLite database in a temp dir, `kefu db upgrade`, people and tokens
# (setup_data.py people), then for each size in SIZES:
#   server stopped -> bulk-load tickets up to the size (setup_data.py tickets) -> run the SLA sweep
#   until idle (so the server's background sweep has nothing queued) -> `kefu serve` ->
#   phase list_api      GET  /api/v1/tickets?queue=general&limit=25   as the agent (keyset page 1)
#   phase create_ticket POST /api/v1/tickets  (create_ticket.json, "{{seq}}" unique) as the customer,
#                       expect 201; rows added are checked against the 201s (like the peer's check);
#                       4 warm-up tickets per worker first, sent at once (the first ticket a process
#                       opens warms its caches and SQLite pages)
#   -> stop the server.
# The list phase runs first, so it sees exactly SIZE tickets; the tickets created at one size stay
# in the database for the next size (which is topped up to SIZE). Then the peer: peer_dh/run.sh
# with the same WORKERS and WRK_* settings (its phases create_ticket, create_ticket_basicauth,
# list_api, staff_list_page, staff_list_data; its list runs at the count its create phase left).
# Before every phase the script waits (up to QUIET_WAIT_S) until the machine is quiet, and notes
# the load average and the CPU the rest of the machine used during the phase (notes.txt).
#
# Knobs (environment):
#   SIZES="1000 1000000"   ticket counts to measure at, ascending
#   PORT=18766 WORKERS=1   kefu serve port / worker processes (the peer gets the same WORKERS)
#   WRK_THREADS=1 WRK_CONNS=16 WRK_DURATION=15 WRK_TIMEOUT=30s   wrk settings, both systems (lib.sh)
#   LIST_LIMIT=25          page size of the list phase (the peer's API pages by 25)
#   PEER=1                 0 = skip the peer;  PEER_PORT=18767  PEER_VENV=/tmp/peer-dh
#                          (created with django-helpdesk==2.6.1 + gunicorn when missing)
#   QUIET_CORES=0.6 QUIET_WAIT_S=90   wait before each phase until other processes use
#                          < QUIET_CORES cores (2 s sample), at most QUIET_WAIT_S seconds
#   PYSPY=/path/to/py-spy  sample the server during every phase (raw collapsed stacks in
#                          <results>/<phase>.pyspy.txt); e.g. python3 -m venv /tmp/pyspy &&
#                          /tmp/pyspy/bin/pip install py-spy; PYSPY=/tmp/pyspy/bin/py-spy
#   TRACE=1                after each size (server stopped): setup_data.py trace -> <results>/sql_trace.txt,
#                          each SQL statement of both use cases timed in-process, with SQLite's plan
#                          (opens 23 tickets; 0 = skip)
#   KEEP_DB=1              keep the temp dir with the database;  BENCH_SHARED=../shared/bench
# Customers/agents/history of the generated data: see setup_data.py (CUSTOMERS, AGENTS, DAYS, SEED).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH_SHARED="${BENCH_SHARED:-$REPO/../shared/bench}"
BENCH_SHARED="$(cd "$BENCH_SHARED" && pwd)"
SIZES="${SIZES:-1000 1000000}"
PORT="${PORT:-18766}"
WORKERS="${WORKERS:-1}"
export WRK_THREADS="${WRK_THREADS:-1}" WRK_CONNS="${WRK_CONNS:-16}" WRK_DURATION="${WRK_DURATION:-15}"
export WRK_TIMEOUT="${WRK_TIMEOUT:-30s}"
LIST_LIMIT="${LIST_LIMIT:-25}"
PEER="${PEER:-1}"
PEER_PORT="${PEER_PORT:-18767}"
PEER_VENV="${PEER_VENV:-/tmp/peer-dh}"
QUIET_CORES="${QUIET_CORES:-0.6}"
QUIET_WAIT_S="${QUIET_WAIT_S:-90}"
TRACE="${TRACE:-1}"
PYSPY="${PYSPY:-}"
PY="$REPO/.venv/bin/python"
KEFU="$REPO/.venv/bin/kefu"
# shellcheck source=/dev/null
source "$BENCH_SHARED/lib.sh"
ensure_wrk
port_free "$PORT" || { log "port $PORT is in use; set PORT"; exit 1; }
[ "$PEER" = 1 ] && { port_free "$PEER_PORT" || { log "port $PEER_PORT is in use; set PEER_PORT"; exit 1; }; }

T_START=$(date +%s)
TMP="$(mktemp -d /tmp/kefu-desk-bench.XXXXXX)"
DB="$TMP/kefu.db"
export KEFU_DATABASE_URL="sqlite:///$DB" KEFU_OUTBOX_FILE="$TMP/outbox.log" KEFU_STORAGE_DIR="$TMP/uploads"
RUN="$REPO/bench/results/desk-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
SERVER_PID=
CPU_SAMPLER_PID=
SPY_PID=
cleanup() {
    local rc=$?
    set +e          # clean up everything even when a step here fails
    [ -n "$SPY_PID" ] && { kill "$SPY_PID" 2>/dev/null; wait "$SPY_PID" 2>/dev/null; }
    rss_sampler_stop || true
    [ -n "$CPU_SAMPLER_PID" ] && { kill "$CPU_SAMPLER_PID" 2>/dev/null; wait "$CPU_SAMPLER_PID" 2>/dev/null; }
    [ -n "$SERVER_PID" ] && stop_tree "$SERVER_PID"
    if [ "${KEEP_DB:-0}" = 1 ]; then log "database kept in $TMP"; else rm -rf "$TMP"; fi
    log "results in $RUN  (total $(( $(date +%s) - T_START )) s, rc=$rc)"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- machine noise: busy cores from /proc/stat -----------------------------------------
cpu_snap() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
# busy_cores S -> average busy cores of the whole machine over S seconds
busy_cores() {
    local a b
    a=$(cpu_snap); sleep "$1"; b=$(cpu_snap)
    awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN{split(a, x, " "); split(b, y, " ");
        printf "%.2f", (y[2] > x[2]) ? (y[1] - x[1]) / (y[2] - x[2]) * n : 0}'
}
# wait_quiet -> waits until the machine (our idle server included) uses < QUIET_CORES cores
wait_quiet() {
    local deadline=$(( $(date +%s) + QUIET_WAIT_S )) busy
    while :; do
        busy=$(busy_cores 2)
        awk -v b="$busy" -v q="$QUIET_CORES" 'BEGIN{exit !(b < q)}' && break
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "  machine still busy ($busy cores used by others) after ${QUIET_WAIT_S}s; measuring anyway"
            break
        fi
        log "  machine busy ($busy cores used by others); waiting"
        sleep 3
    done
    echo "$busy"
}
# cpu_sampler_start: "epoch_ms busy_ticks total_ticks" every 0.5 s into $RUN/cpu.log
cpu_sampler_start() {
    ( while :; do echo "$(now_ms) $(cpu_snap)"; sleep 0.5; done ) >> "$RUN/cpu.log" &
    CPU_SAMPLER_PID=$!
}
# machine_cores T0 T1 -> average busy cores of the machine between two epoch_ms
machine_cores() {
    awk -v t0="$1" -v t1="$2" -v n="$(nproc)" '$1 >= t0 && !a {a = 1; b0 = $2; s0 = $3}
        $1 <= t1 {b1 = $2; s1 = $3} END{printf "%.2f", (s1 > s0) ? (b1 - b0) / (s1 - s0) * n : 0}' "$RUN/cpu.log"
}

# measure LABEL SCRIPT URL [VAR=value ...]: wrk_phase + noise notes (+ py-spy when PYSPY is set)
measure() {
    local label=$1 quiet load row t0 t1 srv machine
    quiet=$(wait_quiet)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    SPY_PID=
    if [ -n "$PYSPY" ]; then
        "$PYSPY" record ${PYSPY_MODE:---nonblocking} --subprocesses --rate 100 --format raw -d "$WRK_DURATION" \
            -o "$RESULTS/$label.pyspy.txt" --pid "$SERVER_PID" > "$RESULTS/$label.pyspy.log" 2>&1 &
        SPY_PID=$!
    fi
    wrk_phase "$@"
    if [ -n "$SPY_PID" ]; then wait "$SPY_PID" 2>/dev/null || true; SPY_PID=; fi
    row=$(awk -F'\t' -v l="$label" '$1 == l {print $4, $5, $6}' "$RESULTS/phases.tsv" | tail -1)
    read -r t0 t1 srv <<< "$row"
    machine=$(machine_cores "$t0" "$t1")
    awk -v l="$label" -v q="$quiet" -v la="$load" -v m="$machine" -v s="$srv" -v t="$(( (t1 - t0) ))" \
        -v n="$(nproc)" 'BEGIN{printf "%s: before it, the rest of the machine used %s cores (load average %s); during it the machine was %.2f of %d cores busy, the server %.2f, wrk + everything else %.2f\n", l, q, la, m, n, s / (t / 1000), m - s / (t / 1000)}' \
        >> "$RESULTS/notes.txt"
}

# ---- server ---------------------------------------------------------------------------
start_server() {
    "$KEFU" serve --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" --no-access-log > "$RESULTS/server.log" 2>&1 &
    SERVER_PID=$!
    BASE="http://127.0.0.1:$PORT"
    wait_http "$BASE/health" 90 "$SERVER_PID" || { log "server did not start"; cat "$RESULTS/server.log" >&2; exit 1; }
    [ "$WORKERS" -gt 1 ] && sleep 2    # let the other workers finish their start-up too
    rss_sampler_start "$SERVER_PID"
}
stop_server() {
    rss_hwm "$SERVER_PID" > "$RESULTS/hwm.txt"
    rss_sampler_stop || true
    stop_tree "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
count() { "$PY" "$HERE/setup_data.py" count "$DB"; }        # "<tickets> <open> <open in general>"
json_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# ---- data -----------------------------------------------------------------------------
log "fresh database $KEFU_DATABASE_URL"
"$KEFU" db upgrade >&2
eval "$("$PY" "$HERE/setup_data.py" people "$DB")"
[ -n "${CUSTOMER_TOKEN:-}" ] && [ -n "${AGENT_TOKEN:-}" ] || { log "people/tokens failed"; exit 1; }
cpu_sampler_start

KEFU_DIRS=()
for SIZE in $SIZES; do
    RESULTS="$RUN/kefu-$SIZE"; mkdir -p "$RESULTS"; : > "$RESULTS/notes.txt"
    KEFU_DIRS+=("$RESULTS")
    log "== $SIZE tickets: loading (server stopped)"
    "$PY" "$HERE/setup_data.py" tickets "$DB" "$SIZE" > "$RESULTS/load.json"
    "$PY" "$HERE/setup_data.py" sweep "$DB" > "$RESULTS/sweep.json"
    read -r n_total n_open n_general <<< "$(count)"
    echo "data: $n_total tickets ($n_open open, $n_general open in queue general) during list_api;" \
         "load took $(json_field "$RESULTS/load.json" seconds) s for $(json_field "$RESULTS/load.json" added) tickets" \
         "(setup_data.py tickets; database file $(du -m "$DB" | cut -f1) MB); an idle SLA sweep round takes $(json_field "$RESULTS/sweep.json" idle_round_ms) ms" \
         "(the server runs one every 2 s)" >> "$RESULTS/notes.txt"
    start_server
    LIST_URL="$BASE/api/v1/tickets?queue=general&limit=$LIST_LIMIT"
    for _ in 1 2 3 4 5; do curl -s -o /dev/null -H "Authorization: Bearer $AGENT_TOKEN" "$LIST_URL"; done
    page=$(curl -s -H "Authorization: Bearer $AGENT_TOKEN" "$LIST_URL" | "$PY" -c \
        'import json,sys; d=json.load(sys.stdin); print(len(d["tickets"]), "rows, next_cursor", d["next_cursor"])')
    echo "list_api: GET /api/v1/tickets?queue=general&limit=$LIST_LIMIT as bench_agent -> $page" >> "$RESULTS/notes.txt"
    measure list_api get.lua "$LIST_URL" BENCH_AUTH="Bearer $AGENT_TOKEN" BENCH_EXPECT=200

    # warm-up: the first ticket a process opens warms its caches, prepared statements and pages.
    # Several at once, so that every worker process gets some (the kernel hands connections to
    # whichever worker accepts first; one at a time they may all land on the same one).
    warm=()
    for _ in $(seq $((WORKERS * 4))); do
        curl -s -o /dev/null -X POST -H "Authorization: Bearer $CUSTOMER_TOKEN" -H "Content-Type: application/json" \
            --data-binary @"$HERE/create_ticket.json" "$BASE/api/v1/tickets" &
        warm+=($!)
    done
    wait "${warm[@]}"          # (a bare `wait` would also wait for the CPU sampler)
    before=$(count | awk '{print $1}')
    measure create_ticket post_json.lua "$BASE/api/v1/tickets" BENCH_BODY_FILE="$HERE/create_ticket.json" \
        BENCH_AUTH="Bearer $CUSTOMER_TOKEN" BENCH_EXPECT=201
    after=$(count | awk '{print $1}')   # wrk_phase waited for the server to go idle
    ok=$(json_field "$RESULTS/create_ticket.json" ok)
    diff=$((after - before - ok))
    verdict=FAIL; [ "$diff" -ge 0 ] && [ "$diff" -le "$WRK_CONNS" ] && verdict=PASS
    echo "verify create_ticket: tickets in DB +$((after - before)), 201 responses $ok, difference $diff" \
         "(allowed 0..$WRK_CONNS in flight at stop) -> $verdict" >> "$RESULTS/notes.txt"
    stop_server
    if [ "$TRACE" = 1 ]; then        # where the time goes: every SQL statement of both use cases, timed
        "$PY" "$HERE/setup_data.py" trace "$DB" 20 > "$RESULTS/sql_trace.txt" 2>&1 || true
    fi
    n_fmt=$("$PY" -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$SIZE")
    label="kefu @ $n_fmt tickets"
    echo "$label: kefu serve --workers $WORKERS (uvicorn, uvloop, httptools), SQLite WAL, $(nproc) cores," \
         "wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_DURATION}s; $("$PY" -c 'import sqlite3; print("SQLite", sqlite3.sqlite_version)')" \
         > "$RESULTS/system.txt"
    echo "code: $(git -C "$REPO" rev-parse --short HEAD) + $(git -C "$REPO" status --short -- src | wc -l) changed/new files under src/ at run time" \
        >> "$RESULTS/notes.txt"
done

# ---- the peer -------------------------------------------------------------------------
DIRS=("${KEFU_DIRS[@]}")
if [ "$PEER" = 1 ]; then
    if ! "$PEER_VENV/bin/python" -c "import helpdesk" 2>/dev/null; then
        log "creating $PEER_VENV with django-helpdesk 2.6.1 + gunicorn"
        python3 -m venv "$PEER_VENV"
        timeout 600 "$PEER_VENV/bin/pip" install -q "django-helpdesk==2.6.1" gunicorn
    fi
    v=$("$PEER_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("django-helpdesk"))')
    [ "$v" = 2.6.1 ] || log "WARNING: $PEER_VENV has django-helpdesk $v, not 2.6.1"
    log "== the peer: $BENCH_SHARED/peer_dh/run.sh (WORKERS=$WORKERS, same wrk settings)"
    q=$(wait_quiet)
    mkdir -p "$RUN/peer"
    RESULTS="$RUN/peer" PORT="$PEER_PORT" WORKERS="$WORKERS" VENV="$PEER_VENV" \
        "$BENCH_SHARED/peer_dh/run.sh" > "$RUN/peer/run.out" 2> "$RUN/peer/run.err" \
        || { log "peer run failed"; tail -20 "$RUN/peer/run.err" >&2; }
    echo "before the peer run the rest of the machine used $q cores (load average $(cut -d' ' -f1-3 /proc/loadavg) after it)" \
        >> "$RUN/peer/notes.txt"
    DIRS+=("$RUN/peer")
fi

echo
python3 "$BENCH_SHARED/report.py" "${DIRS[@]}" | tee "$RUN/report.txt"
