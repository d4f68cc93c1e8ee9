// Encryption at rest on the WebAssembly engine under node, through the browser package's engine
// wrapper (wasm/package/engine.js) and storage layer (storage.js's MemoryFiles behind the
// "outpost-js" VFS): the bytes every browser write produces. What the worker passes when a page
// opens with `key` or `rawKey` (wasm/package/worker.js) is what this test passes.
//
//   node tests/wasm/encryption.mjs BUILD_WASM_DIR
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const { Engine, OutpostError } = await import(join(here, '../../wasm/package/engine.js'));
const { MemoryFiles } = await import(join(here, '../../wasm/package/storage.js'));

const [buildDir] = process.argv.slice(2);
if (!buildDir) {
  console.error('usage: node encryption.mjs BUILD_WASM_DIR');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const createModule = require(resolve(buildDir, 'wasm/outpost_node.js'));
const wasmBinary = readFileSync(resolve(buildDir, 'wasm/outpost_node.wasm'));
const module = await createModule({ wasmBinary });
assert.equal(module._outpost_wasm_use_js_files(), 0, 'cannot register the outpost-js VFS');

const descriptor = JSON.stringify({
  format: 1,
  app: 'crypt',
  roles: ['user'],
  tables: [
    {
      name: 'notes',
      columns: [
        { name: 'id', type: 'uuid', pg_type: 'uuid', nullable: false, default: 'gen_random_uuid()' },
        { name: 'body', type: 'text', pg_type: 'text', nullable: false },
      ],
      primary_key: ['id'],
      checks: [],
      uniques: [],
      foreign_keys: [],
      indexes: [],
      sync: { scope: 'all' },
    },
  ],
});
const MARKER = 'Marker-wasm-4c1e-Confidential';
const OPTIONS = { wal: false, durable: true };
const RAW = 'a1'.repeat(32);

// The bytes of file `id` (0: the database, 1: its journal) of a MemoryFiles.
function bytesOf(files, id) {
  const f = files.files[id];
  const out = new Uint8Array(f.size);
  f.read(out, 0);
  return out;
}
function contains(bytes, text) {
  return Buffer.from(bytes).includes(Buffer.from(text));
}
function openEngine(files, name, extra) {
  module.outpostFiles = files;
  const engine = new Engine(module);
  engine.open(`/${name}.db`, { ...OPTIONS, ...extra });
  return engine;
}
function openFails(files, name, extra) {
  try {
    openEngine(files, name, extra).close();
  } catch (e) {
    if (e instanceof OutpostError) return e;
    throw e;
  }
  assert.fail(`opening ${name} with ${JSON.stringify(Object.keys(extra))} succeeded`);
}
function body(engine) {
  const r = engine.execute('SELECT body FROM notes ORDER BY body LIMIT 1');
  return r.rows.length ? r.rows[0][0] : null;
}

// Writes the marker, then leaves an update open so that the journal holds the marker's page;
// returns whether the marker was in any file at any point.
function writeMarker(files, name, extra) {
  const engine = openEngine(files, name, extra);
  engine.applySchema(descriptor);
  engine.execute('INSERT INTO notes (body) VALUES (?)', [MARKER]);
  engine.execute('BEGIN');
  engine.execute("UPDATE notes SET body = 'changed'");
  engine.execute('PRAGMA cache_spill = 1');
  let seen = contains(bytesOf(files, 0), MARKER) || contains(bytesOf(files, 1), MARKER);
  engine.execute('ROLLBACK');
  engine.close();
  seen = seen || contains(bytesOf(files, 0), MARKER) || contains(bytesOf(files, 1), MARKER);
  return seen;
}

let checks = 0;
function check(what, fn) {
  fn();
  checks++;
  console.log(`ok ${checks} - ${what}`);
}

check('the control store holds the marker in plain text', () => {
  assert.equal(writeMarker(new MemoryFiles('plain'), 'plain', {}), true);
});

const secret = new MemoryFiles('secret');
check('a store opened with a passphrase never holds the marker in plain text', () => {
  assert.equal(writeMarker(secret, 'secret', { key: 'correct horse' }), false);
  assert.equal(Buffer.from(bytesOf(secret, 0).subarray(0, 16)).toString(), 'Outpost crypt v1');
  const engine = openEngine(secret, 'secret', { key: 'correct horse' });
  assert.equal(body(engine), MARKER);
  assert.equal(engine.execute('PRAGMA integrity_check').rows[0][0], 'ok');
  engine.close();
});

check('a wrong or missing key is refused with "unauthorized" and changes nothing', () => {
  const before = Buffer.from(bytesOf(secret, 0));
  const wrong = openFails(secret, 'secret', { key: 'wrong horse' });
  assert.equal(wrong.code, 'unauthorized');
  assert.match(wrong.message, /wrong encryption key/);
  const none = openFails(secret, 'secret', {});
  assert.equal(none.code, 'unauthorized');
  assert.match(none.message, /is encrypted/);
  const raw = openFails(secret, 'secret', { raw_key: RAW });
  assert.equal(raw.code, 'unauthorized');
  assert.ok(Buffer.from(bytesOf(secret, 0)).equals(before), 'a failed open changed the file');
});

check('a raw key works the same way', () => {
  const files = new MemoryFiles('raw');
  assert.equal(writeMarker(files, 'raw', { raw_key: RAW }), false);
  const engine = openEngine(files, 'raw', { raw_key: RAW });
  assert.equal(body(engine), MARKER);
  engine.close();
  assert.equal(openFails(files, 'raw', { raw_key: 'b2'.repeat(32) }).code, 'unauthorized');
});

check('a modified page is reported as corruption, never read as data', () => {
  const bytes = bytesOf(secret, 0);
  const pages = (bytes.length - 4096) / 4096;
  assert.ok(pages >= 3, `only ${pages} pages`);
  let detected = 0;
  for (let page = 1; page < pages; page++) {
    const at = 4096 + page * 4096 + 600;
    const flipped = new Uint8Array([bytes[at] ^ 0x08]);
    secret.files[0].write(flipped, at);
    try {
      const engine = openEngine(secret, 'secret', { key: 'correct horse' });
      try {
        const integrity = engine.execute('PRAGMA integrity_check').rows[0][0];
        if (integrity.includes('error code=8202')) detected++;
        else assert.equal(integrity, 'ok', `page ${page + 1}: ${integrity}`);
      } catch (e) {
        if (!(e instanceof OutpostError)) throw e;
        assert.equal(e.code, 'corruption', `page ${page + 1}: ${e.message}`);
        detected++;
      }
      engine.close();
    } catch (e) {
      if (!(e instanceof OutpostError)) throw e;
      assert.equal(e.code, 'corruption', `page ${page + 1}: ${e.message}`);
      detected++;
    }
    secret.files[0].write(new Uint8Array([bytes[at]]), at);
  }
  assert.ok(detected >= 1, 'no modified page was detected');
  const engine = openEngine(secret, 'secret', { key: 'correct horse' });
  assert.equal(body(engine), MARKER);
  engine.close();
});

console.log(`${checks} checks passed`);
