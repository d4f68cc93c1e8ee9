#!/usr/bin/env bash
# The long convergence soak (docs/convergence.md): many seeded scenarios over the five seed apps
# (or one database and rules file), each a few offline clients, faults, restarts and direct
# PostgreSQL writes, checked for convergence and accountability.
#   scripts/soak.sh [--scenarios N] [--seed S] [--first-seed B] [--jobs J] [--epoch E] [...]
# --scenarios N   how many (default 10000), seeds B .. B+N-1 (--first-seed, default 1)
# --seed S        only scenario S, on a fresh database
# --jobs J        J processes side by side (default 2), each with its own PostgreSQL cluster and
#                 servers, on consecutive slices of the seeds
# --epoch E       databases are recreated every E scenarios of an app (default 50 here)
# --cli-share P   share of scenarios with an `outpost` CLI client (default 0.02 here: each costs
#                 a few seconds of process starts and fsyncs)
# Every other option goes to convergence_tests as is (--db URL --rules FILE, --apps a,b,
# --replay S, --verbose, --budget SECONDS, --strict-findings). Builds convergence_tests first
# (build dir: $OUTPOST_BUILD_DIR, default build/). Prints the failures and one summary line per
# job; the full output is in build/soak-<time>-<job>.log. Exit status 0 when every job passed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OUTPOST_BUILD_DIR:-$here/build}"
scenarios=10000
first=1
jobs=2
epoch=50
cli_share=0.02
single=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) scenarios="$2"; shift 2 ;;
    --first-seed) first="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --epoch) epoch="$2"; shift 2 ;;
    --cli-share) cli_share="$2"; shift 2 ;;
    --seed) single="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOUTPOST_BUILD_SERVER=ON -DOUTPOST_BUILD_NATIVE=ON -DOUTPOST_BUILD_TESTS=ON >/dev/null
fi
cmake --build "$build" -j "${OUTPOST_JOBS:-2}" --target convergence_tests >/dev/null
bin="$build/tests/convergence_tests"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
filter='^(scenario seed|  replay|convergence:)'
# (each log also has a "progress:" line every 250 scenarios)
if [ -n "$single" ]; then
  "$bin" --seed "$single" --epoch "$epoch" --cli-share "$cli_share" ${args[@]+"${args[@]}"}
  exit $?
fi
# Each job's slice starts at a multiple of the number of apps, so that replay commands printed
# by a job (--replay S --first-seed F) name the job's own first seed.
per=$(( (scenarios + jobs - 1) / jobs ))
pids=()
start=$(date +%s)
for ((j = 0; j < jobs; j++)); do
  f=$(( first + j * per ))
  n=$(( scenarios - j * per )); [ "$n" -gt "$per" ] && n=$per
  [ "$n" -le 0 ] && break
  log="$build/soak-$stamp-$j.log"
  echo "[soak] job $j: seeds $f..$(( f + n - 1 )), log: $log" >&2
  "$bin" --scenarios "$n" --first-seed "$f" --epoch "$epoch" --cli-share "$cli_share" \
    ${args[@]+"${args[@]}"} >"$log" 2>&1 &
  pids+=($!)
done
# Ctrl-C or kill: each job finishes its scenario and shuts its servers and cluster down.
trap 'kill -TERM "${pids[@]}" 2>/dev/null' INT TERM
rc=0
for ((j = 0; j < ${#pids[@]}; j++)); do
  wait "${pids[$j]}" || rc=1
  grep -E "$filter" "$build/soak-$stamp-$j.log" || true
done
echo "[soak] $scenarios scenarios in $(( $(date +%s) - start )) s, exit $rc" >&2
exit "$rc"
