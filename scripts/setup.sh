#!/usr/bin/env bash
# Installs everything Outpost needs on a fresh Debian 12 machine and fetches the pinned sources.
# Idempotent: a second run checks and returns in a few seconds.
#
#   scripts/setup.sh            native build, tests and demo
#   scripts/setup.sh --wasm     also the WebAssembly toolchain and libsodium built for it
#   scripts/setup.sh --browser  also Chromium and playwright-core for the browser tests
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${OUTPOST_DEPS_DIR:-$here/third_party}"
want_wasm=0
want_browser=0
for a in "$@"; do
  case "$a" in
    --wasm) want_wasm=1 ;;
    --browser) want_browser=1 ;;
    *) echo "setup: unknown option $a" >&2; exit 2 ;;
  esac
done

log() { echo "[setup] $*"; }

# --- Debian packages -------------------------------------------------------------------------
pkgs=(build-essential cmake ninja-build pkg-config git ca-certificates curl
      nlohmann-json3-dev libsodium-dev catch2 libpq-dev libcpp-httplib-dev libboost-dev
      postgresql postgresql-contrib postgresql-client-15 clang-format clang-tidy)
# Node.js may come from elsewhere than Debian (e.g. a newer build): only install it when absent.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "$want_wasm" = 1 ]; then
  pkgs+=(emscripten autoconf automake libtool dpkg-dev)
fi
if [ "$want_browser" = 1 ]; then
  pkgs+=(chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  log "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# --- SQLite amalgamation, pinned -------------------------------------------------------------
# One amalgamation for every target so native and browser builds behave the same. It comes from
# the npm package better-sqlite3, which ships it unmodified (SQLite 3.49.2 in 11.10.0).
sqlite_pkg="better-sqlite3@11.10.0"
sqlite_c_sha="e80215754ac6cfaefe272342efd581b6dbefdbdc21f96bd83fcb698bee9d36a5"
sqlite_h_sha="2198c66d4c59ae86421590c27fd53309ec14a595ae31c0c7143247444018a0bd"
sqlite_dir="$deps/sqlite"
verify_sqlite() {
  [ -f "$sqlite_dir/sqlite3.c" ] && [ -f "$sqlite_dir/sqlite3.h" ] &&
    echo "$sqlite_c_sha  $sqlite_dir/sqlite3.c" | sha256sum -c --status &&
    echo "$sqlite_h_sha  $sqlite_dir/sqlite3.h" | sha256sum -c --status
}
if verify_sqlite; then
  log "SQLite amalgamation present (3.49.2, checksums match)"
else
  log "fetching SQLite amalgamation from $sqlite_pkg"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$sqlite_pkg" >/dev/null)
  tar -xzf "$tmp"/better-sqlite3-*.tgz -C "$tmp"
  mkdir -p "$sqlite_dir"
  cp "$tmp/package/deps/sqlite3/sqlite3.c" "$tmp/package/deps/sqlite3/sqlite3.h" "$sqlite_dir/"
  if ! verify_sqlite; then
    echo "setup: SQLite amalgamation checksum mismatch: refusing to build with it" >&2
    rm -rf "$sqlite_dir"
    exit 1
  fi
  log "SQLite amalgamation verified"
fi

# --- WebAssembly dependencies ----------------------------------------------------------------
if [ "$want_wasm" = 1 ]; then
  "$here/scripts/build-wasm-deps.sh"
fi
# --- Browser tests: playwright-core, pinned by tests/browser/package-lock.json ------------------
if [ "$want_browser" = 1 ]; then
  browser_tests="$here/tests/browser"
  want_pw="$(node -p "require('$browser_tests/package.json').devDependencies['playwright-core']")"
  have_pw="$(node -p "try { require('$browser_tests/node_modules/playwright-core/package.json').version } catch { '' }")"
  if [ "$have_pw" = "$want_pw" ]; then
    log "playwright-core $have_pw present"
  else
    log "installing playwright-core $want_pw (npm ci in tests/browser)"
    (cd "$browser_tests" && npm ci --no-audit --no-fund --silent)
  fi
fi
log "done"
