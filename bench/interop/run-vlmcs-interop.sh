#!/usr/bin/env bash
# Runs the reference client vlmcs (built by the operator from the public vlmcsd sources; not part of KmsFarm) against
# KmsFarm nodes on loopback and prints one table row per run: exit code, responses, warning/error lines, last count,
# protocol and ePID. With --nodes 2 (a farm over the given PostgreSQL store) the runs alternate between the nodes.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/interop/run-vlmcs-interop.sh --vlmcs PATH [--store STORE] [--nodes N] [--no-build]
  --vlmcs PATH   the vlmcs binary
  --store STORE  the nodes' --store (default: sqlite in a temp dir; use postgres:… for a farm)
  --nodes N      nodes to start (default 1; more than 1 needs a postgres store)
USAGE
}

VLMCS=""; STORE=""; NODES=1; BUILD=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --vlmcs) VLMCS="$2"; shift 2 ;;
        --store) STORE="$2"; shift 2 ;;
        --nodes) NODES="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[[ -x "$VLMCS" ]] || { usage >&2; exit 2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/kmsfarm-interop-XXXXXX)"
STORE="${STORE:-sqlite:$WORK/interop.db}"
NODE_DLL="$REPO/src/KmsFarm.Node/bin/Release/net10.0/KmsFarm.Node.dll"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

[[ "$BUILD" == 1 ]] && dotnet build -c Release -v q -nologo "$REPO/src/KmsFarm.Node" >"$WORK/build.log" 2>&1
HOSTS=()
for i in $(seq 1 "$NODES"); do
    kms="$(free_port)"; http="$(free_port)"; silo="$(free_port)"
    dotnet "$NODE_DLL" --kms-endpoint "127.0.0.1:$kms" --http-endpoint "127.0.0.1:$http" --silo-port "$silo" \
        --advertised-address 127.0.0.1 --store "$STORE" --node-name "interop-$i" --log-level Warning >"$WORK/node-$i.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 300); do curl -fs -m 2 "http://127.0.0.1:$http/healthz/ready" >/dev/null 2>&1 && break; sleep 0.2; done
    HOSTS+=("127.0.0.1:$kms")
done

RUNS=(
    "Win7Pro V4|-l 38 -4 -n 3"
    "Vista Business V4|-l 112 -4 -n 3"
    "Server2008R2 Ent V4|-l 92 -4 -n 3"
    "Office2010 ProPlus V4|-l 125 -4 -n 3"
    "Server2012 DC V5|-l 95 -5 -n 3"
    "Office2013 ProPlus V5|-l 143 -5 -n 3"
    "Win10 Pro V5|-l 26 -5 -n 3"
    "Win8.1 Pro V6|-l 69 -6 -n 3"
    "Server2012R2 Std V6|-l 102 -6 -n 3"
    "Server2016 DC V6|-l 105 -6 -n 3"
    "Win10 LTSC2019 V6|-l 8 -6 -n 3"
    "Office2016 ProPlus V6|-l 174 -6 -n 3"
    "Office2019 ProPlus V6|-l 194 -6 -n 3"
    "Win10 Pro V6 default-charge|-l 26 -6"
    "Win10 Pro V6 NDR32only|-l 26 -6 -N0 -B0 -n 3"
    "Win10 Pro V6 new-conn|-l 26 -6 -T -n 3"
    "Win10 Pro V4 nomux|-l 26 -4 -p -n 3"
)
echo "| run | node | vlmcs arguments | result |"
echo "|---|---|---|---|"
n=0
for run in "${RUNS[@]}"; do
    name="${run%%|*}"; args="${run#*|}"
    host="${HOSTS[$(( n % ${#HOSTS[@]} ))]}"; n=$(( n + 1 ))
    rc=0
    # shellcheck disable=SC2086
    "$VLMCS" "$host" -v $args >"$WORK/run.out" 2>&1 || rc=$?
    responses="$(grep -c '^Response from KMS server' "$WORK/run.out" || true)"
    warnings="$(grep -c -i -E 'warning|error|emulator|failed|insufficient' "$WORK/run.out" || true)"
    field() { { grep "^$1" "$WORK/run.out" || true; } | tail -1 | awk -F': ' '{print $2}' | tr -d ' '; }
    count="$(field 'KMS host current active clients')"
    proto="$(field 'Protocol version')"
    epid="$(field 'KMS host extended PID')"
    echo "| $name | $(( (n - 1) % ${#HOSTS[@]} + 1 )) | \`$args\` | rc=$rc responses=$responses warnings/errors=$warnings last_count=${count:-?} proto=${proto:-?} epid=${epid:-?} |"
done
