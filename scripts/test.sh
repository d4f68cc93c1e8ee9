#!/usr/bin/env bash
# The whole test suite: installs what is missing (Debian and npm packages, pinned sources, the
# WebAssembly toolchain and libsodium for it, Chromium and playwright-core), builds the native and
# WebAssembly trees, and runs every test with ctest. Integration tests start their own PostgreSQL
# clusters and sync servers; the browser tests drive headless Chromium.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh" --wasm --browser
echo "[test] building WebAssembly"
"$here/scripts/build-wasm.sh" >/dev/null
echo "[test] building native"
build="${OUTPOST_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -G Ninja -DOUTPOST_WASM_BUILD_DIR="${OUTPOST_WASM_BUILD_DIR:-$here/build-wasm}" >/dev/null
"$here/scripts/build.sh" >/dev/null
echo "[test] running"
cd "$build"
ctest --output-on-failure -j 2
