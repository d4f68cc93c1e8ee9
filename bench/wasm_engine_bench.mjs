// The workloads of bench/engine_bench.cc, byte for byte, driven the way the browser package
// drives the engine: JavaScript (wasm/package/engine.js) calling the WebAssembly C API, with the
// database served by the package's storage layer (wasm/package/storage.js; here MemoryFiles, the
// in-memory file table the IndexedDB storage builds on, since node has no OPFS).
//
//   node bench/wasm_engine_bench.mjs BUILD_WASM_DIR [--rows N] [--batch N] [--bootstrap-rows N]
//                                    [--page N] [--repeat N]
// Prints the same JSON lines as engine_bench, with "driver":"js".
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const { Engine } = await import(join(here, '../wasm/package/engine.js'));
const { MemoryFiles } = await import(join(here, '../wasm/package/storage.js'));

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rows: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '1000' },
    'bootstrap-rows': { type: 'string', default: '100000' },
    page: { type: 'string', default: '5000' },
    repeat: { type: 'string', default: '3' },
  },
});
const rows = Number(o.rows);
const batch = Number(o.batch);
const bootstrapRows = Number(o['bootstrap-rows']);
const page = Number(o.page);
const repeat = Number(o.repeat);
const buildDir = positionals[0];
if (!buildDir) {
  console.error('usage: node wasm_engine_bench.mjs BUILD_WASM_DIR [options]');
  process.exit(2);
}

// The schema descriptor of engine_bench.cc.
const schema = JSON.stringify({
  format: 1,
  app: 'bench',
  roles: ['user'],
  tables: [
    {
      name: 'entries',
      columns: [
        { name: 'id', type: 'uuid', pg_type: 'uuid', nullable: false },
        { name: 'companyId', type: 'uuid', pg_type: 'uuid', nullable: false },
        { name: 'userId', type: 'uuid', pg_type: 'uuid', nullable: false },
        { name: 'workMode', type: 'text', pg_type: 'character varying(8)', nullable: false, default: "'office'::character varying" },
        { name: 'country', type: 'text', pg_type: 'character varying(2)', nullable: false },
        { name: 'startedAt', type: 'timestamptz', pg_type: 'timestamp with time zone', nullable: true },
        { name: 'durationMin', type: 'integer', pg_type: 'integer', nullable: false },
        { name: 'day', type: 'date', pg_type: 'date', nullable: false },
        { name: 'note', type: 'text', pg_type: 'text', nullable: true },
        { name: 'version', type: 'integer', pg_type: 'integer', nullable: false, default: '1' },
      ],
      primary_key: ['id'],
      checks: [
        { name: 'duration', expression: '(("durationMin" >= 0) AND ("durationMin" <= 1440))' },
        {
          name: 'mode',
          expression:
            "((\"workMode\")::text = ANY ((ARRAY['office'::character varying, 'remote'::character varying])::text[]))",
        },
      ],
      uniques: [],
      foreign_keys: [],
      indexes: [
        {
          name: 'entries_company_user_day',
          unique: false,
          method: 'btree',
          keys: [{ column: 'companyId' }, { column: 'userId' }, { column: 'day' }],
        },
      ],
      sync: { scope: 'all' },
    },
  ],
});

const hex = (v, width) => v.toString(16).padStart(width, '0');
// engine_bench.cc's Uuid().
function uuid(i, salt) {
  const I = BigInt(i);
  const S = BigInt(salt);
  const M64 = (1n << 64n) - 1n;
  return [
    hex(((S << 24n) | (I >> 16n)) & 0xffffffffn, 8),
    hex(I & 0xffffn, 4),
    `7${hex(S & 0xfffn, 3)}`,
    `8${hex(I & 0xfffn, 3)}`,
    hex(((I * 11400714819323198485n) & M64) & 0xffffffffffffn, 12),
  ].join('-');
}

const createModule = createRequire(import.meta.url)(resolve(buildDir, 'wasm/outpost_node.js'));
const Module = await createModule({ wasmBinary: readFileSync(resolve(buildDir, 'wasm/outpost_node.wasm')) });
if (Module._outpost_wasm_use_js_files() !== 0) throw new Error('cannot register the outpost-js VFS');

function open() {
  Module.outpostFiles = new MemoryFiles('bench');
  const engine = new Engine(Module);
  engine.open('/bench.db', { wal: false, durable: true });
  engine.applySchema(schema);
  return engine;
}

function capture(salt) {
  const engine = open();
  const company = uuid(1, 99);
  // Keys made before anything is timed, as engine_bench.cc does.
  const ids = Array.from({ length: rows }, (_, i) => uuid(i, salt));
  const users = Array.from({ length: 50 }, (_, i) => uuid(i, 7));
  const insert =
    'INSERT INTO entries (id, "companyId", "userId", "workMode", country, "startedAt", "durationMin", day, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
  let t0 = performance.now();
  for (let i = 0; i < rows; i++) {
    if (i % batch === 0) engine.execute('BEGIN');
    engine.execute(insert, [
      ids[i],
      company,
      users[i % 50],
      i % 3 ? 'office' : 'remote',
      'FR',
      '2026-11-23T08:00:00.000000Z',
      i % 600,
      '2026-11-23',
      `worked on the pump station, unit ${i}`,
    ]);
    if (i % batch === batch - 1 || i === rows - 1) engine.execute('COMMIT');
  }
  const inserted = (performance.now() - t0) / 1000;
  const update = 'UPDATE entries SET "durationMin" = ?, note = ? WHERE id = ?';
  t0 = performance.now();
  for (let i = 0; i < rows; i++) {
    if (i % batch === 0) engine.execute('BEGIN');
    engine.execute(update, [(i + 7) % 600, `revised ${i}`, ids[i]]);
    if (i % batch === batch - 1 || i === rows - 1) engine.execute('COMMIT');
  }
  const updated = (performance.now() - t0) / 1000;
  const pending = engine.status().pending_mutations;
  if (pending !== 2 * rows) throw new Error(`outbox holds ${pending}, expected ${2 * rows}`);
  engine.close();
  return [inserted, updated];
}

function bootstrapLines() {
  const lines = ['{"type":"reset"}'];
  const company = uuid(1, 99);
  for (let start = 0; start < bootstrapRows; start += page) {
    const parts = [];
    for (let i = start; i < Math.min(bootstrapRows, start + page); i++) {
      parts.push(
        `["${uuid(i, 3)}","${company}","${uuid(i % 50, 7)}","${i % 3 ? 'office' : 'remote'}","FR","2026-11-23T08:00:00.000000Z",${i % 600},"2026-11-23","worked on the \\"pump\\" station ${i % 97}",1]`,
      );
    }
    lines.push(
      `{"type":"rows","table":"entries","columns":["id","companyId","userId","workMode","country","startedAt","durationMin","day","note","version"],"rows":[${parts.join(',')}]}`,
    );
    const last = start + page >= bootstrapRows;
    lines.push(`{"type":"cursor","cursor":"eyJ3IjoiMTAwIn0","bootstrap":${last ? 'false' : 'true'},"more":false}`);
  }
  // As fetch hands them over: bytes.
  const encoder = new TextEncoder();
  return lines.map((l) => encoder.encode(l));
}

function bootstrap(lines) {
  const engine = open();
  const t0 = performance.now();
  const round = engine.beginRound({ wait_seconds: 0 });
  const step = round.next();
  if (step.kind !== 'send' || !step.target.startsWith('/v1/pull')) throw new Error(`unexpected ${JSON.stringify(step)}`);
  for (const l of lines) round.line(l);
  round.answer(200);
  const done = round.next();
  const secs = (performance.now() - t0) / 1000;
  if (done.kind !== 'done' || done.code !== 0) throw new Error(`round: ${JSON.stringify(done)}`);
  round.free();
  const [{ n }] = engine.query('SELECT count(*) AS n FROM entries');
  if (n !== bootstrapRows) throw new Error(`bootstrap left ${n} rows`);
  engine.close();
  return secs;
}

let bestInsert = Infinity;
let bestUpdate = Infinity;
let bestBootstrap = Infinity;
const lines = bootstrapLines();
for (let r = 0; r < repeat; r++) {
  const [ins, upd] = capture(r + 1);
  bestInsert = Math.min(bestInsert, ins);
  bestUpdate = Math.min(bestUpdate, upd);
  bestBootstrap = Math.min(bestBootstrap, bootstrap(lines));
}
const line = (bench, extra, secs, n) =>
  console.log(JSON.stringify({ bench, driver: 'js', ...extra, rows_per_s: Math.round(n / secs) }));
line('engine_capture_insert', { rows, batch }, bestInsert, rows);
line('engine_capture_update', { rows, batch }, bestUpdate, rows);
line('engine_bootstrap', { rows: bootstrapRows, page }, bestBootstrap, bootstrapRows);
