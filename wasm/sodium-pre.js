// --pre-js for Emscripten builds that link libsodium (see scripts/build-wasm-deps.sh).
//
// libsodium 1.0.18's Emscripten randombytes calls `Module.getRandomValue()` once per
// output byte. When that is undefined, its own lookup tries `window.crypto`/`self.crypto`
// and then `require('crypto').randomBytes(4)`. That lookup works in browsers (window and
// workers) and in CommonJS Node builds, but it is slow (one crypto call per byte; in Node
// ~6 s per MiB) and fails where neither `window`/`self` nor `require` exist (e.g. Node ESM).
//
// This provides `Module.getRandomValue` from WebCrypto `crypto.getRandomValues` (globalThis
// in browsers, workers and Node >= 19; `require('crypto').webcrypto` in older Node), served
// from a small pool that is refilled on demand and wiped as it is consumed.
// Property access is deliberately unquoted (`Module.getRandomValue`) to match libsodium's
// EM_ASM code, so the name stays consistent even under closure-compiler renaming.
(function () {
  var c = (typeof globalThis === 'object' && globalThis.crypto &&
           typeof globalThis.crypto.getRandomValues === 'function') ? globalThis.crypto : null;
  if (!c && typeof require === 'function') {
    try { c = require('crypto').webcrypto; } catch (e) { c = null; }
  }
  if (!c || typeof c.getRandomValues !== 'function') {
    return; // leave libsodium's own lookup in place; it throws if nothing is found
  }
  var pool = new Uint32Array(256); // 1 KiB per refill (getRandomValues allows up to 64 KiB)
  var pos = pool.length;
  Module.getRandomValue = function () {
    if (pos >= pool.length) {
      c.getRandomValues(pool);
      pos = 0;
    }
    var v = pool[pos];
    pool[pos++] = 0;
    return v >>> 0;
  };
})();
