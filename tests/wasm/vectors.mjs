// Behavioural vectors on the WebAssembly engine under node: the same vectors as the native
// capi_vectors test (tests/capi/vectors_test.cc), driven through the JavaScript engine wrapper
// of the browser package (wasm/package/engine.js), must give the same transcripts
// (tests/vectors/<name>.expected.json): the same SQL gives the same outbox, the same server
// answers give the same local state.
//
// Each vector runs twice: on an in-memory database, and on a database file served by the
// browser package's storage layer (the "outpost-js" VFS over storage.js's MemoryFiles), the path
// every browser write takes.
//
//   node tests/wasm/vectors.mjs BUILD_WASM_DIR VECTOR_DIR
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const { Engine, OutpostError, Codes, codeNumber } = await import(
  join(here, '../../wasm/package/engine.js')
);
const { MemoryFiles } = await import(join(here, '../../wasm/package/storage.js'));

const [buildDir, vectorDir] = process.argv.slice(2);
if (!buildDir || !vectorDir) {
  console.error('usage: node vectors.mjs BUILD_WASM_DIR VECTOR_DIR');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const createModule = require(resolve(buildDir, 'wasm/outpost_node.js'));

// The result of fn(), or {error: code name} when it throws an OutpostError.
function take(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OutpostError) return { error: e.code };
    throw e;
  }
}

// Removes what differs between runs (clocks, random ids, times), as the native runner does.
function normalize(v) {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      if (!['hlc', 'client_id', 'at', 'last_sync'].includes(k)) o[k] = normalize(x);
    }
    return o;
  }
  return v;
}

// Object keys sorted, so two transcripts compare as JSON values do.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function rawExecute(engine, sql, params) {
  const r = engine.execute(sql, params);
  return { columns: r.columns, rows: r.rows, changes: r.changes, last_insert_rowid: r.lastInsertRowid };
}

function runRound(engine, spec) {
  const out = [];
  let round;
  try {
    round = engine.beginRound(spec.options ?? {});
  } catch (e) {
    if (e instanceof OutpostError) return { error: e.code };
    throw e;
  }
  const answers = spec.answers;
  let nextAnswer = 0;
  for (let guard = 0; guard < 100; guard++) {
    const step = take(() => round.next());
    if (step.error) {
      out.push(step);
      break;
    }
    if (step.kind === 'wait') {
      out.push({ wait: step.ms });
      continue;
    }
    if (step.kind === 'done') {
      out.push({ done: step.code_name, message: step.message, report: step.report });
      break;
    }
    const sent = { send: step.target };
    const txIds = [];
    if (step.body !== '') {
      const body = JSON.parse(step.body);
      for (const tx of body.transactions) txIds.push(tx.tx_id);
      sent.body = body;
    }
    if (nextAnswer >= answers.length) {
      sent.answer = 'none scripted';
      out.push(sent);
      round.cancel();
      round.failure(Codes.UNAVAILABLE, 'no answer scripted');
      continue;
    }
    const a = answers[nextAnswer++];
    if (!step.target.startsWith(a.expect)) sent.unexpected = true;
    const feed = (line) => {
      try {
        round.line(line);
        return true;
      } catch (e) {
        if (!(e instanceof OutpostError)) throw e;
        sent.line_error = e.code;
        round.failure(codeNumber(engine, e.code), 'bad line');
        return false;
      }
    };
    if (a.failure) {
      round.failure(Codes.UNAVAILABLE, 'network down');
    } else if (a.lines) {
      let ok = true;
      for (const l of a.lines) {
        if (!(ok = feed(new TextEncoder().encode(l)))) break;
      }
      if (ok) round.answer(a.status);
    } else {
      let body = JSON.stringify(a.body);
      txIds.forEach((id, i) => {
        body = body.split(`"$tx${i}"`).join(String(id));
      });
      if (a.status >= 200 && a.status < 300) {
        if (feed(body)) round.answer(a.status);
      } else {
        round.answer(a.status, body);
      }
    }
    out.push(sent);
  }
  round.free();
  return out;
}

function run(Module, vector, path) {
  const engine = new Engine(Module);
  const transcript = [];
  engine.open(path, { durable: false, wal: false });
  transcript.push({ schema: take(() => engine.applySchema(JSON.stringify(vector.schema))) });
  for (const step of vector.steps) {
    let entry = {};
    if ('sql' in step) {
      entry = { sql: step.sql, result: take(() => rawExecute(engine, step.sql, step.params)) };
    } else if ('query' in step) {
      entry = { query: step.query, result: take(() => rawExecute(engine, step.query, null)) };
    } else if ('outbox' in step) {
      const r = rawExecute(
        engine,
        'SELECT tx_id, op, tbl, pk, data, checkpoint FROM _outpost_outbox ORDER BY seq',
        null,
      );
      entry = {
        outbox: r.rows.map((row) => ({
          tx: row[0],
          op: row[1],
          table: row[2],
          pk: JSON.parse(row[3]),
          data: JSON.parse(row[4]),
          checkpoint: row[5],
        })),
      };
    } else if ('round' in step) {
      entry = { round: runRound(engine, step.round) };
    } else if ('rejections' in step) {
      entry = { rejections: take(() => engine.rejections()) };
    } else if ('status' in step) {
      entry = { status: take(() => engine.status()) };
    }
    transcript.push(entry);
  }
  engine.close();
  return normalize(transcript);
}

// The binary is handed over rather than fetched: node's fetch cannot load a file path.
const wasmBinary = readFileSync(resolve(buildDir, 'wasm/outpost_node.wasm'));
const inMemory = await createModule({ wasmBinary });
const jsFiles = await createModule({ wasmBinary });
if (jsFiles._outpost_wasm_use_js_files() !== 0) throw new Error('cannot register the outpost-js VFS');
let passed = 0;
let failed = 0;
for (const file of readdirSync(vectorDir).sort()) {
  if (!file.endsWith('.json') || file.includes('.expected.')) continue;
  const vector = JSON.parse(readFileSync(join(vectorDir, file), 'utf8'));
  const expected = JSON.parse(
    readFileSync(join(vectorDir, file.replace(/\.json$/, '.expected.json')), 'utf8'),
  );
  const name = vector.name.replace(/[^A-Za-z0-9_-]/g, '_');
  jsFiles.outpostFiles = new MemoryFiles(name);
  for (const [storage, got] of [
    ['in memory', run(inMemory, vector, ':memory:')],
    ['through the outpost-js VFS', run(jsFiles, vector, `/${name}.db`)],
  ]) {
    if (canonical(got) === canonical(expected)) {
      passed++;
      continue;
    }
    failed++;
    console.error(`vector ${vector.name} (${storage}): the WebAssembly transcript differs from the native one`);
    for (let i = 0; i < Math.max(got.length, expected.length); i++) {
      if (canonical(got[i]) !== canonical(expected[i])) {
        console.error(`  step ${i}\n    got:      ${canonical(got[i]).slice(0, 2000)}`);
        console.error(`    expected: ${canonical(expected[i]).slice(0, 2000)}`);
        break;
      }
    }
  }
}

// The WebAssembly build has no HTTP client: outpost_sync says so instead of failing obscurely
// (the browser drives the step-driven round with fetch).
{
  const engine = new Engine(inMemory);
  engine.open(':memory:');
  const code = inMemory._outpost_sync(engine.db, 0, 0, 0, 0);
  const message = inMemory.UTF8ToString(inMemory._outpost_errmsg(engine.db));
  const version = inMemory.UTF8ToString(inMemory._outpost_version());
  const unsupported = codeNumber(engine, 'unsupported');
  engine.close();
  if (code === unsupported && message.includes('no HTTP client') && /^\d+\.\d+\.\d+$/.test(version)) {
    passed++;
  } else {
    failed++;
    console.error(`outpost_sync in WebAssembly: code ${code}, "${message}", version "${version}"`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
