#!/usr/bin/env bash
# The long convergence soak (docs/convergence.md): many seeded scenarios over the five seed apps
# (or one database and rules file), each a few offline clients, faults, restarts and direct
# PostgreSQL writes, checked for convergence and accountability.
#   scripts/soak.sh [--scenarios N] [--seed S] [--first-seed B] [--epoch E] [other options]
# --scenarios N   how many (default 10000); --seed S: only scenario S (on a fresh database);
# every other option goes to convergence_tests as is (--db URL --rules FILE, --apps a,b,
# --replay S, --verbose, --budget SECONDS). Builds convergence_tests first (build dir:
# $OUTPOST_BUILD_DIR, default build/). The summary line at the end gives the failing seeds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OUTPOST_BUILD_DIR:-$here/build}"
scenarios=10000
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) scenarios="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOUTPOST_BUILD_SERVER=ON -DOUTPOST_BUILD_NATIVE=ON -DOUTPOST_BUILD_TESTS=ON >/dev/null
fi
cmake --build "$build" -j "${OUTPOST_JOBS:-2}" --target convergence_tests >/dev/null
log="$build/soak-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "[soak] $scenarios scenarios, log: $log" >&2
set +e
"$build/tests/convergence_tests" --scenarios "$scenarios" ${args[@]+"${args[@]}"} 2>&1 | tee "$log" |
  grep -E '^(scenario seed|  replay|convergence:)'
rc=${PIPESTATUS[0]}
exit "$rc"
