#!/usr/bin/env bash
# A multi-host KmsFarm lab on one machine. PostgreSQL, BIND, three nodes and the load generator each run in their own
# network namespace, joined by veth pairs to a bridge in a namespace of its own, so they talk over real addresses
# (10.168.0.0/24). The nodes publish themselves in DNS (_vlmcs._tcp SRV, TSIG-signed updates), the load generator finds
# them there, one node is killed with SIGKILL mid-load, and the run ends with
#
#   lab: acknowledged N, in history N, lost 0, counts equal on K nodes
#
# where N is the activations the clients were told about, every one of them found in PostgreSQL's history (matched by
# CMID and count), and K the surviving nodes, which all report the same count per product group. Exit 0 only then.
#
# Run as root on Debian 12 with the .NET SDK: deploy/lab/run.sh (it installs what it lacks). The host never gets an
# address in the lab's range: a blackhole route for it is added before any namespace exists (and removed after), and
# every lab address is reached from inside a namespace (ip netns exec). Settings: KMSFARM_LAB_DURATION (load seconds,
# default 40), KMSFARM_LAB_KILL_AFTER (seconds into the load, 12), KMSFARM_LAB_CLIENTS (2000), KMSFARM_LAB_RATE
# (requests/s, 150), KMSFARM_LAB_KEEP=1 keeps the work dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

duration=${KMSFARM_LAB_DURATION:-40}
kill_after=${KMSFARM_LAB_KILL_AFTER:-12}
clients=${KMSFARM_LAB_CLIENTS:-2000}
rate=${KMSFARM_LAB_RATE:-150}
subnet=10.168.0.0/24
pg_ip=10.168.0.2 dns_ip=10.168.0.3 load_ip=10.168.0.4
node_ips=(10.168.0.11 10.168.0.12 10.168.0.13)
domain=lab.kmsfarm.test
tag=kflab$$
log() { echo "lab: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "lab: needs root (network namespaces, a route, packages)" >&2
  exit 1
fi

# One lab at a time on a machine: labs share the 10.168.0.0/24 range and its route, so a second one (two test suites at
# once) waits here for the first to finish.
exec 9>/run/lock/kmsfarm-lab.lock
if ! flock -w 900 9; then
  echo "lab: another lab has held /run/lock/kmsfarm-lab.lock for 15 minutes" >&2
  exit 1
fi

# --- what the lab needs ------------------------------------------------------------------------------------------
need=()
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
has named || need+=(bind9)
has dig || need+=(dnsutils)
has tsig-keygen || need+=(bind9-utils)
has ip || need+=(iproute2)
has jq || need+=(jq)
has curl || need+=(curl)
has runuser || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # The lab starts its own servers; keep the packages from starting system ones.
  policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
  [ -z "$made_policy" ] || rm -f "$policy"
fi
PATH=$PATH:/usr/sbin:/sbin
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d /tmp/kmsfarm-lab.XXXXXX)
chmod 755 "$work"
log "work dir $work"

# --- the real binaries ----------------------------------------------------------------------------------------------
log "publishing the node and the client (Release)"
dotnet publish src/KmsFarm.Node/KmsFarm.Node.csproj -c Release -p:UseAppHost=false -o "$work/node" --nologo -v quiet >"$work/publish.log" 2>&1 ||
  { tail -30 "$work/publish.log"; exit 1; }
dotnet publish src/KmsFarm.Client/KmsFarm.Client.csproj -c Release -p:UseAppHost=false -o "$work/client" --nologo -v quiet >>"$work/publish.log" 2>&1 ||
  { tail -30 "$work/publish.log"; exit 1; }

# --- teardown: our processes by pid, our namespaces, our route ------------------------------------------------------
pids=()
namespaces=()
added_route=
ok=
# Only a pid that is still a child of this script is signalled: once bash has reaped a child (node1 after its SIGKILL,
# anything that exited), the kernel may give its pid to any other process on the machine, e.g. another test run's.
own_child() { [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" = "$$" ]; }
cleanup() {
  set +e
  for pid in "${pids[@]}"; do own_child "$pid" && kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do own_child "$pid" || break; sleep 0.1; done
    own_child "$pid" && kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    ip netns exec "$tag-pg" runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1
  fi
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  [ -z "$added_route" ] || ip route del blackhole "$subnet" 2>/dev/null
  if [ -z "$ok" ]; then
    for f in "$work"/*.log "$work"/pg/server.log "$work"/load.err; do [ -s "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done
    echo "lab: kept $work" >&2
  elif [ "${KMSFARM_LAB_KEEP:-}" = 1 ]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the network: blackhole first, then namespaces on a private bridge ---------------------------------------------
if ! ip route show type blackhole | grep -q "^blackhole $subnet"; then
  ip route add blackhole "$subnet"
  added_route=1
fi

ip netns add "$tag-br" && namespaces+=("$tag-br")
ip -n "$tag-br" link set lo up
ip -n "$tag-br" link add br0 type bridge
ip -n "$tag-br" link set br0 up
host_ns() { # name address
  ip netns add "$tag-$1" && namespaces+=("$tag-$1")
  ip -n "$tag-$1" link set lo up
  ip -n "$tag-br" link add "v-$1" type veth peer name eth0 netns "$tag-$1"
  ip -n "$tag-br" link set "v-$1" master br0 up
  ip -n "$tag-$1" addr add "$2/24" dev eth0
  ip -n "$tag-$1" link set eth0 up
}
host_ns pg "$pg_ip"
host_ns dns "$dns_ip"
host_ns load "$load_ip"
for i in 1 2 3; do host_ns "n$i" "${node_ips[$((i - 1))]}"; done
# For commands run to completion. Background processes are started with `ip netns exec` itself, which (like env)
# execs its command: $! is then the server's own pid, which is what a SIGKILL must reach.
in_ns() { local ns=$1; shift; ip netns exec "$tag-$ns" "$@"; }
log "namespaces: pg $pg_ip, dns $dns_ip, load $load_ip, nodes ${node_ips[*]} (bridge in $tag-br; host route to $subnet is a blackhole)"

# --- PostgreSQL ------------------------------------------------------------------------------------------------------
mkdir -p "$work/pg" && chown postgres:postgres "$work/pg" && chmod 700 "$work/pg"
password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 \
  >"$work/pg-init.log" 2>&1
echo "host all all $subnet scram-sha-256" >>"$work/pg/data/pg_hba.conf"
in_ns pg runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 60 start \
  -o "-c listen_addresses=$pg_ip -c port=5432 -c unix_socket_directories=$work/pg" >/dev/null
in_ns pg runuser -u postgres -- "$pg_bin/psql" -h "$work/pg" -U postgres -qAt -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE kmsfarm LOGIN PASSWORD '$password'" -c "CREATE DATABASE kmsfarm OWNER kmsfarm" >/dev/null
log "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on $pg_ip:5432 (password authentication)"

# --- BIND: the lab's zone, updates signed with one TSIG key ---------------------------------------------------------
mkdir -p "$work/dns"
tsig-keygen -a hmac-sha256 kmsfarm-lab >"$work/dns/kmsfarm-lab.key"
cat >"$work/dns/$domain.zone" <<EOF
\$TTL 60
@   IN SOA ns.$domain. hostmaster.$domain. ( 1 3600 600 86400 60 )
    IN NS  ns.$domain.
ns  IN A   $dns_ip
EOF
cat >"$work/dns/named.conf" <<EOF
options {
    directory "$work/dns";
    pid-file "$work/dns/named.pid";
    session-keyfile "$work/dns/session.key";
    managed-keys-directory "$work/dns";
    listen-on port 53 { $dns_ip; };
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    dnssec-validation no;
    notify no;
};
controls { };
include "$work/dns/kmsfarm-lab.key";
zone "$domain" { type primary; file "$work/dns/$domain.zone"; allow-update { key "kmsfarm-lab"; }; };
EOF
ip netns exec "$tag-dns" named -g -n 1 -c "$work/dns/named.conf" >"$work/named.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do in_ns load dig +short +time=1 +tries=1 "@$dns_ip" "$domain" SOA >/dev/null 2>&1 && break; sleep 0.2; done
log "BIND on $dns_ip:53, zone $domain"

# --- three nodes, one farm ----------------------------------------------------------------------------------------
# No per-address request rate: the load namespace is one address standing for all the lab's machines.
node_pids=()
for i in 1 2 3; do
  ip=${node_ips[$((i - 1))]}
  ip netns exec "$tag-n$i" env PGPASSWORD="$password" DOTNET_gcServer=0 dotnet "$work/node/KmsFarm.Node.dll" \
    --store "postgres:Host=$pg_ip;Database=kmsfarm;Username=kmsfarm" --cluster-id kmsfarm-lab --node-name "node$i" \
    --kms-endpoint "$ip:1688" --http-endpoint "$ip:8688" --advertised-address "$ip" --silo-port 11111 \
    --dns-publish "$domain" --dns-server "$dns_ip" --dns-tsig-key-file "$work/dns/kmsfarm-lab.key" --dns-host-name "node$i" \
    --request-rate 0 --log-level Warning >"$work/node$i.log" 2>&1 &
  pids+=($!)
  node_pids+=($!)
done
for i in 1 2 3; do
  ip=${node_ips[$((i - 1))]}
  for attempt in $(seq 240); do
    in_ns load curl -fsS -m 5 "http://$ip:8688/healthz/ready" >/dev/null 2>&1 && break
    kill -0 "${node_pids[$((i - 1))]}" 2>/dev/null || { echo "lab: node$i exited" >&2; exit 1; }
    [ "$attempt" -lt 240 ] || { echo "lab: node$i not ready in 120 s" >&2; exit 1; }
    sleep 0.5
  done
done
members=$(in_ns load curl -fsS -m 5 "http://${node_ips[0]}:8688/api/nodes" | jq -r '[.[] | select(.status == "Active") | .name] | sort | join(", ")')
log "nodes ready; Active silos: $members"

srv=()
for _ in $(seq 60); do
  mapfile -t srv < <(in_ns load dig +short +time=2 "@$dns_ip" "_vlmcs._tcp.$domain" SRV | sort)
  [ ${#srv[@]} -ge 3 ] && break
  sleep 0.5
done
[ ${#srv[@]} -ge 3 ] || { echo "lab: the nodes did not publish 3 SRV records: ${srv[*]}" >&2; exit 1; }
log "_vlmcs._tcp.$domain: $(printf '%s; ' "${srv[@]}")"

# --- load, found by SRV, and one node killed mid-load -------------------------------------------------------------
log "load: $clients machines, ${duration} s at $rate requests/s, discovering the nodes in $domain"
load_started=$SECONDS
ip netns exec "$tag-load" dotnet "$work/client/kmsfarm-client.dll" load --dns-domain "$domain" --dns-server "$dns_ip" \
  --clients "$clients" --duration "${duration}s" --rate "$rate" --concurrency 8 --timeout 3 --seed 2782 \
  --json --acknowledged "$work/acknowledged.csv" >"$work/load.json" 2>"$work/load.err" &
load_pid=$!
pids+=($load_pid)
sleep "$kill_after"
victim=1
kill -KILL "${node_pids[$((victim - 1))]}"
log "killed node$victim (SIGKILL) $((SECONDS - load_started)) s into the load"
set +e
wait "$load_pid"
load_status=$?
set -e
[ -s "$work/load.json" ] || { echo "lab: the load generator wrote no report (exit $load_status)" >&2; exit 1; }

# --- the verdict ----------------------------------------------------------------------------------------------------
report=$work/load.json
acknowledged=$(jq .activations "$report")
log "clients that failed over: $(jq .machinesFailedOver "$report") machines ($(jq .failovers "$report") fail-overs); requests $(jq .requests "$report"), failed $(jq .failedRequests "$report") (their connection died with node$victim)"

chmod 644 "$work/acknowledged.csv"
in_ns pg runuser -u postgres -- "$pg_bin/psql" -h "$work/pg" -U postgres -d kmsfarm -qAt -F ' ' -v ON_ERROR_STOP=1 >"$work/history.txt" <<SQL
CREATE TEMP TABLE ack (cmid uuid, product_group text, acknowledged_count integer, host text);
\copy ack FROM '$work/acknowledged.csv' WITH (FORMAT csv, HEADER true)
WITH a AS (SELECT cmid, acknowledged_count AS n, count(*) AS times FROM ack GROUP BY 1, 2),
     h AS (SELECT cmid, current_count AS n, count(*) AS times FROM activation_history WHERE result = 0 GROUP BY 1, 2)
SELECT (SELECT count(*) FROM ack),
       coalesce(sum(least(a.times, coalesce(h.times, 0))), 0),
       coalesce(sum(greatest(a.times - coalesce(h.times, 0), 0)), 0),
       (SELECT count(*) FROM activation_history WHERE result = 0)
FROM a LEFT JOIN h USING (cmid, n);
SQL
read -r listed in_history lost history_rows <"$work/history.txt"
[ "$listed" = "$acknowledged" ] || { echo "lab: the report says $acknowledged activations, the acknowledged list has $listed" >&2; exit 1; }
log "history: $history_rows activations; the $in_history acknowledged ones found by CMID and count, $((history_rows - in_history)) more committed without an acknowledgement (requests in flight at the kill, the final count queries)"

victim_host="${node_ips[$((victim - 1))]}:1688"
jq -r --arg victim "$victim_host" '.hosts[] | select(.host != $victim)
  | "\(.host) \([.counts[] | "\(.group)=\(.count // ("error: " + (.error // "?")))"] | join(" "))"' "$report" >"$work/counts.txt"
while read -r host counts; do log "counts on $host: $counts"; done <"$work/counts.txt"
survivors=$(wc -l <"$work/counts.txt")
distinct=$(cut -d' ' -f2- "$work/counts.txt" | sort -u | wc -l)
counts_ok=$([ "$survivors" -eq 2 ] && [ "$distinct" -eq 1 ] && ! grep -q "error" "$work/counts.txt" && echo yes || echo no)
log "took $((SECONDS - started)) s"

failed_over=$(jq .machinesFailedOver "$report")
if [ "$acknowledged" -gt 0 ] && [ "$in_history" = "$acknowledged" ] && [ "$lost" = 0 ] && [ "$counts_ok" = yes ] && [ "$failed_over" -gt 0 ]; then
  ok=1
  echo "lab: acknowledged $acknowledged, in history $in_history, lost $lost, counts equal on $survivors nodes"
else
  [ "$failed_over" -gt 0 ] || echo "lab: no client failed over: the kill did not land mid-load" >&2
  echo "lab: acknowledged $acknowledged, in history $in_history, lost $lost, counts $([ "$counts_ok" = yes ] && echo equal || echo DIFFER) on $survivors nodes"
  exit 1
fi
