#!/usr/bin/env bash
# Runs every test of the solution and a short fuzz run. On a fresh Debian machine it first installs what the tests need
# (PostgreSQL server binaries for the farm tests; BIND, dig, nsupdate and tsig-keygen for the DNS tests, which run
# their own named in a temp dir; Prometheus and promtool for the metrics tests, which run their own Prometheus on
# loopback; the fuzz script adds afl++); it never changes anything else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
has named || need_pkgs+=(bind9)
{ has dig && has nsupdate; } || need_pkgs+=(dnsutils)
has tsig-keygen || need_pkgs+=(bind9-utils)
{ has prometheus && has promtool; } || need_pkgs+=(prometheus)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing: ${need_pkgs[*]}"
    apt-get update -qq
    # The tests start their own servers; keep the packages from starting system ones (bind9 would serve port 53,
    # prometheus 9090).
    policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
      trap 'rm -f "$policy"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
    if [ -n "$made_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  else
    echo "missing packages: ${need_pkgs[*]} (run as root, or install them yourself)" >&2
    exit 1
  fi
fi

dotnet build KmsFarm.sln -c Release --nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test KmsFarm.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# A short coverage-guided fuzz run of the protocol library (about 2 minutes; any crash or hang fails the run).
tests/KmsFarm.Fuzz/fuzz.sh --short || status=1
set -e

# One closing line over every test assembly: "N passed, N failed, N skipped".
sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\), Skipped: *\([0-9]*\).*/\1 \2 \3/p' "$log" |
  awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
if grep -q 'No test is available' "$log"; then
  echo "a test project ran no test" >&2
  status=1
fi
exit "$status"
