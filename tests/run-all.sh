#!/usr/bin/env bash
# Runs every test of the solution, the deploy checks, the multi-host lab and a short fuzz run. On a fresh Debian machine
# it first installs what the tests need (PostgreSQL server binaries for the farm tests; BIND, dig, nsupdate and
# tsig-keygen for the DNS tests, which run their own named in a temp dir; Prometheus and promtool for the metrics tests,
# which run their own Prometheus on loopback; docker-compose for `docker-compose config`; Debian's chromium for the status
# page test, which drives it headless through Playwright (no browser download); the lab adds what it lacks, the
# fuzz script adds afl++); it never changes anything else on the machine, except that the lab (as root) adds network
# namespaces and a blackhole route for 10.168.0.0/24 while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
has named || need_pkgs+=(bind9)
{ has dig && has nsupdate; } || need_pkgs+=(dnsutils)
has tsig-keygen || need_pkgs+=(bind9-utils)
{ has prometheus && has promtool; } || need_pkgs+=(prometheus)
has docker-compose || need_pkgs+=(docker-compose)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
has ip || need_pkgs+=(iproute2)
has jq || need_pkgs+=(jq)
has curl || need_pkgs+=(curl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing: ${need_pkgs[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # The tests start their own servers; keep the packages from starting system ones (bind9 would serve port 53,
    # prometheus 9090).
    policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
      trap 'rm -f "$policy"' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_pkgs[@]}" >/dev/null
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
dotnet test KmsFarm.sln -c Release --no-build --nologo --filter "Category!=Image" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# What deploy/Dockerfile runs (a from-scratch restore and publish, then the image's entry point): alone, after the rest.
dotnet test tests/KmsFarm.Deploy.Tests -c Release --no-build --nologo --filter "Category=Image" 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

# Deploy checks (node --test): docker-compose config, kubectl kustomize of every overlay, every object against the
# Kubernetes and Prometheus Operator schemas. TAP output; its "# pass/# fail/# skipped" lines join the closing count.
deploy_log=$(mktemp)
trap 'rm -f "$log" "$deploy_log"' EXIT
if npm ci --prefix tests/deploy --no-audit --no-fund --loglevel=error >"$deploy_log" 2>&1; then
  if (cd tests/deploy && node --test --test-reporter=tap) >"$deploy_log" 2>&1; then
    grep -E '^# (\\# |tests |pass |fail |skipped )' "$deploy_log"
  else
    cat "$deploy_log"
    status=1
  fi
else
  cat "$deploy_log" >&2
  echo "# fail 1" >"$deploy_log"
  status=1
fi

# The multi-host lab (network namespaces: root only): three nodes, one killed mid-load; ends with its verdict line.
lab_result=
if [ "$(id -u)" -eq 0 ]; then
  if deploy/lab/run.sh; then lab_result=passed; else lab_result=failed; status=1; fi
else
  echo "lab: skipped (deploy/lab/run.sh needs root)"
  lab_result=skipped
fi

# A short coverage-guided fuzz run of the protocol library (about 2 minutes; any crash or hang fails the run).
tests/KmsFarm.Fuzz/fuzz.sh --short || status=1
set -e

# One closing line over every test assembly: "N passed, N failed, N skipped".
# The deploy checks' TAP counts and the lab (one check) are added to the dotnet test assemblies' counts; a test process
# that died ("[FATAL ERROR]" from the xUnit adapter, no count of its own) is one failure.
{
  sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\), Skipped: *\([0-9]*\).*/\1 \2 \3/p' "$log"
  echo "$(grep -c '\[FATAL ERROR\]' "$log") 0 0"
  awk '/^# pass /{p=$3} /^# fail /{f=$3} /^# skipped /{s=$3} END {print f+0, p+0, s+0}' "$deploy_log"
  case "$lab_result" in passed) echo "0 1 0" ;; failed) echo "1 0 0" ;; skipped) echo "0 0 1" ;; esac
} | awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
if grep -q 'No test is available' "$log"; then
  echo "a test project ran no test" >&2
  status=1
fi
exit "$status"
