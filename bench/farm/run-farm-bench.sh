#!/usr/bin/env bash
# Farm benchmark: real node processes and the load generator, all on 127.0.0.1.
#
# Builds Release once, starts a throwaway PostgreSQL (temp dir, random loopback port, as the postgres user when run as
# root) if a scenario needs it, then for each scenario starts N nodes (each an Orleans silo) with distinct ports and
# names, waits for /healthz/ready, runs `kmsfarm-client load --json` with reused connections, with a new connection per
# activation, and/or four sequential `vlmcs` clients, and records throughput, latency, CPU per process group, node RSS
# and PostgreSQL commits. The `vlmcsd` scenario runs the same load against a vlmcsd binary the operator built (outside
# this repository; give --vlmcsd PATH), so ratios come from one run. Everything is stopped and removed on exit. See
# docs/BENCHMARKS.md ("Farm on Orleans", and "Harness" for the columns) for the scenarios and how to read the output.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/farm/run-farm-bench.sh [options]

  --scenarios LIST     comma-separated, in order (default: vlmcsd,sqlite1,pg1,pg2,pg3,pg2fsync,half,million)
                         vlmcsd   the vlmcsd binary given with --vlmcsd (skipped without it)
                         sqlite1  1 node, embedded SQLite store
                         pg1/pg2/pg3  1/2/3 nodes sharing one PostgreSQL database (durability process)
                         pg2fsync 2 nodes PostgreSQL, --durability fsync
                         half     2 nodes PostgreSQL, paced at half the pg2 peak (needs pg2 earlier, or --half-rate)
                         million  2 nodes PostgreSQL, --clients 1000000, all first activations; node RSS afterwards
  --modes LIST         reused,new,vlmcs4 (default reused,new): load generator with a connection kept per worker, or one
                       connection per activation; or four sequential `vlmcs -6 -n 2000000000` clients (needs --vlmcs)
  --mixes LIST         load generator product mixes, e.g. windows,default (default: default); windows puts every
                       request on one product-group grain (the worst case)
  --vlmcsd PATH        a vlmcsd binary for the vlmcsd scenario (built by the operator, not part of KmsFarm)
  --vlmcs PATH         a vlmcs binary for the vlmcs4 mode
  --duration D         length of each load run (default 15s)
  --concurrency N      load generator workers with reused connections (default 64)
  --new-concurrency N  workers with a new connection per activation (default 128)
  --clients N          simulated machines (default 100000)
  --renewal-ratio R    fraction of renewals (default 0.5)
  --half-rate R        target activations/s for 'half' with reused connections (default: pg2 reused peak / 2)
  --half-rate-new R    target for 'half' with a new connection each (default: pg2 new peak / 2)
  --million-duration D length of the 'million' run (default 200s)
  --warmup D           unrecorded load before each measured run, so the JIT has settled (default 5s; 0 to skip)
  --pg-options S       appended to the nodes' PostgreSQL connection string (e.g. "Max Auto Prepare=20")
  --perf               profile node 1 with perf for 8 s of each run (writes perf-SCENARIO-MODE.txt)
  --no-build           use the existing Release build
  --out DIR            results directory (default: a new temp dir; kept)
  -h, --help
EOF
}

SCENARIOS="vlmcsd,sqlite1,pg1,pg2,pg3,pg2fsync,half,million"
MODES="reused,new"
MIXES="default"
VLMCSD=""
VLMCS=""
DURATION="15s"
CONCURRENCY=64
NEW_CONCURRENCY=128
CLIENTS=100000
RENEWAL=0.5
HALF_RATE=""
HALF_RATE_NEW=""
MILLION_DURATION="200s"
WARMUP="5s"
PG_OPTIONS=""
PERF=0
BUILD=1
OUT=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenarios) SCENARIOS="$2"; shift 2 ;;
        --modes) MODES="$2"; shift 2 ;;
        --mixes) MIXES="$2"; shift 2 ;;
        --vlmcsd) VLMCSD="$2"; shift 2 ;;
        --vlmcs) VLMCS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --new-concurrency) NEW_CONCURRENCY="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --renewal-ratio) RENEWAL="$2"; shift 2 ;;
        --half-rate) HALF_RATE="$2"; shift 2 ;;
        --half-rate-new) HALF_RATE_NEW="$2"; shift 2 ;;
        --million-duration) MILLION_DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --pg-options) PG_OPTIONS="$2"; shift 2 ;;
        --perf) PERF=1; shift ;;
        --no-build) BUILD=0; shift ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/kmsfarm-bench-XXXXXX)"
chmod 711 "$WORK"   # the postgres user must reach $WORK/pg
OUT="${OUT:-$WORK/results}"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
CLK_TCK="$(getconf CLK_TCK)"
NODE_DLL="$REPO/src/KmsFarm.Node/bin/Release/net10.0/KmsFarm.Node.dll"
CLIENT_DLL="$REPO/src/KmsFarm.Client/bin/Release/net10.0/kmsfarm-client.dll"

PG_BIN=""
PG_PORT=""
PG_DIR="$WORK/pg"
PG_STARTED=0
NODE_PIDS=()

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---- clean-up -------------------------------------------------------------------------------------------------------
# Only a pid that is still a child of this script is signalled: a reaped child's pid may belong to any process by now.
own_child() { [[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" == "$$" ]]; }

stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do
        own_child "$pid" && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${NODE_PIDS[@]}"; do
        for _ in $(seq 1 100); do own_child "$pid" || break; sleep 0.1; done
        own_child "$pid" && kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
}

pg_run() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    set +e
    stop_nodes
    if [[ "$PG_STARTED" == 1 ]]; then
        pg_run "$PG_BIN/pg_ctl" stop -D "$PG_DIR/data" -m fast -w -s >/dev/null 2>&1
    fi
    rm -rf "$PG_DIR" "$WORK"/*.db "$WORK"/*.db-wal "$WORK"/*.db-shm
    [[ "$OUT" == "$WORK/results" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers --------------------------------------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# utime+stime (+ reaped children with "all") of one process, in clock ticks; 0 if it is gone.
cpu_ticks() {
    local stat rest
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
    rest="${stat##*) }"   # fields from 3 on (the name may contain spaces)
    # shellcheck disable=SC2086
    set -- $rest
    if [[ "${2:-}" == all ]]; then echo $(( ${12} + ${13} + ${14} + ${15} )); else echo $(( ${12} + ${13} )); fi
}

# PostgreSQL: the postmaster with its reaped children, plus every live child (backends, walwriter, checkpointer…).
pg_ticks() {
    local pm total child
    pm="$(head -1 "$PG_DIR/data/postmaster.pid")"
    total="$(cpu_ticks "$pm" all)"
    for child in $(pgrep -P "$pm"); do total=$(( total + $(cpu_ticks "$child") )); done
    echo "$total"
}

nodes_ticks() {
    local total=0 pid
    for pid in "${NODE_PIDS[@]}"; do total=$(( total + $(cpu_ticks "$pid") )); done
    echo "$total"
}

# Busy ticks of the whole machine (all cores) from /proc/stat: user+nice+system+irq+softirq+steal.
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

psql_q() { PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "${2:-postgres}" -Atq -c "$1"; }

xact_commit() { psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'"; }

start_postgres() {
    [[ "$PG_STARTED" == 1 ]] && return
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
    # Durable commits (fsync, synchronous_commit on): an answer means the activation is on disk.
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
    pg_run "$PG_BIN/pg_ctl" start -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 -s || { tail -20 "$PG_DIR/server.log" >&2; exit 1; }
    PG_STARTED=1
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

wait_ready() {
    local url="$1" pid="$2"
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || { echo "node $pid exited during start-up; see $OUT/node-*.log" >&2; return 1; }
        curl -fs -m 2 "$url" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "node $pid not ready at $url after 60 s" >&2
    return 1
}

# start_nodes COUNT STORE TAG DURABILITY -> NODE_PIDS, HOSTS
start_nodes() {
    local count="$1" store="$2" tag="$3" durability="$4" i kms http silo pid
    HOSTS=""
    for i in $(seq 1 "$count"); do
        kms="$(free_port)"; http="$(free_port)"; silo="$(free_port)"
        # With --perf: a perf map for JIT-compiled code, without W^X double mapping (which hides it from perf). The load
        # generator is one address (127.0.0.1) standing for all the machines: no per-address limits.
        DOTNET_PerfMapEnabled=$PERF DOTNET_EnableWriteXorExecute=$(( 1 - PERF )) dotnet "$NODE_DLL" \
            --kms-endpoint "127.0.0.1:$kms" --http-endpoint "127.0.0.1:$http" \
            --store "$store" --node-name "bench-node$i" --log-level Warning \
            --silo-port "$silo" --advertised-address 127.0.0.1 --durability "$durability" \
            --max-connections-per-source 1000 --request-rate 0 \
            >"$OUT/node-$tag-$i.log" 2>&1 &
        pid=$!
        NODE_PIDS+=("$pid")
        # The first node creates the schema and farm identity; the others join it.
        wait_ready "http://127.0.0.1:$http/healthz/ready" "$pid"
        HOSTS="${HOSTS:+$HOSTS,}127.0.0.1:$kms"
    done
    log "$count node(s) ready: $HOSTS"
}

# start_vlmcsd -> NODE_PIDS (its process counts as the "nodes" column), HOSTS
start_vlmcsd() {
    local port
    port="$(free_port)"
    # Foreground, no log: what a lab runs. -M0 (the default): vlmcsd does not maintain a client list.
    "$VLMCSD" -D -L "127.0.0.1:$port" >"$OUT/vlmcsd.log" 2>&1 &
    NODE_PIDS+=("$!")
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    HOSTS="127.0.0.1:$port"
    log "vlmcsd ($("$VLMCSD" -V 2>&1 | head -1)) on $HOSTS"
}

node_rss_kb() {
    local total=0 max=0 pid v
    for pid in "${NODE_PIDS[@]}"; do
        v="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")"
        total=$(( total + v )); (( v > max )) && max=$v
    done
    echo "$max"
}

# run_vlmcs SCENARIO NODES STORE_KIND DB: four `vlmcs -6 -n 2000000000` processes in parallel for DURATION, each sending
# one request after another on one connection, as `vlmcs` users benchmark hosts; rate = answered requests / elapsed.
run_vlmcs() {
    local scenario="$1" nodes="$2" kind="$3" db="$4" mix="$5"
    local host="${HOSTS%%,*}" i pids=() seconds
    seconds="$(echo "$DURATION" | sed 's/s$//')"
    local n0 p0 m0 x0=0 t0 load_before
    local hosts_arr=(${HOSTS//,/ })
    if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        # The same four clients, unrecorded, so the JIT has settled before the measured run (as for the load generator).
        for i in 0 1 2 3; do
            timeout -s INT "$(echo "$WARMUP" | sed 's/s$//')" "$VLMCS" -6 -n 2000000000 "${hosts_arr[$(( i % ${#hosts_arr[@]} ))]}" >/dev/null 2>&1 &
            pids+=("$!")
        done
        for i in "${pids[@]}"; do wait "$i" || true; done
        pids=()
    fi
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    [[ "$kind" == pg ]] && x0="$(xact_commit "$db")"
    n0="$(nodes_ticks)"; p0=0; [[ "$kind" == pg ]] && p0="$(pg_ticks)"; m0="$(machine_ticks)"; t0="$(date +%s.%N)"
    log "$scenario/vlmcs4: 4 x vlmcs -6 -n 2000000000 ${HOSTS//,/ } for ${seconds}s (client i uses host i mod H)"
    for i in 0 1 2 3; do
        /usr/bin/time -f '%U %S' -o "$OUT/vlmcs-$scenario-$i.time" \
            timeout -s INT "$seconds" "$VLMCS" -6 -n 2000000000 "${hosts_arr[$(( i % ${#hosts_arr[@]} ))]}" >"$OUT/vlmcs-$scenario-$i.out" 2>&1 &
        pids+=("$!")
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    local t1 n1 p1 m1 x1=0 answered=0 cpu=0 u s
    t1="$(date +%s.%N)"; n1="$(nodes_ticks)"; p1=0; [[ "$kind" == pg ]] && p1="$(pg_ticks)"; m1="$(machine_ticks)"
    if [[ "$kind" == pg ]]; then sleep 1.2; x1="$(xact_commit "$db")"; fi
    for i in 0 1 2 3; do
        answered=$(( answered + $(grep -c -- ' -> ' "$OUT/vlmcs-$scenario-$i.out" || true) ))
        read -r u s <"$OUT/vlmcs-$scenario-$i.time" || true
        cpu="$(awk -v a="$cpu" -v b="${u:-0}" -v c="${s:-0}" 'BEGIN{printf "%.2f", a + b + c}')"
    done
    local errors
    errors="$(cat "$OUT"/vlmcs-"$scenario"-*.out | grep -ci -E 'error|fail|timed out' || true)"
    jq -nc --arg scenario "$scenario" --arg mix "$mix" --argjson nodes "$nodes" --arg store "$kind" --arg load "$load_before" \
        --arg cmd "4 x vlmcs -6 -n 2000000000 HOST for $DURATION" \
        --argjson wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')" --argjson hz "$CLK_TCK" \
        --argjson answered "$answered" --argjson errors "$errors" \
        --argjson node_ticks "$(( n1 - n0 ))" --argjson pg_ticks "$(( p1 - p0 ))" --argjson machine_ticks "$(( m1 - m0 ))" \
        --argjson load_cpu "$cpu" --argjson commits "$(( x1 - x0 ))" --argjson rss_kb "$(node_rss_kb)" \
        '{scenario: $scenario, mode: "vlmcs4", mix: "vlmcs", nodes: $nodes, store: $store, exit: 0, loadavg: $load, command: $cmd,
          rate: ($answered / $wall), target: null, requests: $answered, activations: $answered, failed: 0, errors: $errors,
          distinct: null, clients: 4, p50: null, p95: null, p99: null, max: null, wall: $wall,
          cores_nodes: ($node_ticks / $hz / $wall), cores_pg: ($pg_ticks / $hz / $wall), cores_load: ($load_cpu / $wall),
          cores_other: ((($machine_ticks - $node_ticks - $pg_ticks) / $hz - $load_cpu) / $wall),
          load_rss_mb: null, node_rss_mb_max: ($rss_kb / 1024), commits: $commits, commits_per_s: ($commits / $wall),
          per_commit: (if $commits > 0 then $answered / $commits else null end), counts: []}' >>"$RESULTS"
    tail -1 "$RESULTS" | jq -r '"  \(.rate|floor)/s  errors \(.errors)  cores: nodes \(.cores_nodes*100|round/100) pg \(.cores_pg*100|round/100) vlmcs \(.cores_load*100|round/100)  node RSS \(.node_rss_mb_max|floor) MB"' >&2
}

# run_load SCENARIO NODES STORE_KIND DB MODE MIX [extra load args…]
run_load() {
    local scenario="$1" nodes="$2" kind="$3" db="$4" mode="$5" mix="$6"; shift 6
    if [[ "$mode" == vlmcs4 ]]; then run_vlmcs "$scenario" "$nodes" "$kind" "$db" "$mix"; return; fi
    local json="$OUT/load-$scenario-$mode-$mix.json" timef="$OUT/time-$scenario-$mode-$mix.txt"
    local conc="$CONCURRENCY" newflag=()
    if [[ "$mode" == new ]]; then conc="$NEW_CONCURRENCY"; newflag=(--new-connection); fi
    local args=(load --hosts "$HOSTS" --clients "$CLIENTS" --duration "$DURATION" --concurrency "$conc"
        --renewal-ratio "$RENEWAL" --mix "$mix" --json "${newflag[@]}" "$@")
    if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        # Another seed: the warm-up population does not overlap the measured one.
        dotnet "$CLIENT_DLL" load --hosts "$HOSTS" --clients 10000 --duration "$WARMUP" --concurrency "$conc" --mix "$mix" --seed 99 --json "${newflag[@]}" \
            >/dev/null 2>&1 || true
    fi
    log "$scenario/$mode/$mix: kmsfarm-client ${args[*]}"

    local load_before n0 p0 m0 x0=0 t0 perf_pid=""
    load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
    [[ "$kind" == pg ]] && x0="$(xact_commit "$db")"
    n0="$(nodes_ticks)"; p0=0; [[ "$kind" == pg ]] && p0="$(pg_ticks)"; m0="$(machine_ticks)"; t0="$(date +%s.%N)"
    if [[ "$PERF" == 1 ]] && command -v perf >/dev/null; then
        perf record -F 999 -o "$OUT/perf-$scenario-$mode.data" -p "${NODE_PIDS[0]}" -- sleep 8 >/dev/null 2>&1 &
        perf_pid=$!
    fi
    local rc=0
    /usr/bin/time -f '%U %S %M' -o "$timef" dotnet "$CLIENT_DLL" "${args[@]}" >"$json" 2>"$OUT/load-$scenario-$mode.err" || rc=$?
    local t1 n1 p1 m1 x1=0
    t1="$(date +%s.%N)"; n1="$(nodes_ticks)"; p1=0; [[ "$kind" == pg ]] && p1="$(pg_ticks)"; m1="$(machine_ticks)"
    if [[ -n "$perf_pid" ]]; then
        wait "$perf_pid" || true
        perf report -i "$OUT/perf-$scenario-$mode.data" --no-children --sort dso,sym -g none --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 >"$OUT/perf-$scenario-$mode.txt" || true
    fi
    if [[ "$kind" == pg ]]; then sleep 1.2; x1="$(xact_commit "$db")"; fi
    if ! jq -e . "$json" >/dev/null 2>&1; then
        echo "load generator failed (exit $rc); see $OUT/load-$scenario-$mode.err" >&2
        return 1
    fi
    local lu ls lmax
    read -r lu ls lmax <"$timef"
    jq -c \
        --arg scenario "$scenario" --arg mode "$mode" --arg mix "$mix" --argjson nodes "$nodes" --arg store "$kind" --argjson rc "$rc" \
        --arg load "$load_before" --arg cmd "kmsfarm-client ${args[*]}" \
        --argjson wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')" --argjson hz "$CLK_TCK" \
        --argjson node_ticks "$(( n1 - n0 ))" --argjson pg_ticks "$(( p1 - p0 ))" --argjson machine_ticks "$(( m1 - m0 ))" \
        --argjson load_cpu "$(awk -v a="$lu" -v b="$ls" 'BEGIN{printf "%.2f", a + b}')" --argjson load_rss_kb "$lmax" \
        --argjson commits "$(( x1 - x0 ))" --argjson rss_kb "$(node_rss_kb)" \
        '{scenario: $scenario, mode: $mode, mix: $mix, nodes: $nodes, store: $store, exit: $rc, loadavg: $load, command: $cmd,
          rate: .activationsPerSecond, target: .targetRate, requests: .requests, activations: .activations,
          failed: .failedRequests, errors: ([.errors[]] | add), distinct: .machinesActivated, clients: .clients,
          p50: .latency.p50Ms, p95: .latency.p95Ms, p99: .latency.p99Ms, max: .latency.maxMs,
          wall: $wall,
          cores_nodes: ($node_ticks / $hz / $wall), cores_pg: ($pg_ticks / $hz / $wall), cores_load: ($load_cpu / $wall),
          cores_other: ((($machine_ticks - $node_ticks - $pg_ticks) / $hz - $load_cpu) / $wall),
          load_rss_mb: ($load_rss_kb / 1024), node_rss_mb_max: ($rss_kb / 1024),
          commits: $commits, commits_per_s: ($commits / $wall),
          per_commit: (if $commits > 0 then .activations / $commits else null end),
          counts: [.hosts[] | {host, activations, counts: [.counts[] | {group, count}]}]}' \
        "$json" >>"$RESULTS"
    tail -1 "$RESULTS" | jq -r '"  \(.rate|floor)/s  p50 \(.p50*100|round/100) p99 \(.p99*100|round/100) ms  errors \(.errors)  cores: nodes \(.cores_nodes*100|round/100) pg \(.cores_pg*100|round/100) load \(.cores_load*100|round/100) other \(.cores_other*100|round/100)  commits/s \(.commits_per_s|floor)  node RSS \(.node_rss_mb_max|floor) MB"' >&2
}

peak_of() { jq -r --arg s "$1" --arg m "$2" --arg x "$3" 'select(.scenario == $s and .mode == $m and .mix == $x) | .rate' "$RESULTS" | tail -1; }

# ---- scenarios ------------------------------------------------------------------------------------------------------
# run_scenario NAME NODES KIND MODES DURABILITY [extra load args…]
run_scenario() {
    local name="$1" nodes="$2" kind="$3" modes="$4" durability="$5"; shift 5
    local mode mix store db="" mixes="$MIXES"
    for mode in ${modes//,/ }; do
        if [[ "$mode" == vlmcs4 ]]; then
            [[ -n "$VLMCS" ]] || { log "$name/vlmcs4: skipped (no --vlmcs)"; continue; }
            mixes="vlmcs"
        else
            mixes="$MIXES"
        fi
        for mix in ${mixes//,/ }; do
            # A fresh store per run, so every run starts from empty ledgers.
            if [[ "$kind" == vlmcsd ]]; then
                start_vlmcsd
            else
                if [[ "$kind" == pg ]]; then
                    start_postgres
                    db="bench_${name}_${mode}_${mix}"
                    psql_q "DROP DATABASE IF EXISTS $db" >/dev/null
                    psql_q "CREATE DATABASE $db" >/dev/null
                    store="postgres:Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$db${PG_OPTIONS:+;$PG_OPTIONS}"
                else
                    store="sqlite:$WORK/$name-$mode-$mix.db"
                fi
                start_nodes "$nodes" "$store" "$name-$mode-$mix" "$durability"
            fi
            local extra=("$@")
            if [[ "$name" == half ]]; then
                # Half of the measured pg2 peak of the same mode and mix, unless given.
                local rate
                if [[ "$mode" == reused ]]; then rate="${HALF_RATE:-$(awk -v p="$(peak_of pg2 reused "$mix")" 'BEGIN{if (p > 0) printf "%.0f", p / 2}')}"
                else rate="${HALF_RATE_NEW:-$(awk -v p="$(peak_of pg2 new "$mix")" 'BEGIN{if (p > 0) printf "%.0f", p / 2}')}"; fi
                if [[ -z "$rate" || "$mode" == vlmcs4 ]]; then
                    echo "half/$mode/$mix: no pg2 peak of that mode and mix in this run; give --half-rate / --half-rate-new" >&2
                    stop_nodes; continue
                fi
                extra+=(--rate "$rate")
            fi
            run_load "$name" "$nodes" "$kind" "$db" "$mode" "$mix" "${extra[@]}" || true
            stop_nodes
        done
    done
}

if [[ "$BUILD" == 1 ]]; then
    log "building Release (node and client)"
    dotnet build -c Release -v q -nologo "$REPO/src/KmsFarm.Node" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
    dotnet build -c Release -v q -nologo "$REPO/src/KmsFarm.Client" >>"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log" >&2; exit 1; }
fi

log "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT"
for scenario in ${SCENARIOS//,/ }; do
    case "$scenario" in
        vlmcsd)
            if [[ -z "$VLMCSD" ]]; then log "vlmcsd: skipped (no --vlmcsd)"; continue; fi
            run_scenario vlmcsd 1 vlmcsd "$MODES" - ;;
        sqlite1) run_scenario sqlite1 1 sqlite "$MODES" process ;;
        pg1) run_scenario pg1 1 pg "$MODES" process ;;
        pg2) run_scenario pg2 2 pg "$MODES" process ;;
        pg3) run_scenario pg3 3 pg "$MODES" process ;;
        pg2fsync) run_scenario pg2fsync 2 pg "$MODES" fsync ;;
        half) run_scenario half 2 pg "${MODES//vlmcs4/}" process ;;
        million)
            # Every request a first activation while unseen machines remain: as many distinct CMIDs as the run reaches.
            saved=("$CLIENTS" "$DURATION" "$RENEWAL" "$MIXES"); CLIENTS=1000000; DURATION="$MILLION_DURATION"; RENEWAL=0; MIXES=default
            run_scenario million 2 pg reused process
            CLIENTS="${saved[0]}"; DURATION="${saved[1]}"; RENEWAL="${saved[2]}"; MIXES="${saved[3]}" ;;
        *) echo "unknown scenario: $scenario" >&2; exit 2 ;;
    esac
done

# ---- table ----------------------------------------------------------------------------------------------------------
{
    echo "| scenario | load | mix | nodes | store | activations/s | target | p50 ms | p95 ms | p99 ms | max ms | errors | distinct clients | cores: nodes / PG / loadgen / other | node CPU µs per activation | PG commits/s | activations per commit | node RSS MB (max) | load avg before |"
    echo "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"
    jq -r 'def r2: if . == null then "–" else (.*100|round/100) end;
      "| \(.scenario) | \(.mode) | \(.mix) | \(.nodes) | \(.store) | \(.rate|floor) | \(.target // "–") | \(.p50|r2) | \(.p95|r2) | \(.p99|r2) | \(if .max == null then "–" else (.max*10|round/10) end) | \(.errors) | \(.distinct // "–") | \(.cores_nodes*100|round/100) / \(.cores_pg*100|round/100) / \(.cores_load*100|round/100) / \(.cores_other*100|round/100) | \(if .rate > 0 then (.cores_nodes / .rate * 1000000 | round) else "–" end) | \(if .store == "pg" then (.commits_per_s|floor) else "–" end) | \(if .per_commit then (.per_commit*10|round/10) else "–" end) | \(.node_rss_mb_max|floor) | \(.loadavg) |"' "$RESULTS"
} | tee "$OUT/table.md"
log "results: $RESULTS, table: $OUT/table.md"
