#!/usr/bin/env bash
# Fault-injection figures: real node processes, a real PostgreSQL and the load generator, all on 127.0.0.1.
#
# Builds Release once (unless --no-build), starts a throwaway PostgreSQL (temp dir, random loopback port, as the
# postgres user when run as root), and for each scenario creates a fresh database, starts two nodes on it (each an
# Orleans silo, distinct KMS/HTTP/silo ports and names), puts them under paced load (`kmsfarm-client load --rate`) and
# injects one fault:
#
#   kill-node   SIGKILL of the node hosting the Windows group (found through /api/status); restarted after the load
#   freeze-node SIGSTOP of the node hosting the Windows group for --freeze-seconds, then SIGCONT
#   pg-stop     `pg_ctl stop -m fast`, started again after --pg-stop-seconds
#   pg-freeze   SIGSTOP of the postmaster and all its backends for --pg-freeze-seconds, then SIGCONT
#   db-late     both nodes started while PostgreSQL is down (/healthz/ready must say why), PostgreSQL started after
#               --db-late-seconds
#
# Per scenario it records the load generator's failures (requests no node answered, refusals, error events by kind), the
# time to recover (from the load generator's --timeline, sampled every 0.2 s: the first sample interval, wholly after
# the fault began (node faults) or ended (database faults), in which every affected product group activated clients
# again), the acknowledged activations missing from activation_history (matched by CMID and count, as deploy/lab/run.sh
# does; must be 0), and whether every running node reports the same count per group (/api/status) afterwards. One
# summary line per scenario on stdout, a Markdown table in OUT/table.md, the details in OUT/details.md. Exit 1 if an
# acknowledged activation was lost, counts differ or a node never became ready again. Everything it started is stopped
# and removed on exit, Ctrl+C included; OUT is kept. See docs/RELIABILITY.md, "Fault injection".
set -euo pipefail
export LC_ALL=C

usage() {
    cat <<'EOF'
Usage: bench/faults/run-fault-figures.sh [options]

  --scenarios LIST        comma-separated, in order (default: kill-node,freeze-node,pg-stop,pg-freeze,db-late)
  --rate R                load generator requests/s, paced (default 300)
  --clients N             simulated machines (default 20000)
  --concurrency N         load generator workers (default 256: enough to keep the pace while requests to a frozen
                          node wait out --timeout)
  --timeout S             load generator connect and reply timeout, seconds (default 2)
  --before S              seconds of load before each fault (default 8)
  --after S               seconds of load after a fault has ended (default 15)
  --kill-observe S        seconds of load after the SIGKILL (default 20)
  --freeze-seconds S      how long the node stays stopped (default 35; more than the ~25 s a frozen silo takes to be
                          declared dead)
  --pg-stop-seconds S     how long PostgreSQL stays down (default 10)
  --pg-freeze-seconds S   how long PostgreSQL stays frozen (default 15; under Npgsql's 30 s command timeout)
  --db-late-seconds S     how long the nodes wait for PostgreSQL in db-late (default 10)
  --no-build              use the existing Release build
  --out DIR               results directory (default: a new temp dir; kept)
  -h, --help
EOF
}

SCENARIOS="kill-node,freeze-node,pg-stop,pg-freeze,db-late"
RATE=300
CLIENTS=20000
CONCURRENCY=1024
MAX_CONNECTIONS=4000
TIMEOUT=2
BEFORE=8
AFTER=15
KILL_OBSERVE=20
FREEZE_SECONDS=35
PG_STOP_SECONDS=10
PG_FREEZE_SECONDS=15
DB_LATE_SECONDS=10
BUILD=1
OUT=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenarios) SCENARIOS="$2"; shift 2 ;;
        --rate) RATE="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        --before) BEFORE="$2"; shift 2 ;;
        --after) AFTER="$2"; shift 2 ;;
        --kill-observe) KILL_OBSERVE="$2"; shift 2 ;;
        --freeze-seconds) FREEZE_SECONDS="$2"; shift 2 ;;
        --pg-stop-seconds) PG_STOP_SECONDS="$2"; shift 2 ;;
        --pg-freeze-seconds) PG_FREEZE_SECONDS="$2"; shift 2 ;;
        --db-late-seconds) DB_LATE_SECONDS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
for s in ${SCENARIOS//,/ }; do
    case "$s" in kill-node|freeze-node|pg-stop|pg-freeze|db-late) ;; *) echo "unknown scenario: $s" >&2; exit 2 ;; esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/kmsfarm-faults-XXXXXX)"
chmod 711 "$WORK"   # the postgres user must reach $WORK/pg
OUT="${OUT:-$(mktemp -d /tmp/kmsfarm-faults-results-XXXXXX)}"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
NODE_DLL="$REPO/src/KmsFarm.Node/bin/Release/net10.0/KmsFarm.Node.dll"
CLIENT_DLL="$REPO/src/KmsFarm.Client/bin/Release/net10.0/kmsfarm-client.dll"
PRODUCT_GROUPS=(Windows Office2010 Office2013Plus)
TIMELINE_GROUP_COLUMN=(11 12 13)   # 1-based columns of the groups in the --timeline CSV

PG_BIN=""
PG_PORT=""
PG_DIR="$WORK/pg"
PG_STARTED=0
# Per node of the current scenario (index 0 and 1).
NODE_NAME=()
NODE_PID=()
NODE_KMS=()
NODE_HTTP=()
NODE_SILO=()
LOAD_PID=""
STORE=""
SCENARIO=""

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
now_ms() { local t="${EPOCHREALTIME/./}"; echo $(( t / 1000 )); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# ---- clean-up -------------------------------------------------------------------------------------------------------
pg_run() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_pids() {
    local pm
    [[ -f "$PG_DIR/data/postmaster.pid" ]] || return 0
    pm="$(head -1 "$PG_DIR/data/postmaster.pid")"
    kill -0 "$pm" 2>/dev/null || return 0
    echo "$pm"
    pgrep -P "$pm" || true
}

# Only a pid that is still a child of this script is signalled: a reaped child's pid (a node killed by a scenario) may
# belong to any process on the machine by now.
own_child() { [[ -n "$1" && "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" == "$$" ]]; }

stop_pid() {
    local pid="$1"
    own_child "$pid" || { [[ -z "$pid" ]] || wait "$pid" 2>/dev/null; return 0; }
    kill -CONT "$pid" 2>/dev/null || true   # a stopped process would not act on SIGTERM
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do own_child "$pid" || break; sleep 0.1; done
    own_child "$pid" && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

stop_nodes() {
    local pid
    for pid in "${NODE_PID[@]}"; do own_child "$pid" && kill -CONT "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PID[@]}"; do own_child "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PID[@]}"; do stop_pid "$pid"; done
    NODE_PID=()
}

cleanup() {
    set +e
    stop_pid "$LOAD_PID"
    stop_nodes
    if [[ "$PG_STARTED" == 1 ]]; then
        for pid in $(pg_pids); do kill -CONT "$pid" 2>/dev/null; done
        pg_run "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -s >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- PostgreSQL -----------------------------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

psql_q() { PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "${2:-postgres}" -Atq -v ON_ERROR_STOP=1 -c "$1"; }

pg_start() { pg_run "$PG_BIN/pg_ctl" start -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -s || { tail -20 "$PG_DIR/server.log" >&2; exit 1; }; }
pg_stop() { pg_run "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -t 60 -s; }

start_postgres() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) "$(dirname "$(readlink -f "$(command -v initdb || echo /nonexistent)")")"; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then PG_BIN="$dir"; break; fi
    done
    [[ -n "$PG_BIN" ]] || { echo "PostgreSQL server binaries (initdb, pg_ctl) not found" >&2; exit 1; }
    PG_PORT="$(free_port)"
    mkdir -p "$PG_DIR"
    chmod 700 "$PG_DIR"
    [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$PG_DIR"
    pg_run "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-instructions >"$OUT/initdb.log" 2>&1 \
        || { tail -5 "$OUT/initdb.log" >&2; exit 1; }
    # Durable commits, as a farm's database should run.
    pg_run tee -a "$PG_DIR/data/postgresql.conf" >/dev/null <<EOF

listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = on
synchronous_commit = on
max_connections = 300
shared_buffers = 128MB
log_min_messages = warning
EOF
    pg_start
    PG_STARTED=1
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

# ---- nodes ----------------------------------------------------------------------------------------------------------
# start_node I: starts node I of the current scenario (its ports are kept, so a restart reuses them).
# The load generator is one address standing for many machines, so the per-address admission limits are lifted, as the
# farm benchmark does.
start_node() {
    local i="$1"
    # Log lines stamped with the local time to the millisecond, to line them up with the faults.
    Logging__Console__FormatterOptions__TimestampFormat='HH:mm:ss.fff ' dotnet "$NODE_DLL" --kms-endpoint "127.0.0.1:${NODE_KMS[$i]}" --http-endpoint "127.0.0.1:${NODE_HTTP[$i]}" \
        --store "$STORE" --node-name "${NODE_NAME[$i]}" --silo-port "${NODE_SILO[$i]}" --advertised-address 127.0.0.1 \
        --max-connections "$MAX_CONNECTIONS" --max-connections-per-source "$MAX_CONNECTIONS" --request-rate 0 \
        >>"$OUT/$SCENARIO-${NODE_NAME[$i]}.log" 2>&1 &
    NODE_PID[$i]=$!
}

ready_code() { curl -s -m 3 -o "$WORK/ready.body" -w '%{http_code}' "http://127.0.0.1:${NODE_HTTP[$1]}/healthz/ready" 2>/dev/null || true; }

# wait_ready I TIMEOUT_S: polls /healthz/ready every 0.2 s; prints the epoch ms it first answered 200. Fails if the node
# exits or is not ready in time.
wait_ready() {
    local i="$1" limit=$(( $(now_ms) + $2 * 1000 ))
    while (( $(now_ms) < limit )); do
        alive "${NODE_PID[$i]}" || { log "${NODE_NAME[$i]} exited; see $OUT/$SCENARIO-${NODE_NAME[$i]}.log"; return 1; }
        [[ "$(ready_code "$i")" == 200 ]] && { now_ms; return 0; }
        sleep 0.2
    done
    log "${NODE_NAME[$i]} not ready after $2 s"
    return 1
}

# begin_scenario NAME: a fresh database and two nodes' ports and names.
begin_scenario() {
    SCENARIO="$1"
    local db="faults_${SCENARIO//-/_}" i
    psql_q "DROP DATABASE IF EXISTS $db" >/dev/null
    psql_q "CREATE DATABASE $db" >/dev/null
    STORE="postgres:Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$db"
    NODE_NAME=("$SCENARIO-a" "$SCENARIO-b")
    NODE_PID=("" "")
    for i in 0 1; do NODE_KMS[$i]="$(free_port)"; NODE_HTTP[$i]="$(free_port)"; NODE_SILO[$i]="$(free_port)"; done
    HOSTS="127.0.0.1:${NODE_KMS[0]},127.0.0.1:${NODE_KMS[1]}"
    LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"
    log "$SCENARIO: load average $LOADAVG"
}

start_both() {
    start_node 0
    start_node 1
    wait_ready 0 180 >/dev/null && wait_ready 1 180 >/dev/null || exit 1
    log "$SCENARIO: nodes ready (${NODE_NAME[0]} KMS ${NODE_KMS[0]}, ${NODE_NAME[1]} KMS ${NODE_KMS[1]})"
}

# ---- load -----------------------------------------------------------------------------------------------------------
# start_load SECONDS: the load generator in the background; its report, acknowledged list and timeline go to OUT.
start_load() {
    local seconds="$1"
    LOAD_CMD=(load --hosts "$HOSTS" --clients "$CLIENTS" --duration "${seconds}s" --rate "$RATE" --concurrency "$CONCURRENCY"
        --timeout "$TIMEOUT" --new-connection --json --acknowledged "$OUT/$SCENARIO-acknowledged.csv" --timeline "$OUT/$SCENARIO-timeline.csv")
    : >"$OUT/$SCENARIO-timeline.csv"
    dotnet "$CLIENT_DLL" "${LOAD_CMD[@]}" >"$OUT/$SCENARIO-load.json" 2>"$OUT/$SCENARIO-load.err" &
    LOAD_PID=$!
    log "$SCENARIO: kmsfarm-client ${LOAD_CMD[*]}"
}

# load_elapsed_ms: the load run's own clock, from the last timeline sample (0 before the first).
load_elapsed_ms() { tail -n 1 "$OUT/$SCENARIO-timeline.csv" 2>/dev/null | awk -F, '$2 ~ /^[0-9]+$/ { print $2; found = 1 } END { if (!found) print 0 }'; }

# wait_load_seconds S: until the load has run for S seconds by its own clock.
wait_load_seconds() {
    while (( $(load_elapsed_ms) < $1 * 1000 )); do
        kill -0 "$LOAD_PID" 2>/dev/null || { log "the load generator exited early; see $OUT/$SCENARIO-load.err"; exit 1; }
        sleep 0.1
    done
}

finish_load() {
    local rc=0
    wait "$LOAD_PID" || rc=$?
    LOAD_PID=""
    jq -e . "$OUT/$SCENARIO-load.json" >/dev/null 2>&1 || { log "the load generator wrote no report (exit $rc); see $OUT/$SCENARIO-load.err"; exit 1; }
}

# host_of GROUP: the node hosting GROUP according to a running node's /api/status (empty if not activated).
host_of() {
    local i
    for i in 0 1; do
        alive "${NODE_PID[$i]}" || continue
        curl -fs -m 5 "http://127.0.0.1:${NODE_HTTP[$i]}/api/status" | jq -r --arg g "$1" '.groups[] | select(.group == $g) | .host // empty' && return 0
    done
}

# alive PID: the process runs (a killed child stays a zombie until it is reaped; that is not running).
alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

node_index() { local i; for i in 0 1; do [[ "${NODE_NAME[$i]}" == "$1" ]] && { echo "$i"; return 0; }; done; return 1; }

# log_ms_after PATTERN FILE T: ms from T (epoch ms) to the time stamp of the log entry whose message matches PATTERN
# (first match; the time stamp is on the entry's first line), or "?".
log_ms_after() {
    local stamp
    stamp="$(grep -B1 -m1 -E "$1" "$2" | head -1 | grep -oE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}' || true)"
    [[ -n "$stamp" ]] || { echo "?"; return 0; }
    local day_ms=$(( $3 - $(date -d "$(date -d "@$(( $3 / 1000 ))" +%F) 00:00:00" +%s) * 1000 ))
    awk -v s="$stamp" -v d="$day_ms" 'BEGIN { split(s, a, ":"); printf "%.1f", ((a[1] * 60 + a[2]) * 60 + a[3]) - d / 1000 }'
}

# ---- measurements ---------------------------------------------------------------------------------------------------
# recovery FROM_MS GROUP...: for each group, the end of the first timeline interval starting at or after FROM_MS in which
# the group's activations grew, as ms after FROM_MS ("never" if none did); prints "GROUP=MS ...".
recovery() {
    local from="$1"; shift
    local spec="" g c
    for g in "$@"; do
        for c in 0 1 2; do [[ "${PRODUCT_GROUPS[$c]}" == "$g" ]] && spec+="$g:${TIMELINE_GROUP_COLUMN[$c]} "; done
    done
    awk -F, -v from="$from" -v spec="$spec" '
        BEGIN { n = split(spec, items, " "); for (i = 1; i <= n; i++) { split(items[i], kv, ":"); name[i] = kv[1]; col[i] = kv[2]; at[i] = "never" } }
        NR == 1 { next }
        {
            if (started && prev_t >= from)
                for (i = 1; i <= n; i++) if (at[i] == "never" && $(col[i]) > prev[i]) at[i] = $1 - from
            prev_t = $1; started = 1
            for (i = 1; i <= n; i++) prev[i] = $(col[i])
        }
        END { for (i = 1; i <= n; i++) printf "%s=%s ", name[i], at[i]; print "" }' "$OUT/$SCENARIO-timeline.csv"
}

# lost: acknowledged activations of this scenario missing from activation_history, matched by CMID and count.
history_check() {
    local db="faults_${SCENARIO//-/_}"
    PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -qAt -F ' ' -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE ack (cmid uuid, product_group text, acknowledged_count integer, host text);
\copy ack FROM '$OUT/$SCENARIO-acknowledged.csv' WITH (FORMAT csv, HEADER true)
WITH a AS (SELECT cmid, acknowledged_count AS n, count(*) AS times FROM ack GROUP BY 1, 2),
     h AS (SELECT cmid, current_count AS n, count(*) AS times FROM activation_history WHERE result = 0 GROUP BY 1, 2)
SELECT (SELECT count(*) FROM ack),
       coalesce(sum(greatest(a.times - coalesce(h.times, 0), 0)), 0),
       (SELECT count(*) FROM activation_history WHERE result = 0)
FROM a LEFT JOIN h USING (cmid, n);
SQL
}

# counts_check: every running node's /api/status counts per group, the store's ledger rows per group, and the counts the
# load generator asked over KMS of each node running at the end of the load. Prints "yes (N nodes)" or "NO" (the figures
# are in details.md).
counts_check() {
    local i line lines=() distinct kms
    for i in 0 1; do
        alive "${NODE_PID[$i]}" || continue
        line="$(curl -fs -m 10 "http://127.0.0.1:${NODE_HTTP[$i]}/api/status" \
            | jq -r '[.groups[] | "\(.group)=\(.currentCount)"] | join(" ")' 2>/dev/null || echo "status failed")"
        lines+=("${NODE_NAME[$i]}: $line")
        echo "    /api/status ${NODE_NAME[$i]}: $line" >>"$DETAILS"
    done
    # The store's ledger, which a group's grain must equal (group ids are ProductGroup's values).
    line="$(psql_q "SELECT string_agg(g.name || '=' || coalesce(e.n, 0), ' ' ORDER BY g.id)
        FROM (VALUES (0, 'Windows'), (1, 'Office2010'), (2, 'Office2013Plus')) AS g (id, name)
        LEFT JOIN (SELECT group_id, count(*) AS n FROM ledger_entry GROUP BY 1) e ON e.group_id = g.id" "faults_${SCENARIO//-/_}")"
    lines+=("store ledger: $line")
    echo "    store ledger_entry rows: $line" >>"$DETAILS"
    distinct="$(printf '%s\n' "${lines[@]}" | cut -d: -f2- | sort -u | wc -l)"
    kms="$(jq -r --argjson live "$(printf '%s\n' "${LIVE_AT_LOAD_END[@]}" | jq -R . | jq -s .)" \
        '.hosts[] | select(.host as $h | $live | index($h)) | [.counts[] | "\(.group)=\(.count // ("error: " + (.error // "?")))"] | join(" ")' \
        "$OUT/$SCENARIO-load.json" | sort -u)"
    echo "    KMS counts of the nodes running at the end of the load: $(echo "$kms" | paste -sd'|')" >>"$DETAILS"
    if [[ "${#lines[@]}" -ge 2 && "$distinct" == 1 && "${lines[0]}" != *"status failed"* && "$(echo "$kms" | wc -l)" == 1 && "$kms" != *error* ]]; then
        echo "yes ($(( ${#lines[@]} - 1 )) nodes)"
    else
        echo "NO"
    fi
}

# failed_at MS: failed requests and refusals (timeline columns 5 and 10) at the last sample taken at or before MS.
failed_at() {
    awk -F, -v t="$1" 'NR > 1 && $1 <= t { f = $5; r = $10 } END { printf "%d %d\n", f, r }' "$OUT/$SCENARIO-timeline.csv"
}

# record NAME FAULT_TEXT FAULT_START_MS FROM_MS FROM_WHAT RECOVERY_EXTRA GROUP...: the scenario's figures into
# results.jsonl, details.md and one summary line. Recovery is measured from FROM_MS.
record() {
    local name="$1" fault="$2" fault_start="$3" from="$4" from_what="$5" extra="$6"; shift 6
    local report="$OUT/$SCENARIO-load.json" rec worst="" g ms acked lost in_hist counts failed refused kinds failovers requests
    rec="$(recovery "$from" "$@")"
    for g in $rec; do
        ms="${g#*=}"
        if [[ "$ms" == never ]]; then worst=never; elif [[ "$worst" != never ]] && [[ -z "$worst" || "$ms" -gt "$worst" ]]; then worst="$ms"; fi
    done
    read -r acked lost in_hist <<<"$(history_check)"
    # Failures before the fault, from its start until recovery (or the end, if it never came), and after.
    local f0 r0 f1 r1 f2 r2
    read -r f0 r0 <<<"$(failed_at "$fault_start")"
    read -r f1 r1 <<<"$(failed_at "$( [[ "$worst" == never ]] && echo 99999999999999 || echo $(( from + worst )) )")"
    read -r f2 r2 <<<"$(failed_at 99999999999999)"
    counts="$(counts_check)"
    requests="$(jq .requests "$report")"
    failed="$(jq .failedRequests "$report")"
    refused="$(jq .refused "$report")"
    failovers="$(jq .failovers "$report")"
    kinds="$(jq -r '[.errors | to_entries[] | select(.value > 0 and .key != "Refused") | "\(.key) \(.value)"] | join(", ")' "$report")"
    local recovery_text
    if [[ "$worst" == never ]]; then recovery_text="NOT within the load ($from_what)"; else recovery_text="$(secs "$worst") s after $from_what"; fi
    [[ -z "$extra" ]] || recovery_text="$recovery_text; $extra"
    local per_group=""
    for g in $rec; do per_group+="${g%%=*} $( [[ "${g#*=}" == never ]] && echo never || secs "${g#*=}") s, "; done
    jq -nc --arg scenario "$name" --arg fault "$fault" --arg load "$LOADAVG" --argjson requests "$requests" --argjson failed "$failed" \
        --argjson refused "$refused" --argjson failovers "$failovers" --arg kinds "$kinds" --arg recovery "$recovery_text" \
        --arg per_group "${per_group%, }" --argjson acknowledged "$acked" --argjson lost "$lost" --argjson history "$in_hist" \
        --arg counts "$counts" --arg command "kmsfarm-client ${LOAD_CMD[*]}" \
        '{scenario: $scenario, fault: $fault, loadavg: $load, requests: $requests, failed: $failed, refused: $refused,
          failovers: $failovers, error_kinds: $kinds, recovery: $recovery, per_group: $per_group, acknowledged: $acknowledged,
          lost: $lost, history: $history, counts_equal: $counts, command: $command}' >>"$RESULTS"
    {
        echo "  - fault: $fault"
        echo "    load average before: $LOADAVG; requests $requests, failed $failed, refused $refused, fail-overs $failovers; error events: ${kinds:-none}"
        echo "    recovery per affected group (timeline, 0.2 s samples): ${per_group%, }"
        echo "    failed/refused before the fault $f0/$r0, from its start to recovery $(( f1 - f0 ))/$(( r1 - r0 )), after recovery $(( f2 - f1 ))/$(( r2 - r1 ))"
        echo "    history: $in_hist activations committed, $acked acknowledged, $lost acknowledged ones missing"
        echo "    fenced commits of a stale group activation (event 3102) in the nodes' logs: $(cat "$OUT/$SCENARIO-$SCENARIO"-?.log | grep -c 'written by another activation' || true)"
    } >>"$DETAILS"
    echo "faults: $name: failed $failed, refused $refused; recovery $recovery_text; acknowledged $acked, lost $lost; counts equal: $counts"
    if [[ "$lost" != 0 || "$counts" != yes* || "$worst" == never || "$extra" == *NOT* || "$extra" == *NEVER* ]]; then FAILED_SCENARIOS+=("$name"); fi
}

# ---- scenarios ------------------------------------------------------------------------------------------------------
# Groups hosted on node VICTIM_NAME when the fault begins (at least Windows, which chose it).
groups_on() {
    local g out=()
    for g in "${PRODUCT_GROUPS[@]}"; do [[ "$(host_of "$g")" == "$1" ]] && out+=("$g"); done
    echo "${out[@]}"
}

note_live_nodes() {
    LIVE_AT_LOAD_END=()
    local i
    for i in 0 1; do alive "${NODE_PID[$i]}" && LIVE_AT_LOAD_END+=("127.0.0.1:${NODE_KMS[$i]}"); done
    return 0
}

# restart_if_gone I: waits up to 30 s for node I to be ready or gone; a node that is gone is started again with the same
# ports, as systemd or Kubernetes would. Sets NODE_FATE to what happened.
restart_if_gone() {
    local i="$1" t0 t1 limit=$(( $(now_ms) + 30000 ))
    while alive "${NODE_PID[$i]}" && (( $(now_ms) < limit )); do
        if [[ "$(ready_code "$i")" == 200 ]]; then NODE_FATE="kept running and is ready"; return 0; fi
        sleep 0.2
    done
    if alive "${NODE_PID[$i]}"; then NODE_FATE="running but NOT ready 30 s after the load"; return 0; fi
    wait "${NODE_PID[$i]}" 2>/dev/null || true
    local how="exited"
    if grep -q "I have been told I am dead" "$OUT/$SCENARIO-${NODE_NAME[$i]}.log"; then
        how="exited: Orleans found its silo Dead in the membership table and ended the process (FailFast)"
    fi
    t0="$(now_ms)"
    start_node "$i"
    if t1="$(wait_ready "$i" 180)"; then
        NODE_FATE="$how; restarted, ready in $(secs $(( t1 - t0 ))) s"
    else
        NODE_FATE="$how; restarted, NEVER ready"
    fi
}

scenario_kill_node() {
    begin_scenario kill-node
    start_both
    start_load $(( BEFORE + KILL_OBSERVE ))
    wait_load_seconds "$BEFORE"
    local victim_name victim affected t
    victim_name="$(host_of Windows)"
    victim="$(node_index "$victim_name")" || { log "kill-node: Windows is not hosted by a node ($victim_name)"; exit 1; }
    affected="$(groups_on "$victim_name")"
    t="$(now_ms)"
    kill -KILL "${NODE_PID[$victim]}"
    wait "${NODE_PID[$victim]}" 2>/dev/null || true
    log "kill-node: SIGKILL $victim_name (hosting $affected)"
    finish_load
    note_live_nodes
    restart_if_gone "$victim"
    echo "- **kill-node**" >>"$DETAILS"
    echo "    victim after the load: $NODE_FATE" >>"$DETAILS"
    record kill-node "SIGKILL of $victim_name, hosting ${affected// /, }" "$t" "$t" "the SIGKILL" "" $affected
    stop_nodes
}

scenario_freeze_node() {
    begin_scenario freeze-node
    start_both
    start_load $(( BEFORE + FREEZE_SECONDS + AFTER ))
    wait_load_seconds "$BEFORE"
    local victim_name victim affected t t_cont
    victim_name="$(host_of Windows)"
    victim="$(node_index "$victim_name")" || { log "freeze-node: Windows is not hosted by a node ($victim_name)"; exit 1; }
    affected="$(groups_on "$victim_name")"
    t="$(now_ms)"
    kill -STOP "${NODE_PID[$victim]}"
    log "freeze-node: SIGSTOP $victim_name (hosting $affected) for $FREEZE_SECONDS s"
    sleep "$FREEZE_SECONDS"
    kill -CONT "${NODE_PID[$victim]}"
    t_cont="$(now_ms)"
    log "freeze-node: SIGCONT $victim_name"
    finish_load
    note_live_nodes
    restart_if_gone "$victim"
    echo "- **freeze-node**" >>"$DETAILS"
    echo "    victim after SIGCONT ($(secs $(( t_cont - t ))) s after SIGSTOP): $NODE_FATE" >>"$DETAILS"
    record freeze-node "SIGSTOP of $victim_name (hosting ${affected// /, }) for $FREEZE_SECONDS s" "$t" "$t" "the SIGSTOP" "victim $NODE_FATE" $affected
    stop_nodes
}

scenario_pg_stop() {
    begin_scenario pg-stop
    start_both
    start_load $(( BEFORE + PG_STOP_SECONDS + AFTER ))
    wait_load_seconds "$BEFORE"
    local t0 t1 t2 t3 ready
    t0="$(now_ms)"
    pg_stop
    t1="$(now_ms)"
    log "pg-stop: PostgreSQL stopped (took $(secs $(( t1 - t0 ))) s)"
    sleep "$PG_STOP_SECONDS"
    t2="$(now_ms)"
    pg_start
    t3="$(now_ms)"
    log "pg-stop: PostgreSQL started (took $(secs $(( t3 - t2 ))) s)"
    ready="$(both_ready_after "$t3")"
    finish_load
    note_live_nodes
    echo "- **pg-stop**" >>"$DETAILS"
    echo "    pg_ctl stop -m fast took $(secs $(( t1 - t0 ))) s, down $(secs $(( t2 - t1 ))) s, pg_ctl start -w took $(secs $(( t3 - t2 ))) s; $ready" >>"$DETAILS"
    record pg-stop "pg_ctl stop -m fast, started again after $PG_STOP_SECONDS s" "$t0" "$t3" "PostgreSQL accepted connections again" "$ready" "${PRODUCT_GROUPS[@]}"
    stop_nodes
}

# both_ready_after T: how long after T (epoch ms) each node's /healthz/ready first answered 200, both polled every 0.2 s
# for up to 120 s.
both_ready_after() {
    local i at=("" "") limit=$(( $(now_ms) + 120000 )) out=""
    while [[ -z "${at[0]}" || -z "${at[1]}" ]] && (( $(now_ms) < limit )); do
        for i in 0 1; do
            [[ -z "${at[$i]}" ]] || continue
            if ! alive "${NODE_PID[$i]}"; then at[$i]=exited; elif [[ "$(ready_code "$i")" == 200 ]]; then at[$i]="$(now_ms)"; fi
        done
        sleep 0.2
    done
    for i in 0 1; do
        case "${at[$i]}" in
            "") out+="${NODE_NAME[$i]} NOT ready, " ;;
            exited) out+="${NODE_NAME[$i]} exited, NOT ready, " ;;
            *) out+="${NODE_NAME[$i]} ready $(secs $(( at[i] - $1 ))) s after, " ;;
        esac
    done
    echo "${out%, }"
}

scenario_pg_freeze() {
    begin_scenario pg-freeze
    start_both
    start_load $(( BEFORE + PG_FREEZE_SECONDS + AFTER ))
    wait_load_seconds "$BEFORE"
    local pids t0 t1 ready
    pids="$(pg_pids | tr '\n' ' ')"
    t0="$(now_ms)"
    # shellcheck disable=SC2086
    kill -STOP $pids
    log "pg-freeze: SIGSTOP PostgreSQL ($(wc -w <<<"$pids") processes) for $PG_FREEZE_SECONDS s"
    sleep "$PG_FREEZE_SECONDS"
    # shellcheck disable=SC2086
    kill -CONT $pids
    t1="$(now_ms)"
    log "pg-freeze: SIGCONT PostgreSQL"
    ready="$(both_ready_after "$t1")"
    finish_load
    note_live_nodes
    echo "- **pg-freeze**" >>"$DETAILS"
    echo "    $(wc -w <<<"$pids") PostgreSQL processes frozen for $(secs $(( t1 - t0 ))) s; $ready" >>"$DETAILS"
    record pg-freeze "SIGSTOP of the postmaster and its backends for $PG_FREEZE_SECONDS s" "$t0" "$t1" "the SIGCONT" "$ready" "${PRODUCT_GROUPS[@]}"
    stop_nodes
}

scenario_db_late() {
    begin_scenario db-late
    pg_stop
    log "db-late: PostgreSQL stopped; starting the nodes"
    start_node 0
    start_node 1
    start_load $(( DB_LATE_SECONDS + 25 ))
    local t_launch t0 t1 code reason i ready
    t_launch="$(now_ms)"
    local waited=$(( DB_LATE_SECONDS * 1000 - ($(now_ms) - t_launch) ))
    (( waited > 0 )) && sleep "$(secs "$waited")"
    code="$(ready_code 0)"
    reason="$(head -c 300 "$WORK/ready.body" | tr -d '\n')"
    log "db-late: ${NODE_NAME[0]} /healthz/ready: $code $reason"
    for i in 0 1; do alive "${NODE_PID[$i]}" || { log "db-late: ${NODE_NAME[$i]} exited while waiting for the database"; exit 1; }; done
    t0="$(now_ms)"
    pg_start
    t1="$(now_ms)"
    log "db-late: PostgreSQL started (took $(secs $(( t1 - t0 ))) s)"
    ready="$(both_ready_after "$t1")"
    finish_load
    note_live_nodes
    echo "- **db-late**" >>"$DETAILS"
    echo "    while PostgreSQL was down (${DB_LATE_SECONDS} s after launch): ${NODE_NAME[0]} /healthz/ready answered $code \"$reason\"" >>"$DETAILS"
    echo "    pg_ctl start -w took $(secs $(( t1 - t0 ))) s; $ready" >>"$DETAILS"
    for i in 0 1; do
        echo "    ${NODE_NAME[$i]}: the database answered its start-up $(log_ms_after 'answered at attempt' "$OUT/$SCENARIO-${NODE_NAME[$i]}.log" "$t1") s after PostgreSQL accepted connections ($(grep -m1 -oE 'answered at attempt [0-9]+, after [0-9:.]+' "$OUT/$SCENARIO-${NODE_NAME[$i]}.log" | sed -E 's/(\.[0-9])[0-9]+$/\1/' || true) of waiting), then it started" >>"$DETAILS"
    done
    [[ "$code" == 503 && "$reason" == *"waiting for the database"* ]] || { log "db-late: expected 503 'waiting for the database'"; FAILED_SCENARIOS+=(db-late-health); }
    record db-late "both nodes started $DB_LATE_SECONDS s before PostgreSQL" "$t_launch" "$t1" "PostgreSQL accepted connections" "$ready" "${PRODUCT_GROUPS[@]}"
    stop_nodes
}

# ---- main -----------------------------------------------------------------------------------------------------------
started=$SECONDS
if [[ "$BUILD" == 1 ]]; then
    log "building Release (node and client)"
    dotnet build -c Release -v q -nologo "$REPO/src/KmsFarm.Node" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
    dotnet build -c Release -v q -nologo "$REPO/src/KmsFarm.Client" >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
fi
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 1; }
MACHINE="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo), uptime: $(uptime)"
log "machine: $MACHINE; results in $OUT"
start_postgres
DETAILS="$OUT/details.md"
: >"$DETAILS"
FAILED_SCENARIOS=()
for scenario in ${SCENARIOS//,/ }; do
    case "$scenario" in
        kill-node) scenario_kill_node ;;
        freeze-node) scenario_freeze_node ;;
        pg-stop) scenario_pg_stop ;;
        pg-freeze) scenario_pg_freeze ;;
        db-late) scenario_db_late ;;
    esac
done

{
    echo "| scenario | refused/failed | recovery | acknowledged | lost | counts equal |"
    echo "|---|---|---|---:|---:|---|"
    jq -r '"| \(.scenario): \(.fault) | failed \(.failed) of \(.requests), refused \(.refused)\(if .error_kinds != "" then " (error events: " + .error_kinds + ")" else "" end) | \(.recovery) | \(.acknowledged) | \(.lost) | \(.counts_equal) |"' "$RESULTS"
    echo
    echo "Machine: $MACHINE. Load average before each scenario: $(jq -r '"\(.scenario) \(.loadavg)"' "$RESULTS" | paste -sd';' | sed 's/;/; /g'). Took $(( SECONDS - started )) s."
    echo
    echo "Load per scenario: kmsfarm-client load --hosts A,B --clients $CLIENTS --rate $RATE --concurrency $CONCURRENCY --timeout $TIMEOUT --new-connection --json --acknowledged FILE --timeline FILE"
} >"$OUT/table.md"
cat "$OUT/table.md" >&2
log "table: $OUT/table.md, details: $DETAILS, took $(( SECONDS - started )) s"
if [[ ${#FAILED_SCENARIOS[@]} -gt 0 ]]; then
    echo "faults: FAILED: ${FAILED_SCENARIOS[*]}" >&2
    exit 1
fi
