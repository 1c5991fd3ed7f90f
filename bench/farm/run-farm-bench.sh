#!/usr/bin/env bash
# Farm benchmark: real node processes and the load generator, all on 127.0.0.1.
#
# Builds Release once, starts a throwaway PostgreSQL (temp dir, random loopback port, as the postgres user when run as
# root) if a scenario needs it, then for each scenario starts N nodes with distinct ports and names, waits for
# /healthz/ready, runs `kmsfarm-client load --json` with reused connections and with a new connection per activation,
# and records throughput, latency, CPU per process group, node RSS and PostgreSQL commits. Everything is stopped and
# removed on exit. See docs/BENCHMARKS.md ("Farm (load generator)") for the scenarios and how to read the output.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/farm/run-farm-bench.sh [options]

  --scenarios LIST     comma-separated, in order (default: sqlite1,pg1,pg2,pg3,half,million)
                         sqlite1  1 node, embedded SQLite store
                         pg1/pg2/pg3  1/2/3 nodes sharing one PostgreSQL database
                         half     2 nodes PostgreSQL, paced at half the pg2 peak (needs pg2 earlier, or --half-rate)
                         million  2 nodes PostgreSQL, --clients 1000000, all first activations; node RSS afterwards
  --modes LIST         reused,new (default both): connection kept per worker, or one connection per activation
  --duration D         length of each load run (default 15s)
  --concurrency N      load generator workers with reused connections (default 256)
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

SCENARIOS="sqlite1,pg1,pg2,pg3,half,million"
MODES="reused,new"
DURATION="15s"
CONCURRENCY=256
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
stop_nodes() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${NODE_PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
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

# start_nodes COUNT STORE TAG -> NODE_PIDS, HOSTS
start_nodes() {
    local count="$1" store="$2" tag="$3" i kms http pid
    HOSTS=""
    for i in $(seq 1 "$count"); do
        kms="$(free_port)"; http="$(free_port)"
        # With --perf: a perf map for JIT-compiled code, without W^X double mapping (which hides it from perf).
        DOTNET_PerfMapEnabled=$PERF DOTNET_EnableWriteXorExecute=$(( 1 - PERF )) dotnet "$NODE_DLL" \
            --kms-endpoint "127.0.0.1:$kms" --http-endpoint "127.0.0.1:$http" \
            --store "$store" --node-name "bench-node$i" --log-level Warning \
            >"$OUT/node-$tag-$i.log" 2>&1 &
        pid=$!
        NODE_PIDS+=("$pid")
        # The first node creates the schema and farm identity; the others join it.
        wait_ready "http://127.0.0.1:$http/healthz/ready" "$pid"
        HOSTS="${HOSTS:+$HOSTS,}127.0.0.1:$kms"
    done
    log "$count node(s) ready: $HOSTS"
}

node_rss_kb() {
    local total=0 max=0 pid v
    for pid in "${NODE_PIDS[@]}"; do
        v="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")"
        total=$(( total + v )); (( v > max )) && max=$v
    done
    echo "$max"
}

# run_load SCENARIO NODES STORE_KIND DB MODE [extra load args…]
run_load() {
    local scenario="$1" nodes="$2" kind="$3" db="$4" mode="$5"; shift 5
    local json="$OUT/load-$scenario-$mode.json" timef="$OUT/time-$scenario-$mode.txt"
    local conc="$CONCURRENCY" newflag=()
    if [[ "$mode" == new ]]; then conc="$NEW_CONCURRENCY"; newflag=(--new-connection); fi
    local args=(load --hosts "$HOSTS" --clients "$CLIENTS" --duration "$DURATION" --concurrency "$conc"
        --renewal-ratio "$RENEWAL" --json "${newflag[@]}" "$@")
    if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
        # Another seed: the warm-up population does not overlap the measured one.
        dotnet "$CLIENT_DLL" load --hosts "$HOSTS" --clients 10000 --duration "$WARMUP" --concurrency "$conc" --seed 99 --json "${newflag[@]}" \
            >/dev/null 2>&1 || true
    fi
    log "$scenario/$mode: kmsfarm-client ${args[*]}"

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
        --arg scenario "$scenario" --arg mode "$mode" --argjson nodes "$nodes" --arg store "$kind" --argjson rc "$rc" \
        --arg load "$load_before" --arg cmd "kmsfarm-client ${args[*]}" \
        --argjson wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')" --argjson hz "$CLK_TCK" \
        --argjson node_ticks "$(( n1 - n0 ))" --argjson pg_ticks "$(( p1 - p0 ))" --argjson machine_ticks "$(( m1 - m0 ))" \
        --argjson load_cpu "$(awk -v a="$lu" -v b="$ls" 'BEGIN{printf "%.2f", a + b}')" --argjson load_rss_kb "$lmax" \
        --argjson commits "$(( x1 - x0 ))" --argjson rss_kb "$(node_rss_kb)" \
        '{scenario: $scenario, mode: $mode, nodes: $nodes, store: $store, exit: $rc, loadavg: $load, command: $cmd,
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

peak_of() { jq -r --arg s "$1" --arg m "$2" 'select(.scenario == $s and .mode == $m) | .rate' "$RESULTS" | tail -1; }

# ---- scenarios ------------------------------------------------------------------------------------------------------
# run_scenario NAME NODES KIND [MODES] [extra load args…]
run_scenario() {
    local name="$1" nodes="$2" kind="$3" modes="$4"; shift 4
    local mode store db=""
    for mode in ${modes//,/ }; do
        # A fresh store per run, so every run starts from empty ledgers.
        if [[ "$kind" == pg ]]; then
            start_postgres
            db="bench_${name}_${mode}"
            psql_q "DROP DATABASE IF EXISTS $db" >/dev/null
            psql_q "CREATE DATABASE $db" >/dev/null
            store="postgres:Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$db${PG_OPTIONS:+;$PG_OPTIONS}"
        else
            store="sqlite:$WORK/$name-$mode.db"
        fi
        start_nodes "$nodes" "$store" "$name-$mode"
        local extra=("$@")
        if [[ "$name" == half ]]; then
            # Half of the measured pg2 peak of the same mode, unless given.
            local rate
            if [[ "$mode" == reused ]]; then rate="${HALF_RATE:-$(awk -v p="$(peak_of pg2 reused)" 'BEGIN{if (p > 0) printf "%.0f", p / 2}')}"
            else rate="${HALF_RATE_NEW:-$(awk -v p="$(peak_of pg2 new)" 'BEGIN{if (p > 0) printf "%.0f", p / 2}')}"; fi
            if [[ -z "$rate" ]]; then
                echo "half/$mode: no pg2 $mode peak measured in this run; give --half-rate / --half-rate-new" >&2
                stop_nodes; continue
            fi
            extra+=(--rate "$rate")
        fi
        run_load "$name" "$nodes" "$kind" "$db" "$mode" "${extra[@]}" || true
        stop_nodes
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
        sqlite1) run_scenario sqlite1 1 sqlite "$MODES" ;;
        pg1) run_scenario pg1 1 pg "$MODES" ;;
        pg2) run_scenario pg2 2 pg "$MODES" ;;
        pg3) run_scenario pg3 3 pg "$MODES" ;;
        half) run_scenario half 2 pg "$MODES" ;;
        million)
            # Every request a first activation while unseen machines remain: as many distinct CMIDs as the run reaches.
            saved=("$CLIENTS" "$DURATION" "$RENEWAL"); CLIENTS=1000000; DURATION="$MILLION_DURATION"; RENEWAL=0
            run_scenario million 2 pg reused
            CLIENTS="${saved[0]}"; DURATION="${saved[1]}"; RENEWAL="${saved[2]}" ;;
        *) echo "unknown scenario: $scenario" >&2; exit 2 ;;
    esac
done

# ---- table ----------------------------------------------------------------------------------------------------------
{
    echo "| scenario | connections | nodes | store | activations/s | target | p50 ms | p95 ms | p99 ms | max ms | errors | distinct clients | cores: nodes / PG / loadgen / other | PG commits/s | activations per commit | node RSS MB (max) | load avg before |"
    echo "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|"
    jq -r '"| \(.scenario) | \(.mode) | \(.nodes) | \(.store) | \(.rate|floor) | \(.target // "–") | \(.p50*100|round/100) | \(.p95*100|round/100) | \(.p99*100|round/100) | \(.max*10|round/10) | \(.errors) | \(.distinct) | \(.cores_nodes*100|round/100) / \(.cores_pg*100|round/100) / \(.cores_load*100|round/100) / \(.cores_other*100|round/100) | \(if .store == "pg" then (.commits_per_s|floor) else "–" end) | \(if .per_commit then (.per_commit*10|round/10) else "–" end) | \(.node_rss_mb_max|floor) | \(.loadavg) |"' "$RESULTS"
} | tee "$OUT/table.md"
log "results: $RESULTS, table: $OUT/table.md"
