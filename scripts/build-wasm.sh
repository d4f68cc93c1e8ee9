#!/usr/bin/env bash
# Builds the WebAssembly tree into build-wasm/ with Debian's Emscripten 3.1.6.
# Run scripts/setup.sh --wasm first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${OUTPOST_WASM_BUILD_DIR:-$here/build-wasm}"
export NODE_PATH=/usr/share/nodejs          # Emscripten's JS optimiser needs acorn
export NODE_OPTIONS=--no-experimental-fetch  # node 20's fetch breaks the 3.1.6 loader
emcmake cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)"
