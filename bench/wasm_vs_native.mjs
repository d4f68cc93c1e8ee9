// WebAssembly against native, in one run, on the same workloads (bench/engine_bench.cc):
// captured local writes (inserts, updates) and a 100k-row bootstrap page stream. Three drivers:
//  - native:    bench/engine_bench (the C API, natively);
//  - wasm:      the same C++ built to WebAssembly, run by node (file I/O through node's fs);
//  - wasm+js:   bench/wasm_engine_bench.mjs: the browser package's JavaScript engine wrapper and
//               storage layer (in memory here: node has no OPFS) over the WebAssembly engine.
// The database files of the first two go to /dev/shm when it exists (memory, like the third), so
// that disk flushes do not drown the difference. Then the sizes of what a browser downloads.
// Prints one JSON line per figure; ratios are WebAssembly time over native time (1.0 = as fast).
//
//   node bench/wasm_vs_native.mjs [--build DIR] [--wasm-build DIR] [--rows N] [--bootstrap-rows N]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const { values: o } = parseArgs({
  options: {
    build: { type: 'string', default: join(root, 'build') },
    'wasm-build': { type: 'string', default: join(root, 'build-wasm') },
    rows: { type: 'string', default: '20000' },
    'bootstrap-rows': { type: 'string', default: '100000' },
    repeat: { type: 'string', default: '3' },
  },
});
const dir = existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
const common = ['--rows', o.rows, '--bootstrap-rows', o['bootstrap-rows'], '--repeat', o.repeat];

function figures(command, args) {
  const out = execFileSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const byBench = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const j = JSON.parse(line);
    byBench[j.bench] = j.rows_per_s;
  }
  return byBench;
}

const native = figures(join(o.build, 'bench/engine_bench'), ['--dir', dir, ...common]);
const wasm = figures('node', [
  '--no-experimental-fetch',
  join(o['wasm-build'], 'wasm/outpost_engine_bench.js'),
  '--dir',
  dir,
  ...common,
]);
const js = figures('node', [join(root, 'bench/wasm_engine_bench.mjs'), o['wasm-build'], ...common]);

for (const bench of Object.keys(native)) {
  console.log(
    JSON.stringify({
      bench: `wasm_vs_native_${bench.replace(/^engine_/, '')}`,
      native_rows_per_s: native[bench],
      wasm_rows_per_s: wasm[bench],
      wasm_js_rows_per_s: js[bench],
      wasm_ratio: Number((native[bench] / wasm[bench]).toFixed(2)),
      wasm_js_ratio: Number((native[bench] / js[bench]).toFixed(2)),
    }),
  );
}

// What a page downloads: the engine, its loader and the package's JavaScript.
const pkg = join(o['wasm-build'], 'package');
const size = (files) => {
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const bytes = readFileSync(join(pkg, f));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw_bytes: raw, gzip_bytes: gzip };
};
const js_files = readdirSync(pkg).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
console.log(JSON.stringify({ bench: 'wasm_package_size', file: 'outpost_web.wasm', ...size(['outpost_web.wasm']) }));
console.log(JSON.stringify({ bench: 'wasm_package_size', file: 'javascript', files: js_files.length, ...size(js_files) }));
