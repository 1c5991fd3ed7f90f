#!/usr/bin/env bash
# Admission control against a connection flood, by hand: one node (Release build, SQLite store) on 127.0.0.1, one source
# (127.0.0.2) holding 2,000 connections to it (bench/admission/connection-hog.py), and the reference client vlmcs (built
# by the operator from the public vlmcsd sources; not part of KmsFarm) run 100 times from 127.0.0.1 meanwhile. Prints
# how many vlmcs runs activated, the node's refusals by reason from /metrics, its readiness and the attacker's figures.
# Results: docs/RELIABILITY.md, "Admission".
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/admission/run-flood-check.sh --vlmcs PATH [--runs N] [--connections N] [--no-build] [-- NODE_FLAGS...]
  --vlmcs PATH       the vlmcs binary (exit code 0 = activated)
  --runs N           vlmcs runs from 127.0.0.1 (default 100)
  --connections N    connections the attacker holds from 127.0.0.2 (default 2000)
  --no-build         use the node as built (src/KmsFarm.Node/bin/Release)
  -- NODE_FLAGS...   extra node flags, e.g. -- --max-connections-per-source 32
USAGE
}

VLMCS=""; RUNS=100; CONNECTIONS=2000; BUILD=1; NODE_FLAGS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --vlmcs) VLMCS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --) shift; NODE_FLAGS=("$@"); break ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[[ -x "$VLMCS" ]] || { usage >&2; exit 2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/kmsfarm-flood-XXXXXX)"
NODE_DLL="$REPO/src/KmsFarm.Node/bin/Release/net10.0/KmsFarm.Node.dll"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
refusals() { curl -fs -m 5 "http://127.0.0.1:$HTTP/metrics" | grep -E '^kms_(admission_refusals|rpc_connections_rejected)_total' || true; }
refused_by() { refusals | awk -v r="reason=\"$1\"" 'index($0, "kms_admission_refusals_total") && index($0, r) { s += $NF } END { print s + 0 }'; }

[[ "$BUILD" == 1 ]] && dotnet build -c Release -v q -nologo "$REPO/src/KmsFarm.Node" >"$WORK/build.log" 2>&1
KMS="$(free_port)"; HTTP="$(free_port)"; SILO="$(free_port)"
echo "node: KMS 127.0.0.1:$KMS, HTTP 127.0.0.1:$HTTP, open-file limit $(ulimit -n)"
dotnet "$NODE_DLL" --kms-endpoint "127.0.0.1:$KMS" --http-endpoint "127.0.0.1:$HTTP" --silo-port "$SILO" \
    --advertised-address 127.0.0.1 --store "sqlite:$WORK/flood.db" --node-name flood-check --log-level Warning \
    "${NODE_FLAGS[@]}" >"$WORK/node.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 300); do curl -fs -m 2 "http://127.0.0.1:$HTTP/healthz/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs -m 2 "http://127.0.0.1:$HTTP/healthz/ready" >/dev/null || { echo "node not ready:"; cat "$WORK/node.log"; exit 1; }

python3 "$REPO/bench/admission/connection-hog.py" 127.0.0.1 "$KMS" 127.0.0.2 "$CONNECTIONS" 2>"$WORK/hog.log" &
PIDS+=("$!")
# The attacker is at its per-source limit once the node has refused all but 64 of its first round (waited, bounded).
for _ in $(seq 1 300); do (( $(refused_by per_source_limit) >= CONNECTIONS - 64 )) && break; sleep 0.2; done
for _ in $(seq 1 50); do [[ -s "$WORK/hog.log" ]] && break; sleep 0.2; done  # its first status line (one a second)
echo "before vlmcs: $(tail -1 "$WORK/hog.log"); per_source_limit refusals so far $(refused_by per_source_limit)"

ok=0
for i in $(seq 1 "$RUNS"); do
    rc=0
    "$VLMCS" "127.0.0.1:$KMS" -l 3 >"$WORK/vlmcs.out" 2>&1 || rc=$?
    if [[ "$rc" == 0 ]]; then ok=$(( ok + 1 )); else echo "vlmcs run $i: rc=$rc: $(tr '\n' ' ' <"$WORK/vlmcs.out" | cut -c1-200)"; fi
done
echo "vlmcs: $ok of $RUNS runs activated (exit code 0) from 127.0.0.1 while 127.0.0.2 kept $CONNECTIONS connections open or reopening"
echo "readiness: $(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/healthz/ready")"
# The connections the node admitted from the attacker send nothing: they are cut at the handshake timeout (5 s), and the
# refusals are summed up in a Warning line per source every 10 s. Wait for both (bounded), then show them.
for _ in $(seq 1 300); do
    (( $(refused_by handshake_timeout) >= 64 )) && grep -q 'Refused [0-9]' "$WORK/node.log" && break
    sleep 0.2
done
kill -TERM "${PIDS[1]}" 2>/dev/null || true; wait "${PIDS[1]}" 2>/dev/null || true
echo "after: $(tail -1 "$WORK/hog.log")"
echo "refusals on /metrics:"
refusals | sed 's/^/    /'
echo "node Warning summary lines: $(grep -c 'Refused [0-9]' "$WORK/node.log"), the first 3:"
grep 'Refused [0-9]' "$WORK/node.log" | head -3 | sed 's/^ */    /'
