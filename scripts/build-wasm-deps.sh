#!/usr/bin/env bash
# Build the WebAssembly (Emscripten) third-party dependencies of Outpost.
#
# Currently: a static libsodium 1.0.18, built from Debian's source package
# (`apt-get source libsodium`) with Debian 12's Emscripten 3.1.6.
#
# Output:   ${OUTPOST_DEPS_DIR:-<repo>/third_party}/wasm/libsodium/{include,lib/libsodium.a}
# Work dir: ${OUTPOST_DEPS_DIR:-<repo>/third_party}/wasm/_build/
#
# Idempotent: when the output and its stamp file exist and match the recipe
# below, the script returns immediately (no network, no compiler run).
# Set OUTPOST_WASM_DEPS_FORCE=1 to rebuild anyway.
#
# The system's apt configuration is never modified: the deb-src entry lives in
# a private directory under _build/apt and is passed to apt with -o options,
# together with private list/cache directories.
set -euo pipefail
set -o errtrace

log() { printf '[wasm-deps] %s\n' "$*"; }
die() { printf '[wasm-deps] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2154  # rc is assigned inside the trap string
trap 'rc=$?; printf "[wasm-deps] ERROR: command failed (exit %s) at %s:%s: %s\n" "$rc" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2; exit "$rc"' ERR

# ---------------------------------------------------------------------------
# Configuration / recipe
# ---------------------------------------------------------------------------
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
DEPS_DIR="${OUTPOST_DEPS_DIR:-$REPO_DIR/third_party}"
WASM_DIR="$DEPS_DIR/wasm"
BUILD_DIR="$WASM_DIR/_build"
SODIUM_OUT="$WASM_DIR/libsodium"
SODIUM_STAMP="$SODIUM_OUT/.outpost-stamp"

SODIUM_VERSION="1.0.18"               # upstream version we require from Debian's source package
SODIUM_CONFIGURE_FLAGS=(--disable-shared --without-pthreads --disable-ssp --disable-asm --disable-pie)
SODIUM_CFLAGS="-O2"
JOBS="${OUTPOST_WASM_JOBS:-2}"
RECIPE_REV=1                          # bump to force a rebuild after changing the recipe
REQUIRED_DEBS=(dpkg-dev autoconf automake libtool emscripten)

# Emscripten 3.1.6 quirks (see /work/shared/TOOLCHAIN.md):
#  - its JS optimizer needs Debian's node-acorn;
#  - Node 20's built-in fetch breaks the runtime loader used by configure tests.
export NODE_PATH=/usr/share/nodejs
export NODE_OPTIONS=--no-experimental-fetch
# EM_CACHE is deliberately left alone: Debian ships a prebuilt, FROZEN cache
# (/usr/share/emscripten/cache) and an empty private cache could not be filled.

emscripten_version() {
    local emcc_path root
    emcc_path="$(command -v emcc 2>/dev/null)" || { echo "none"; return 0; }
    root="$(dirname -- "$(readlink -f -- "$emcc_path")")"
    if [[ -r "$root/emscripten-version.txt" ]]; then
        tr -d '"[:space:]' <"$root/emscripten-version.txt"
    else
        emcc --version 2>/dev/null | head -n1 | sed 's/.*) \([0-9.]*\).*/\1/'
    fi
}

stamp_key() {
    printf 'libsodium=%s;cflags=%s;configure=%s;emscripten=%s;recipe=%s' \
        "$SODIUM_VERSION" "$SODIUM_CFLAGS" "${SODIUM_CONFIGURE_FLAGS[*]}" "$(emscripten_version)" "$RECIPE_REV"
}

sodium_up_to_date() {
    [[ -f "$SODIUM_STAMP" && -f "$SODIUM_OUT/lib/libsodium.a" && -f "$SODIUM_OUT/include/sodium.h" ]] || return 1
    [[ "$(head -n1 "$SODIUM_STAMP")" == "$(stamp_key)" ]]
}

# ---------------------------------------------------------------------------
# Fast path
# ---------------------------------------------------------------------------
if [[ "${OUTPOST_WASM_DEPS_FORCE:-0}" != 1 ]] && sodium_up_to_date; then
    log "libsodium $SODIUM_VERSION (wasm) is up to date: $SODIUM_OUT"
    exit 0
fi

# ---------------------------------------------------------------------------
# Slow path: serialise concurrent runs, then re-check.
# ---------------------------------------------------------------------------
mkdir -p "$BUILD_DIR"
exec 9>"$BUILD_DIR/.lock"
if ! flock -n 9; then
    log "another build-wasm-deps.sh run holds $BUILD_DIR/.lock; waiting for it..."
    flock 9
fi
if [[ "${OUTPOST_WASM_DEPS_FORCE:-0}" != 1 ]] && sodium_up_to_date; then
    log "libsodium $SODIUM_VERSION (wasm) is up to date (built by a concurrent run): $SODIUM_OUT"
    exit 0
fi

START_TS=$SECONDS

# --- host packages ----------------------------------------------------------
ensure_debs() {
    local missing=() p
    for p in "${REQUIRED_DEBS[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        log "host packages present: ${REQUIRED_DEBS[*]}"
        return 0
    fi
    [[ $EUID -eq 0 ]] || die "missing Debian packages (${missing[*]}) and not running as root; install them with: apt-get install -y ${missing[*]}"
    log "installing missing Debian packages: ${missing[*]}"
    local apt_install=(apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}")
    if ! DEBIAN_FRONTEND=noninteractive "${apt_install[@]}"; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get -o DPkg::Lock::Timeout=600 update || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive "${apt_install[@]}" || die "could not install: ${missing[*]}"
    fi
}
ensure_debs
for tool in emcc emconfigure emmake node apt-get dpkg-source autoreconf libtoolize make; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found in PATH"
done
log "emscripten $(emscripten_version), node $(node --version)"

# --- private apt configuration with deb-src entries -------------------------
APT_DIR="$BUILD_DIR/apt"
APT_PARTS="$APT_DIR/sources.list.d"
rm -rf "$APT_PARTS"
mkdir -p "$APT_PARTS" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"

# deb822 files (*.sources): keep enabled Debian stanzas that carry binary
# packages, turn them into deb-src stanzas.
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         {
           if ($0 !~ /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/) next;   # needs "deb"
           if ($0 ~ /(^|\n)Enabled:[ \t]*no/) next;
           if ($0 !~ /(^|\n)URIs:[^\n]*debian/) next;                     # Debian archives only
           gsub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src");
           sub(/^\n/, "");
           print
         }' "$f" >"$APT_PARTS/outpost-src-$(basename "$f")"
    [[ -s "$APT_PARTS/outpost-src-$(basename "$f")" ]] || rm -f "$APT_PARTS/outpost-src-$(basename "$f")"
done
# one-line format (sources.list and *.list)
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    sed -n -E 's/^[[:space:]]*deb([[:space:]]+\[[^]]*\])?([[:space:]]+[^[:space:]]*debian[^[:space:]]*[[:space:]].*)$/deb-src\1\2/p' "$f" \
        >"$APT_PARTS/outpost-src-$(basename "$f" .list).list"
    [[ -s "$APT_PARTS/outpost-src-$(basename "$f" .list).list" ]] || rm -f "$APT_PARTS/outpost-src-$(basename "$f" .list).list"
done
shopt -u nullglob
parts=("$APT_PARTS"/*)
[[ -e "${parts[0]:-}" ]] || die "no enabled Debian entries found in /etc/apt/sources.list{,.d/*} to derive a deb-src entry from"
log "private deb-src entries: ${parts[*]}"

DL_DIR="$BUILD_DIR/libsodium-src"
rm -rf "$DL_DIR"
mkdir -p "$DL_DIR"

APT_OPTS=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$APT_PARTS"
    -o "Dir::State::Lists=$APT_DIR/lists"
    -o "Dir::Cache=$APT_DIR/cache"
)
# apt downloads as the unprivileged _apt user when that user can write the
# target directories; where it cannot (e.g. a 0700 parent directory), download
# as root explicitly instead of letting apt warn about it.
apt_sandbox_ok=0
if id _apt >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
    chown _apt "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$DL_DIR" 2>/dev/null || true
    if runuser -u _apt -- test -w "$APT_DIR/lists/partial" 2>/dev/null \
        && runuser -u _apt -- test -w "$DL_DIR" 2>/dev/null; then
        apt_sandbox_ok=1
    fi
fi
((apt_sandbox_ok)) || APT_OPTS+=(-o "APT::Sandbox::User=root")

log "apt-get update (private deb-src lists in $APT_DIR/lists)"
apt-get "${APT_OPTS[@]}" -q update || die "apt-get update with the private deb-src entries failed"

# --- fetch the source -------------------------------------------------------
log "apt-get source libsodium -> $DL_DIR"
(cd "$DL_DIR" && apt-get "${APT_OPTS[@]}" -q source libsodium) || die "apt-get source libsodium failed"

dscs=("$DL_DIR"/libsodium_*.dsc)
[[ -f "${dscs[0]}" ]] || die "no libsodium_*.dsc in $DL_DIR after apt-get source"
DEB_VERSION="$(sed -n 's/^Version:[[:space:]]*//p' "${dscs[0]}" | head -n1)"
UPSTREAM_VERSION="${DEB_VERSION#*:}"
UPSTREAM_VERSION="${UPSTREAM_VERSION%-*}"
[[ "$UPSTREAM_VERSION" == "$SODIUM_VERSION" ]] \
    || die "Debian's libsodium source is $DEB_VERSION, expected upstream $SODIUM_VERSION (update SODIUM_VERSION and re-verify)"
SRC_DIR="$DL_DIR/libsodium-$SODIUM_VERSION"
[[ -f "$SRC_DIR/autogen.sh" ]] || die "unpacked source not found at $SRC_DIR"
log "got libsodium source package $DEB_VERSION"

# --- build ------------------------------------------------------------------
cd "$SRC_DIR"
log "autogen.sh -s"
./autogen.sh -s >"$BUILD_DIR/libsodium-autogen.log" 2>&1 \
    || { tail -n 40 "$BUILD_DIR/libsodium-autogen.log" >&2; die "autogen.sh failed (log: $BUILD_DIR/libsodium-autogen.log)"; }

rm -rf "$SODIUM_OUT"
log "emconfigure ./configure ${SODIUM_CONFIGURE_FLAGS[*]} --prefix=$SODIUM_OUT (CFLAGS=$SODIUM_CFLAGS)"
CFLAGS="$SODIUM_CFLAGS" emconfigure ./configure "${SODIUM_CONFIGURE_FLAGS[@]}" --prefix="$SODIUM_OUT" \
    >"$BUILD_DIR/libsodium-configure.log" 2>&1 \
    || { tail -n 40 "$BUILD_DIR/libsodium-configure.log" >&2; die "configure failed (log: $BUILD_DIR/libsodium-configure.log; see also $SRC_DIR/config.log)"; }

log "emmake make -j$JOBS install (log: $BUILD_DIR/libsodium-make.log)"
emmake make -j"$JOBS" install >"$BUILD_DIR/libsodium-make.log" 2>&1 \
    || { tail -n 40 "$BUILD_DIR/libsodium-make.log" >&2; die "make install failed (log: $BUILD_DIR/libsodium-make.log)"; }

[[ -f "$SODIUM_OUT/lib/libsodium.a" && -f "$SODIUM_OUT/include/sodium.h" ]] \
    || die "make install did not produce $SODIUM_OUT/lib/libsodium.a and include/sodium.h"
# A shared library / libtool archive is useless for wasm consumers.
rm -f "$SODIUM_OUT"/lib/*.la

{
    stamp_key; echo
    echo "debian-source-version=$DEB_VERSION"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "sha256(libsodium.a)=$(sha256sum "$SODIUM_OUT/lib/libsodium.a" | cut -d' ' -f1)"
} >"$SODIUM_STAMP.tmp"
mv "$SODIUM_STAMP.tmp" "$SODIUM_STAMP"

log "built libsodium $DEB_VERSION for wasm in $((SECONDS - START_TS)) s"
log "  headers: $SODIUM_OUT/include"
log "  library: $SODIUM_OUT/lib/libsodium.a"
