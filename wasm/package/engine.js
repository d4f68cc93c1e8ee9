// The engine: Outpost's C API (capi/include/outpost.h) called in a WebAssembly module, with
// JavaScript values in and out. Used by the worker of the browser package and by the node tests;
// it knows nothing of browsers (no fetch, no storage, no messages).
//
// Every method is synchronous, as the C API is. Failures throw an OutpostError whose `code` is
// the stable code name ("constraint_violation", ...).

export class OutpostError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'OutpostError';
    this.code = code;
    this.detail = message;
  }
}

// The numeric codes of outpost.h that JavaScript names when it reports a failed request.
export const Codes = Object.freeze({ OK: 0, INTERNAL: 13, UNAVAILABLE: 25 });

export class Engine {
  // `module`: an instantiated Emscripten module of the engine (outpost_web.mjs, outpost_node.js).
  constructor(module) {
    this.m = module;
    this.db = 0;
    this.lineBuffer = 0; // heap buffer for pull lines, grown as needed
    this.lineCapacity = 0;
    // Arguments of one call at a time (calls do not nest: nothing in the engine calls back into
    // this object): the strings, and the cell of a char** result.
    this.scratch = 0;
    this.scratchSize = 0;
    this.outCell = module._malloc(4);
    this.encoder = new TextEncoder();
  }

  // --- Memory helpers -----------------------------------------------------------------------

  // Copies `strings` to the scratch region, UTF-8 and NUL-terminated; returns their pointers (a
  // null or undefined string is a null pointer). Valid until the next call.
  heapStrings(strings) {
    let need = 0;
    for (const s of strings) if (s !== null && s !== undefined) need += s.length * 3 + 1;
    if (need > this.scratchSize) {
      if (this.scratch) this.m._free(this.scratch);
      this.scratchSize = Math.max(need, this.scratchSize * 2, 4096);
      this.scratch = this.m._malloc(this.scratchSize);
    }
    const heap = this.m.HEAPU8; // after _malloc: memory growth replaces the view
    const ptrs = [];
    let at = this.scratch;
    for (const s of strings) {
      if (s === null || s === undefined) {
        ptrs.push(0);
        continue;
      }
      const { written } = this.encoder.encodeInto(s, heap.subarray(at, at + s.length * 3));
      heap[at + written] = 0;
      ptrs.push(at);
      at += written + 1;
    }
    return ptrs;
  }

  // A NUL-terminated UTF-8 copy of `text` on the heap (null stays a null pointer); freed by
  // the caller with _free.
  cString(text) {
    if (text === null || text === undefined) return 0;
    const size = this.m.lengthBytesUTF8(text) + 1;
    const ptr = this.m._malloc(size);
    this.m.stringToUTF8(text, ptr, size);
    return ptr;
  }

  // Calls `fn(...pointers, outCell)` with the strings copied to the heap and a cell for a char**
  // result; returns the result string (or null). Throws on a non-zero code.
  call(fn, strings, numbers = [], wantsOut = true) {
    const ptrs = this.heapStrings(strings);
    const out = wantsOut ? this.outCell : 0;
    if (out) this.m.setValue(out, 0, 'i32');
    const code = fn(this.db, ...ptrs, ...numbers, ...(wantsOut ? [out] : []));
    let text = null;
    if (out) {
      const p = this.m.getValue(out, 'i32');
      if (p) {
        text = this.m.UTF8ToString(p);
        this.m._outpost_free(p);
      }
    }
    if (code !== 0) this.throwLast(code);
    return text;
  }

  throwLast(code) {
    const name = this.m.UTF8ToString(this.m._outpost_code_name(code));
    const message = this.db ? this.m.UTF8ToString(this.m._outpost_errmsg(this.db)) : '';
    throw new OutpostError(name, message);
  }

  json(fn, strings, numbers = []) {
    const text = this.call(fn, strings, numbers);
    return text === null ? null : JSON.parse(text);
  }

  // --- The store ----------------------------------------------------------------------------

  // Opens the store at `path` (a path of the module's file system, or ":memory:") with the C API's
  // open options (wal, durable, cache_mib; key or raw_key for an encrypted store).
  open(path, options = {}) {
    if (this.db) throw new OutpostError('invalid_argument', 'the engine is already open');
    const p = this.cString(path);
    const o = this.cString(JSON.stringify(options));
    const cell = this.m._malloc(4);
    try {
      const code = this.m._outpost_open(p, o, cell);
      this.db = this.m.getValue(cell, 'i32');
      if (code !== 0) {
        const err = new OutpostError(
          this.m.UTF8ToString(this.m._outpost_code_name(code)),
          this.db ? this.m.UTF8ToString(this.m._outpost_errmsg(this.db)) : 'cannot open',
        );
        this.m._outpost_close(this.db);
        this.db = 0;
        throw err;
      }
    } finally {
      this.m._free(p);
      this.m._free(o);
      this.m._free(cell);
    }
  }

  close() {
    if (this.lineBuffer) this.m._free(this.lineBuffer);
    this.lineBuffer = 0;
    this.lineCapacity = 0;
    if (this.scratch) this.m._free(this.scratch);
    this.scratch = 0;
    this.scratchSize = 0;
    if (this.db) this.m._outpost_close(this.db);
    this.db = 0;
  }

  // Whether a transaction is open (BEGIN ran and has not ended yet).
  inTransaction() {
    return this.db !== 0 && this.m._outpost_in_transaction(this.db) === 1;
  }

  // The signed-in user's sync role (the token's "role" claim; null: unknown): the app's writes
  // are checked locally against its column permissions (docs/sync-rules.md).
  setRole(role) {
    this.call(this.m._outpost_set_role, [role ?? ''], [], false);
  }

  applySchema(descriptorJson) {
    return this.json(this.m._outpost_apply_schema, [descriptorJson]);
  }

  // SQL with parameters (an array for ?, an object for :name); returns
  // {columns, rows: [[...]], changes, lastInsertRowid}.
  execute(sql, params = []) {
    const none = params === null || params === undefined || (Array.isArray(params) && !params.length);
    const r = this.json(this.m._outpost_execute, [sql, none ? null : JSON.stringify(params)]);
    return { columns: r.columns, rows: r.rows, changes: r.changes, lastInsertRowid: r.last_insert_rowid };
  }

  // The rows of `sql` as objects keyed by column name.
  query(sql, params = []) {
    const r = this.execute(sql, params);
    return r.rows.map((row) => {
      const o = {};
      r.columns.forEach((c, i) => {
        o[c] = row[i];
      });
      return o;
    });
  }

  tablesRead(sql) {
    return this.json(this.m._outpost_tables_read, [sql]);
  }

  // The mirrored tables changed by transactions committed since the last call.
  takeChanges() {
    return this.json(this.m._outpost_take_changes, []);
  }

  status() {
    return this.json(this.m._outpost_sync_status, []);
  }

  rejections() {
    return this.json(this.m._outpost_rejections, []);
  }

  dismissRejection(id) {
    // An int64 parameter reaches JavaScript as two 32-bit halves (no BigInt in this build).
    const code = this.m._outpost_dismiss_rejection(this.db, id >>> 0, Math.floor(id / 2 ** 32));
    if (code !== 0) this.throwLast(code);
  }

  notices() {
    return this.json(this.m._outpost_notices, []);
  }

  dismissNotice(id) {
    const code = this.m._outpost_dismiss_notice(this.db, id >>> 0, Math.floor(id / 2 ** 32));
    if (code !== 0) this.throwLast(code);
  }

  takeRemaps() {
    return this.json(this.m._outpost_take_remaps, []);
  }

  // --- A sync round -------------------------------------------------------------------------

  // Starts a step-driven round (docs/sync-client.md, "A sync round").
  beginRound(options = {}) {
    const o = this.cString(JSON.stringify(options));
    const cell = this.m._malloc(4);
    try {
      const code = this.m._outpost_round_begin(this.db, o, cell);
      if (code !== 0) this.throwLast(code);
      return new Round(this, this.m.getValue(cell, 'i32'));
    } finally {
      this.m._free(o);
      this.m._free(cell);
    }
  }

  // Copies `bytes` (a Uint8Array) to the heap line buffer; returns its pointer.
  heapBytes(bytes) {
    if (bytes.length > this.lineCapacity) {
      if (this.lineBuffer) this.m._free(this.lineBuffer);
      this.lineCapacity = Math.max(bytes.length, this.lineCapacity * 2, 64 * 1024);
      this.lineBuffer = this.m._malloc(this.lineCapacity);
    }
    this.m.HEAPU8.set(bytes, this.lineBuffer);
    return this.lineBuffer;
  }
}

// One sync round. Drive it with next(); see the contract in outpost/sync_round.h.
export class Round {
  constructor(engine, handle) {
    this.e = engine;
    this.handle = handle;
  }

  // {kind: "send", method, target, body} | {kind: "wait", ms} | {kind: "done", code, code_name,
  // message, report}.
  next() {
    const m = this.e.m;
    const cell = m._malloc(4);
    try {
      const code = m._outpost_round_next(this.handle, cell);
      if (code !== 0) this.e.throwLast(code);
      const p = m.getValue(cell, 'i32');
      const text = m.UTF8ToString(p);
      m._outpost_free(p);
      return JSON.parse(text);
    } finally {
      m._free(cell);
    }
  }

  // One line of a 2xx answer, as bytes (a Uint8Array without its newline) or a string. Throws
  // an OutpostError when the line breaks the protocol: stop reading and call failure() with it.
  line(line) {
    const bytes = typeof line === 'string' ? new TextEncoder().encode(line) : line;
    const ptr = this.e.heapBytes(bytes);
    const code = this.e.m._outpost_round_line(this.handle, ptr, bytes.length);
    if (code !== 0) this.e.throwLast(code);
  }

  answer(status, body = '') {
    const bytes = new TextEncoder().encode(body);
    const ptr = bytes.length ? this.e.heapBytes(bytes) : 0;
    this.e.m._outpost_round_answer(this.handle, status, ptr, bytes.length);
  }

  // The request failed. `code`: the numeric code (Codes.UNAVAILABLE for the network).
  failure(code, message) {
    const p = this.e.cString(message ?? 'request failed');
    try {
      this.e.m._outpost_round_failure(this.handle, code, p);
    } finally {
      this.e.m._free(p);
    }
  }

  cancel() {
    this.e.m._outpost_round_cancel(this.handle);
  }

  free() {
    if (this.handle) this.e.m._outpost_round_free(this.handle);
    this.handle = 0;
  }
}

// Values between JavaScript and the engine's JSON: a BLOB is {"$blob": base64} in the engine
// (as in every Outpost API) and a Uint8Array in the browser package; every other value is the
// same in both.
export function toEngineValue(v) {
  if (v instanceof Uint8Array) {
    let text = '';
    for (let i = 0; i < v.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, v.subarray(i, i + 0x8000));
    }
    return { $blob: btoa(text) };
  }
  if (v instanceof ArrayBuffer) return toEngineValue(new Uint8Array(v));
  if (Array.isArray(v)) return v.map(toEngineValue);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = toEngineValue(x);
    return o;
  }
  if (v instanceof Date) return v.toISOString();
  return v;
}

export function fromEngineValue(v) {
  if (v && typeof v === 'object' && typeof v.$blob === 'string' && Object.keys(v).length === 1) {
    const text = atob(v.$blob);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }
  return v;
}

// Maps an OutpostError code name to its number (for failure()).
export function codeNumber(engine, name) {
  for (let c = 0; c <= 26; c++) {
    if (engine.m.UTF8ToString(engine.m._outpost_code_name(c)) === name) return c;
  }
  return Codes.INTERNAL;
}
