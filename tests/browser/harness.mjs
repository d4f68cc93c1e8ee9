// What the browser tests share: the web demo started for real (scripts/web-demo.sh: a throwaway
// PostgreSQL, outpost-server serving sync and the app), headless Chromium through playwright-core,
// PostgreSQL and native-client helpers, polling, screenshots.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.OUTPOST_CHROMIUM ?? '/usr/bin/chromium';
export const launchOptions = { executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] };

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function waitFor(what, fn, timeoutMs = 30000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what} (last: ${last?.stack ?? JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function expect(condition, message) {
  if (!condition) throw new Error(`expected: ${message}`);
}

export function expectEqual(got, want, message) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${message}: got ${g}, expected ${w}`);
}

// The demo, started by its own script; stop() ends it (and its PostgreSQL).
export class Demo {
  static async start({ root, buildDir, wasmBuildDir }) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'outpost-browser-'));
    const infoPath = join(dir, 'info.json');
    const child = spawn(
      'bash',
      [join(root, 'scripts/web-demo.sh'), '--no-build', '--port', String(port), '--rows', '3000', '--info', infoPath],
      {
        env: { ...process.env, OUTPOST_BUILD_DIR: buildDir, OUTPOST_WASM_BUILD_DIR: wasmBuildDir },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const demo = new Demo(child, dir);
    try {
      await waitFor('the web demo to serve', () => existsSync(infoPath) || child.exitCode !== null, 120000, 200);
      if (!existsSync(infoPath)) throw new Error(`the web demo did not start:\n${output}`);
    } catch (e) {
      await demo.stop();
      throw e;
    }
    demo.info = JSON.parse(readFileSync(infoPath, 'utf8'));
    demo.url = demo.info.url;
    demo.config = await (await fetch(`${demo.url}demo-config/config.json`)).json();
    demo.output = () => output;
    return demo;
  }

  constructor(child, dir) {
    this.child = child;
    this.dir = dir;
  }

  user(key) {
    return this.config.users.find((u) => u.key === key);
  }

  // Rows of a query on the PostgreSQL database, as arrays of text fields.
  psql(sql) {
    const out = execFileSync('psql', ['-X', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', this.info.database, '-c', sql], {
      encoding: 'utf8',
    });
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  }

  async stop() {
    if (this.child.exitCode === null) {
      process.kill(-this.child.pid, 'SIGTERM');
      await waitFor('the web demo to stop', () => this.child.exitCode !== null, 30000).catch(() => {
        process.kill(-this.child.pid, 'SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// A native field client (the `outpost` command line) of the demo's server.
export class NativeClient {
  constructor(outpostBin, demo, dir, token) {
    this.bin = outpostBin;
    this.db = join(dir, `native-${Date.now()}.db`);
    this.run(['init', '--server', demo.url.replace(/\/$/, ''), '--token', token, '--db', this.db]);
  }

  run(args) {
    return execFileSync(this.bin, args, { encoding: 'utf8' });
  }

  sync() {
    return this.run(['sync', '--db', this.db]);
  }

  sql(sql) {
    return this.run(['sql', '--db', this.db, sql]);
  }
}

export async function launch() {
  return chromium.launch(launchOptions);
}

export async function launchPersistent(profileDir) {
  return chromium.launchPersistentContext(profileDir, launchOptions);
}

// Opens the demo in `page` (signing in as `userKey` when asked) and waits until it shows a week.
export async function openApp(page, demo, { userKey = 'alex', query = '', hash = '' } = {}) {
  await page.goto(`${demo.url}${query}${hash}`);
  await waitFor(
    'the sign-in list or the app',
    async () =>
      (await page.locator('body[data-ready=true]').count()) > 0 ||
      (await page.locator(`[data-testid=sign-in-${userKey}]`).isVisible()),
    60000,
  );
  if ((await page.locator('body[data-ready=true]').count()) === 0) {
    await page.click(`[data-testid=sign-in-${userKey}]`);
  }
  await page.waitForSelector('body[data-ready=true]', { timeout: 60000 });
}

// Waits until the service worker controls the page (it can then start offline).
export async function waitForShell(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await waitFor('the service worker to control the page', () =>
    page.evaluate(() => navigator.serviceWorker.controller !== null),
  );
}

export function db(page, method, ...args) {
  return page.evaluate(([m, a]) => window.outpostDb[m](...a), [method, args]);
}

export async function pendingBadge(page) {
  return Number(await page.textContent('[data-testid=pending]'));
}

// The entries table as the page shows it: [{id, minutes, mode, note}].
export function shownEntries(page) {
  return page.$$eval('[data-testid=entries] tbody tr', (rows) =>
    rows.map((tr) => ({
      id: tr.dataset.id,
      minutes: Number(tr.querySelector('input[name=minutes]').value),
      mode: tr.querySelector('select[name=mode]').value,
      note: tr.querySelector('input[name=note]').value,
    })),
  );
}

export function makeDir(path) {
  mkdirSync(path, { recursive: true });
  return path;
}
