#!/usr/bin/env bash
# Coverage-guided fuzzing of the protocol library with AFL++ and SharpFuzz.
#
#   tests/KmsFarm.Fuzz/fuzz.sh --short             what CI runs: every target for 30 s
#   tests/KmsFarm.Fuzz/fuzz.sh --long              every target for 10 M inputs, 30 M in total (37 min on a busy 2-core machine)
#   tests/KmsFarm.Fuzz/fuzz.sh [--targets "server kms client"] [--seconds T | --execs N] [--timeout MS]
#
# Installs afl++ (Debian package, when root) and the sharpfuzz tool (dotnet tool restore) if they are missing, builds
# the harness, instruments a copy of KmsFarm.Protocol.dll and runs afl-fuzz on each target, one after the other, from
# the committed seeds (seeds/<target>, made by `KmsFarm.Fuzz seeds tests/vectors <dir>`). Prints one line per target:
#   fuzz: target X, inputs N, crashes C, hangs H, peak RSS M MB
# and exits 1 if any target found a crash or a hang (the inputs are kept under $KMSFARM_FUZZ_DIR/findings/<target>).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${KMSFARM_FUZZ_DIR:-$repo/artifacts/fuzz}"

targets="server kms client"
seconds=""
execs=""
# A KMS exchange takes microseconds; 2 s leaves room for a GC or a tier-up compile on a busy machine.
timeout_ms=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --short) seconds=30 ;;
    --long) execs=10000000 ;;
    --targets) targets="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --execs) execs="$2"; shift ;;
    --timeout) timeout_ms="$2"; shift ;;
    *) echo "unknown argument: $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$seconds" ] && [ -z "$execs" ]; then
  seconds=30
fi

if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing: afl++"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "afl-fuzz is missing (apt-get install afl++ as root)" >&2
    exit 1
  fi
fi
(cd "$here" && dotnet tool restore >/dev/null)

# bin: an instrumented copy for afl-fuzz, made fresh every time (instrumenting twice would corrupt the assembly);
# plain: the same build uninstrumented, to replay findings outside afl-fuzz.
rm -rf "$work/bin" "$work/plain"
mkdir -p "$work/findings"
dotnet publish "$here/KmsFarm.Fuzz.csproj" -c Release -o "$work/plain" --nologo -v quiet
cp -r "$work/plain" "$work/bin"
(cd "$here" && dotnet tool run sharpfuzz "$work/bin/KmsFarm.Protocol.dll" >/dev/null)

export AFL_SKIP_BIN_CHECK=1              # the target is dotnet running a managed fork server (SharpFuzz)
export AFL_NO_UI=1
export AFL_SKIP_CPUFREQ=1
export AFL_NO_AFFINITY=1                 # cores are shared with other builds
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FAST_CAL=1

stat() { sed -n "s/^$1 *: *\([0-9]*\).*/\1/p" "$2"; }

status=0
for target in $targets; do
  out="$work/findings/$target"
  rm -rf "$out"
  limit=()
  if [ -n "$execs" ]; then limit+=(-E "$execs"); fi
  if [ -n "$seconds" ]; then limit+=(-V "$seconds"); fi
  log="$work/afl-$target.log"
  afl-fuzz -i "$here/seeds/$target" -o "$out" -t "$timeout_ms" -m none "${limit[@]}" \
    -- "$(command -v dotnet)" "$work/bin/KmsFarm.Fuzz.dll" "$target" >"$log" 2>&1 &
  afl=$!
  # fuzzer_stats' peak_rss_mb counts reaped children only, and SharpFuzz's fork server (the target process itself, in
  # persistent mode) is never reaped while afl-fuzz runs: sample the peak resident size (VmHWM) of afl-fuzz's children.
  peak_kb=0
  while kill -0 "$afl" 2>/dev/null; do
    for pid in $(pgrep -P "$afl" || true); do
      kb=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
      if [ -n "$kb" ] && [ "$kb" -gt "$peak_kb" ]; then peak_kb=$kb; fi
    done
    sleep 1
  done
  if ! wait "$afl"; then
    echo "afl-fuzz failed for target $target; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  stats="$out/default/fuzzer_stats"
  inputs=$(stat execs_done "$stats")
  crashes=$(stat saved_crashes "$stats")
  hangs=$(stat saved_hangs "$stats")
  rss=$(stat peak_rss_mb "$stats")
  if [ $((peak_kb / 1024)) -gt "${rss:-0}" ]; then rss=$((peak_kb / 1024)); fi
  echo "fuzz: target $target, inputs $inputs, crashes $crashes, hangs $hangs, peak RSS $rss MB"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    status=1
    found=()
    for file in "$out"/default/crashes/id:* "$out"/default/hangs/id:*; do
      [ -e "$file" ] || continue
      found+=("$file")
      echo "  $file: $(od -An -tx1 -v "$file" | tr -d ' \n' | head -c 400)" >&2
    done
    # The exception of each finding, from the uninstrumented build (a hang shows up as a replay that does not end).
    timeout 60 dotnet "$work/plain/KmsFarm.Fuzz.dll" replay "$target" "${found[@]}" >&2 || true
  fi
done
exit "$status"
