#!/usr/bin/env bash
# Builds the native tree into build/ (Release with debug info). Run scripts/setup.sh first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OUTPOST_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOUTPOST_BUILD_SERVER=ON -DOUTPOST_BUILD_NATIVE=ON -DOUTPOST_BUILD_TESTS=ON \
  -DOUTPOST_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
