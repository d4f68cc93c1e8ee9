// Outpost for the browser: the page's API. The database lives in a worker (worker.js); every
// method here is a message to it and returns a promise. See outpost.d.ts for the types and
// README.md for a walk-through.
//
//   import { open } from './outpost/outpost.js';
//   const db = await open({ name: 'timesheets', serverUrl: 'https://sync.example.com',
//                           getToken: async () => (await fetch('/token')).text() });
//   const stop = db.watch('SELECT * FROM "Entry" ORDER BY day', [], (rows) => render(rows));
//   await db.execute('INSERT INTO "Entry" (id, day, minutes) VALUES (?, ?, ?)', [id, day, 90]);

export class OutpostError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'OutpostError';
    this.code = code;
    this.detail = message;
  }
}

const EVENTS = ['status', 'change', 'remaps', 'rejections', 'notices', 'leader', 'error'];

export class Database {
  constructor(worker, options) {
    this.worker = worker;
    this.options = options;
    this.seq = 0;
    this.calls = new Map();
    this.watches = new Map(); // id -> {callback, onError}
    this.listeners = new Map(EVENTS.map((e) => [e, new Set()]));
    this.closed = false;
    this.lastStatus = null;
    this.isLeader = false;
    this.storage = null;
    worker.onmessage = (event) => this.onMessage(event.data);
    worker.onerror = (event) => {
      const error = new OutpostError('internal', `worker failed: ${event.message ?? 'unknown'}`);
      for (const call of this.calls.values()) call.reject(error);
      this.calls.clear();
    };
    this.onOnline = () => this.post('online', [true]).catch(() => {});
    this.onOffline = () => this.post('online', [false]).catch(() => {});
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline);
      window.addEventListener('offline', this.onOffline);
    }
  }

  post(method, args = []) {
    if (this.closed && method !== 'close') {
      return Promise.reject(new OutpostError('invalid_argument', 'the database is closed'));
    }
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  onMessage(m) {
    if (m.id !== undefined) {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.error) call.reject(new OutpostError(m.error.code, m.error.message));
      else call.resolve(m.result);
      return;
    }
    switch (m.event) {
      case 'watch': {
        const w = this.watches.get(m.data.id);
        if (!w) return;
        if (m.data.error) w.onError(new OutpostError(m.data.error.code, m.data.error.message));
        else w.callback(m.data.rows);
        return;
      }
      case 'token-request':
        this.answerToken(m.data.id);
        return;
      case 'status':
        this.lastStatus = m.data;
        break;
      case 'leader':
        this.isLeader = m.data.leader;
        this.storage = m.data.storage;
        break;
      default:
        break;
    }
    for (const listener of this.listeners.get(m.event) ?? []) {
      try {
        listener(m.data);
      } catch (e) {
        setTimeout(() => {
          throw e; // the app's listener failed: report it, keep the others going
        });
      }
    }
  }

  async answerToken(id) {
    try {
      const token = this.options.getToken ? await this.options.getToken() : this.options.token;
      if (typeof token !== 'string' || token === '') throw new Error('no token');
      this.worker.postMessage({ method: 'token', args: [id, token, null] });
    } catch (e) {
      this.worker.postMessage({ method: 'token', args: [id, null, String(e?.message ?? e)] });
    }
  }

  // Runs SQL (several statements allowed; `params` bind the last: an array for ?, an object for
  // :name). Resolves with {columns, rows (objects), changes, lastInsertRowid}.
  execute(sql, params = []) {
    return this.post('execute', [sql, params]);
  }

  // The rows of a query, as objects keyed by column name.
  query(sql, params = []) {
    return this.post('query', [sql, params]);
  }

  // Runs `fn(tx)` in one transaction: `tx.execute` and `tx.query` as above. Commits when fn's
  // promise resolves, rolls back when it rejects (and rejects with its error). Other calls, from
  // this tab or others, and sync wait until it ends; a transaction idle for longer than
  // `transactionTimeoutMs` (open() option, default 10 s) is rolled back.
  async transaction(fn) {
    const txId = await this.post('begin');
    const tx = {
      execute: (sql, params = []) => this.post('execute', [sql, params, txId]),
      query: (sql, params = []) => this.post('query', [sql, params, txId]),
    };
    let result;
    try {
      result = await fn(tx);
    } catch (e) {
      await this.post('rollback', [txId]).catch(() => {});
      throw e;
    }
    await this.post('commit', [txId]);
    return result;
  }

  // Calls `callback(rows)` with the rows of the query now and whenever they change: the query is
  // re-run after every committed transaction (from any tab, or from sync) that changed a table it
  // reads. `onError(error)` receives a failing query's error (before the first sync, a table may
  // not exist yet). Returns the function that stops watching.
  watch(sql, params, callback, onError = () => {}) {
    const id = ++this.seq;
    this.watches.set(id, { callback, onError });
    this.worker.postMessage({ method: 'watch', args: [id, sql, params ?? []] });
    return () => {
      if (!this.watches.delete(id)) return;
      if (!this.closed) this.worker.postMessage({ method: 'unwatch', args: [id] });
    };
  }

  // Syncs now (push, then pull until caught up). Resolves with the round's report
  // {pushed_transactions, rejected_transactions, rows_received, deletes_received,
  // bootstrapped_now}; rejects with its error (e.g. code "unavailable" when offline).
  sync() {
    return this.post('sync');
  }

  // The sync status now: {pending, pendingTransactions, bootstrapped, lastSync, lastError,
  // rejections, notices, online, syncing, retryAt, lastRound, clientId, storage}.
  status() {
    return this.post('status');
  }

  // The client transactions the server refused: [{id, tx_id, code, message, rule, table, pk,
  // mutations, at, depends_on}]. Their writes have been undone locally. A "dependent" one wrote
  // on rows of the earlier rejected transaction `depends_on`.
  rejections() {
    return this.post('rejections');
  }

  dismissRejection(id) {
    return this.post('dismissRejection', [id]);
  }

  // What the server did differently from what applied transactions wrote: [{id, tx_id, code,
  // table, pk, columns, at}], codes "row_deleted", "superseded" (columns), "merged",
  // "clock_clamped".
  notices() {
    return this.post('notices');
  }

  dismissNotice(id) {
    return this.post('dismissNotice', [id]);
  }

  // Listens to an event: "status" (the status object), "change" ({tables}), "remaps" ([{table,
  // from, to}]: temporary keys the server replaced), "rejections" (the list, when it grew), "notices" (the list, when it grew),
  // "leader" ({leader, storage}: this tab holds the database), "error" ({code, message}: the
  // engine failed and the database is being reopened). Returns the function that stops.
  on(event, listener) {
    const set = this.listeners.get(event);
    if (!set) throw new OutpostError('invalid_argument', `unknown event ${event}`);
    set.add(listener);
    return () => set.delete(listener);
  }

  // Closes the database: the sync loop stops, the storage is released (another tab takes over).
  async close() {
    if (this.closed) return;
    this.closed = true;
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('offline', this.onOffline);
    }
    try {
      await this.post('close');
    } finally {
      this.worker.terminate();
      const error = new OutpostError('invalid_argument', 'the database is closed');
      for (const call of this.calls.values()) call.reject(error);
      this.calls.clear();
      this.watches.clear();
    }
  }
}

// Opens (creating) the local database `name` and, with a serverUrl, starts syncing it.
// Options: name (required), serverUrl, token or getToken (a function returning a promise of the
// bearer token; called again when the server answers 401), storage ("auto" | "opfs" |
// "indexeddb" | "memory"), sync ({auto, waitSeconds, minBackoffMs, maxBackoffMs, stallSeconds}),
// transactionTimeoutMs, workerUrl (where worker.js is served, for bundlers).
export async function open(options) {
  if (!options || typeof options.name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(options.name)) {
    throw new OutpostError('invalid_argument', 'open() needs a name of letters, digits, _ . -');
  }
  if (options.serverUrl && !options.token && !options.getToken) {
    throw new OutpostError('invalid_argument', 'open() with a serverUrl needs token or getToken');
  }
  if (options.key !== undefined && options.rawKey !== undefined) {
    throw new OutpostError('invalid_argument', 'open() takes key or rawKey, not both');
  }
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
    throw new OutpostError('invalid_argument', 'open() needs key to be a non-empty passphrase');
  }
  if (options.rawKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.rawKey)) {
    throw new OutpostError('invalid_argument', 'open() needs rawKey to be 64 hexadecimal digits');
  }
  const url = options.workerUrl ?? new URL('./worker.js', import.meta.url);
  const worker = new Worker(url, { type: 'module' });
  // The page keeps no copy of the key: only the worker, which opens the store with it.
  const { key, rawKey, ...kept } = options;
  const db = new Database(worker, kept);
  const { getToken, token, workerUrl, ...forWorker } = options;
  try {
    const online = typeof navigator === 'undefined' ? true : navigator.onLine;
    const info = await db.post('init', [{ ...forWorker, online }]);
    db.isLeader = info.leader;
    db.storage = info.storage;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  return db;
}
