// The browser package's worker: one per open() in each tab (a dedicated module worker, where
// OPFS sync access handles can be used).
//
// Of all the workers of one store (same origin, same name), the one that holds the Web Lock
// `outpost:<name>` is the leader: it alone loads the engine, holds the storage and runs the sync
// loop. The others are followers: they send their page's calls to the leader over the
// BroadcastChannel `outpost:<name>` and receive its announcements. When the leader's tab closes,
// its lock is released and the next worker in the lock's queue takes over.
//
// Messages on the channel (every one carries `from`, the sender's worker id):
//   {type: "hello"}                                  a worker joined; the leader answers "leader"
//   {type: "leader", storage}                        the sender is the leader (now ready)
//   {type: "call", to, id, method, args}             a follower's call to the leader
//   {type: "reply", to, id, result | error}          the leader's answer
//   {type: "changes", tables}                        a transaction committed (app or sync)
//   {type: "event", name, data}                      status, remaps, rejections
//
// Watches live in the worker of the page that made them: on "changes", each worker re-runs the
// watches that read a changed table (through the leader) and posts the rows to its page when
// they differ from the last rows posted.
//
// Page <-> worker: {id, method, args} -> {id, result} | {id, error: {code, message}}, and events
// {event, data}. See outpost.js.
import createOutpostModule from './outpost_web.mjs';
import { Engine, OutpostError, fromEngineValue, toEngineValue } from './engine.js';
import { openFiles } from './storage.js';
import { EngineLock, SyncDriver } from './sync.js';

const workerId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

let settings = null; // the page's open() options
let channel = null;
let leader = null; // a Leader when this worker holds the lock and the store is open
let leaderId = null; // the worker id of the known leader (this one or another)
let leaderReady = deferred();
let closed = false;
let callSeq = 0;
const pendingCalls = new Map(); // id -> {resolve, reject, retryable, method, args, sentTo}
const watches = new Map(); // id -> {sql, params, tables, last, running, again}
let lastStatus = null;
let tokenSeq = 0;
const tokenRequests = new Map();

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function errorOf(e) {
  if (e instanceof OutpostError) return { code: e.code, message: e.detail };
  if (e && typeof e === 'object' && typeof e.code === 'string' && 'message' in e) {
    return { code: e.code, message: e.message };
  }
  return { code: 'internal', message: String(e?.message ?? e) };
}

function rethrow(error) {
  return new OutpostError(error.code, error.message);
}

// The `role` claim of a JWT, read without verifying it (the server verifies; this only lets the
// store refuse early what the server would refuse). null when there is none.
function roleOfToken(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const role = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')))?.role;
    return typeof role === 'string' ? role : null;
  } catch {
    return null;
  }
}

function toPage(event, data) {
  self.postMessage({ event, data });
}

function broadcast(message) {
  if (channel) channel.postMessage({ ...message, from: workerId });
}

// --- The leader ----------------------------------------------------------------------------------

class Leader {
  constructor(engine, files, options) {
    this.engine = engine;
    this.files = files;
    this.lock = new EngineLock();
    this.transactions = new Map(); // id -> {owner, release, timer}
    this.txSeq = 0;
    this.txTimeoutMs = options.transactionTimeoutMs ?? 10000;
    this.statusTimer = null;
    this.driver = null;
    if (options.serverUrl) {
      this.driver = new SyncDriver({
        engine,
        lock: this.lock,
        serverUrl: options.serverUrl,
        getToken: requestToken,
        afterEngineWork: () => this.afterEngineWork(false),
        onState: () => this.scheduleStatus(),
        onFatal: (e) => this.fatal(e),
        // The store refuses locally what the token's role may not write (column permissions).
        onToken: (token) => this.lock.run(() => engine.setRole(roleOfToken(token))),
        // The page's view of the network (emulation and browsers apply it to pages first).
        options: { ...(options.sync ?? {}), online: options.online },
      }).start();
    }
  }

  // After engine calls that may have written: persistence (IndexedDB storage), change
  // announcements, and a push soon for the app's own writes.
  async afterEngineWork(byApp) {
    const tables = this.engine.takeChanges();
    try {
      await this.files.persist();
    } catch (e) {
      throw new OutpostError(
        'io_error',
        `committed, but not yet stored in ${this.files.kind} (tried again at the next write): ` +
          `${e?.message ?? e}`,
      );
    }
    if (tables.length === 0) return;
    broadcast({ type: 'changes', tables });
    onChanges(tables);
    if (byApp && this.driver) this.driver.kick();
    if (!byApp) this.announceSyncResults();
    this.scheduleStatus();
  }

  announceSyncResults() {
    const remaps = this.engine.takeRemaps();
    if (remaps.length) announce('remaps', remaps.map((r) => ({ ...r })));
  }

  scheduleStatus() {
    if (this.statusTimer !== null) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      if (this.engine.db === 0) return;
      if (this.engine.inTransaction()) {
        this.scheduleStatus(); // counts inside an open transaction are not committed yet
        return;
      }
      const status = this.status();
      const before = lastStatus;
      announce('status', status);
      if (before && status.rejections > before.rejections) {
        announce('rejections', this.engine.rejections());
      }
      if (before && status.notices > before.notices) {
        announce('notices', this.engine.notices());
      }
    }, 30);
  }

  status() {
    const s = this.engine.status();
    const d = this.driver?.state ?? { online: null, syncing: false, error: null };
    return {
      pending: s.pending_mutations,
      pendingTransactions: s.pending_transactions,
      bootstrapped: s.bootstrapped,
      lastSync: s.last_sync || null,
      // With a sync loop, its own view (the store's record also keeps a cancelled round's note).
      lastError: this.driver
        ? d.error
        : s.last_error
          ? { code: 'unavailable', message: s.last_error }
          : null,
      rejections: s.rejections,
      notices: s.notices,
      online: d.online,
      syncing: d.syncing,
      retryAt: d.retryAt ?? null,
      lastRound: d.lastRound ?? null,
      clientId: s.client_id,
      storage: this.files.kind,
    };
  }

  // One call from a worker (`from`), this one included.
  async handle(from, method, args) {
    if (this.broken) throw new OutpostError('unavailable', 'the database is being reopened: retry');
    try {
      return await this.dispatch(from, method, args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) this.fatal(e);
      throw e;
    }
  }

  // The engine trapped (a WebAssembly runtime error): its state, SQLite's included, cannot be
  // trusted any more. Give the storage up and take the lock again: the next leader (this worker
  // or another tab's) opens the database afresh, and SQLite's journal rolls back what the trap
  // interrupted.
  fatal(error) {
    if (this.broken) return;
    this.broken = error;
    console.error('Outpost: the database engine failed and is reopened', error);
    if (this.driver) this.driver.stop().catch(() => {});
    for (const tx of this.transactions.values()) clearTimeout(tx.timer);
    this.transactions.clear();
    clearTimeout(this.statusTimer);
    this.files.dispose();
    if (leader === this) leader = null;
    if (leaderId === workerId) leaderId = null;
    announce('error', { code: 'internal', message: `the database engine failed: ${error.message}` });
    releaseLeadership();
    requestLeadership();
  }

  async dispatch(from, method, args) {
    switch (method) {
      case 'execute':
        return this.execute(from, args[0], args[1], args[2]);
      case 'tablesRead':
        return this.lock.run(() => this.engine.tablesRead(args[0]));
      case 'begin':
        return this.begin(from);
      case 'commit':
        return this.end(from, args[0], 'COMMIT');
      case 'rollback':
        return this.end(from, args[0], 'ROLLBACK');
      case 'status':
        return this.lock.run(() => this.status());
      case 'rejections':
        return this.lock.run(() => this.engine.rejections());
      case 'dismissRejection': {
        await this.lock.run(() => this.engine.dismissRejection(args[0]));
        this.scheduleStatus();
        return null;
      }
      case 'notices':
        return this.lock.run(() => this.engine.notices());
      case 'dismissNotice': {
        await this.lock.run(() => this.engine.dismissNotice(args[0]));
        this.scheduleStatus();
        return null;
      }
      case 'sync':
        if (!this.driver) throw new OutpostError('invalid_argument', 'no serverUrl given to open()');
        return this.driver.syncNow();
      case 'online':
        this.driver?.setOnline(args[0]);
        return null;
      case 'forget':
        return this.forget(from);
      default:
        throw new OutpostError('invalid_argument', `unknown method ${method}`);
    }
  }

  async execute(from, sql, params, txId) {
    if (txId !== undefined && txId !== null) {
      const tx = this.transaction(from, txId);
      this.touch(txId, tx);
      return this.engine.execute(sql, params);
    }
    const result = await this.lock.run(() => {
      try {
        return this.engine.execute(sql, params);
      } finally {
        if (this.engine.inTransaction()) {
          // A transaction left open would hold up every other tab and the sync loop.
          this.engine.execute('ROLLBACK');
          // eslint-disable-next-line no-unsafe-finally
          throw new OutpostError(
            'invalid_argument',
            'a transaction was left open and has been rolled back: use transaction() for a ' +
              'transaction across several calls, or end it in the same SQL',
          );
        }
      }
    });
    await this.afterEngineWork(true);
    return result;
  }

  transaction(from, txId) {
    const tx = this.transactions.get(txId);
    if (!tx || tx.owner !== from) {
      throw new OutpostError('aborted', 'this transaction is over (timed out, or its tab closed)');
    }
    return tx;
  }

  touch(txId, tx) {
    clearTimeout(tx.timer);
    tx.timer = setTimeout(() => {
      // Its owner went quiet (a tab closed mid-transaction): roll back and let others in.
      this.finish(txId, 'ROLLBACK').catch(() => {});
    }, this.txTimeoutMs);
  }

  async begin(from) {
    const release = await this.lock.hold();
    try {
      this.engine.execute('BEGIN');
    } catch (e) {
      release();
      throw e;
    }
    const txId = ++this.txSeq;
    const tx = { owner: from, release, timer: null };
    this.transactions.set(txId, tx);
    this.touch(txId, tx);
    return txId;
  }

  async end(from, txId, verb) {
    this.transaction(from, txId);
    return this.finish(txId, verb);
  }

  async finish(txId, verb) {
    const tx = this.transactions.get(txId);
    if (!tx) return null;
    this.transactions.delete(txId);
    clearTimeout(tx.timer);
    try {
      if (this.engine.inTransaction()) this.engine.execute(verb);
    } catch (e) {
      // A failed COMMIT (a deferred constraint) leaves the transaction open: undo it.
      if (this.engine.inTransaction()) this.engine.execute('ROLLBACK');
      throw e;
    } finally {
      tx.release();
      await this.afterEngineWork(true);
    }
    return null;
  }

  // A worker went away: roll back its transactions.
  async forget(from) {
    for (const [txId, tx] of this.transactions) {
      if (tx.owner === from) await this.finish(txId, 'ROLLBACK');
    }
    return null;
  }

  async close() {
    if (this.driver) await this.driver.stop();
    for (const txId of [...this.transactions.keys()]) await this.finish(txId, 'ROLLBACK');
    await this.lock.run(async () => {
      await this.files.persist();
      this.engine.close();
      this.files.dispose();
    });
    clearTimeout(this.statusTimer);
  }
}

// Events for every tab: this worker's page, and the other workers (which tell theirs).
function announce(name, data) {
  if (name === 'status') lastStatus = data;
  broadcast({ type: 'event', name, data });
  toPage(name, data);
}

function requestToken() {
  const id = ++tokenSeq;
  return new Promise((resolve, reject) => {
    tokenRequests.set(id, { resolve, reject });
    toPage('token-request', { id });
  });
}

let releaseLeadership = () => {};

// Queues for the store's Web Lock; holding it, becomes the leader until releaseLeadership().
function requestLeadership() {
  const released = deferred();
  releaseLeadership = released.resolve;
  navigator.locks
    .request(`outpost:${settings.name}`, () =>
      becomeLeader(released.promise).catch((e) => {
        leaderReady.reject(e);
        leaderReady = deferred();
      }),
    )
    .catch((e) => leaderReady.reject(e));
}

// The open options that encrypt the store (docs/local-store.md, "Encryption at rest"): the
// page's `key` (a passphrase) or `rawKey` (64 hex digits). Every worker of the database keeps it,
// since any of them may become the leader that opens the store.
function storeKey(options) {
  if (options.key !== undefined) return { key: options.key };
  if (options.rawKey !== undefined) return { raw_key: options.rawKey };
  return {};
}

async function becomeLeader(released) {
  const files = await openFiles(settings.name, settings.storage ?? 'auto');
  let engine;
  try {
    const module = await createOutpostModule({
      outpostFiles: files,
      locateFile: (path) => new URL(path, import.meta.url).href,
    });
    const rc = module._outpost_wasm_use_js_files();
    if (rc !== 0) throw new OutpostError('io_error', `cannot register the storage (SQLite ${rc})`);
    engine = new Engine(module);
    engine.open(`/${settings.name}.db`, { wal: false, durable: true, ...storeKey(settings) });
  } catch (e) {
    files.dispose();
    throw e;
  }
  leader = new Leader(engine, files, settings);
  leaderId = workerId;
  broadcast({ type: 'leader', storage: files.kind });
  leaderChanged();
  leaderReady.resolve();
  toPage('leader', { leader: true, storage: files.kind });
  leader.scheduleStatus();
  await released;
}

// --- Calls to the leader -------------------------------------------------------------------------

// Calls `method` on the leader. `retryable` calls (reads) are sent again to a new leader when the
// one they went to closed before answering; others then fail with "unavailable", since a write
// may or may not have been applied.
async function callLeader(method, args, retryable = false) {
  if (closed) throw new OutpostError('invalid_argument', 'the database is closed');
  await leaderReady.promise;
  if (leader) return leader.handle(workerId, method, args);
  const id = ++callSeq;
  return new Promise((resolve, reject) => {
    const call = { resolve, reject, retryable, method, args, sentTo: leaderId };
    pendingCalls.set(id, call);
    broadcast({ type: 'call', to: leaderId, id, method, args });
  });
}

// A new leader: calls that went to the old one are sent again or failed; watches re-run.
function leaderChanged() {
  for (const [id, call] of pendingCalls) {
    if (call.sentTo === leaderId) continue;
    pendingCalls.delete(id);
    if (call.retryable) {
      callLeader(call.method, call.args, true).then(call.resolve, call.reject);
    } else {
      call.reject(
        new OutpostError(
          'unavailable',
          'the tab that held the database closed before answering: this write may or may ' +
            'not have been applied',
        ),
      );
    }
  }
  for (const w of watches.values()) w.tables = null;
  onChanges(null);
}

async function onChannel(event) {
  const m = event.data;
  if (!m || m.from === workerId || closed) return;
  switch (m.type) {
    case 'hello':
      if (leader) broadcast({ type: 'leader', storage: leader.files.kind });
      break;
    case 'leader':
      if (leaderId !== m.from) {
        leaderId = m.from;
        leaderChanged();
      }
      leaderReady.resolve();
      break;
    case 'call': {
      if (m.to !== workerId || !leader) break;
      try {
        const result = await leader.handle(m.from, m.method, m.args);
        broadcast({ type: 'reply', to: m.from, id: m.id, result });
      } catch (e) {
        broadcast({ type: 'reply', to: m.from, id: m.id, error: errorOf(e) });
      }
      break;
    }
    case 'reply': {
      if (m.to !== workerId) break;
      const call = pendingCalls.get(m.id);
      if (!call) break;
      pendingCalls.delete(m.id);
      if (m.error) call.reject(rethrow(m.error));
      else call.resolve(m.result);
      break;
    }
    case 'changes':
      onChanges(m.tables);
      break;
    case 'event':
      if (m.name === 'status') lastStatus = m.data;
      toPage(m.name, m.data);
      break;
    default:
      break;
  }
}

// --- Watches -------------------------------------------------------------------------------------

// `tables` null: anything may have changed (a new leader).
function onChanges(tables) {
  if (tables) toPage('change', { tables });
  for (const [id, w] of watches) {
    if (!tables || !w.tables || tables.some((t) => w.tables.has(t))) rerun(id, w);
  }
}

async function rerun(id, w) {
  if (w.running) {
    w.again = true;
    return;
  }
  w.running = true;
  try {
    do {
      w.again = false;
      if (!w.tables) {
        try {
          w.tables = new Set(await callLeader('tablesRead', [w.sql], true));
        } catch {
          w.tables = null; // a table that does not exist yet (before the first sync): any change
        }
      }
      let message;
      try {
        const r = await callLeader('execute', [w.sql, w.params, null], true);
        message = { id, rows: rowsOf(r) };
      } catch (e) {
        message = { id, error: errorOf(e) };
      }
      if (!watches.has(id)) return;
      const text = JSON.stringify(message);
      if (text !== w.last) {
        w.last = text;
        toPage('watch', message);
      }
    } while (w.again && watches.has(id));
  } finally {
    w.running = false;
  }
}

function rowsOf(result) {
  return result.rows.map((row) => {
    const o = {};
    result.columns.forEach((c, i) => {
      o[c] = fromEngineValue(row[i]);
    });
    return o;
  });
}

// --- The page's calls ----------------------------------------------------------------------------

async function init(options) {
  settings = options;
  channel = new BroadcastChannel(`outpost:${options.name}`);
  channel.onmessage = onChannel;
  requestLeadership();
  broadcast({ type: 'hello' });
  // The network state comes from the page (its online/offline events, outpost.js).
  await leaderReady.promise;
  return { leader: leader !== null, storage: leader ? leader.files.kind : null };
}

const methods = {
  init: (options) => init(options),
  async execute(sql, params, txId) {
    const r = await callLeader('execute', [sql, toEngineValue(params ?? []), txId ?? null]);
    return { columns: r.columns, rows: rowsOf(r), changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  },
  async query(sql, params, txId) {
    const r = await callLeader('execute', [sql, toEngineValue(params ?? []), txId ?? null], txId == null);
    return rowsOf(r);
  },
  begin: () => callLeader('begin', []),
  commit: (txId) => callLeader('commit', [txId]),
  rollback: (txId) => callLeader('rollback', [txId]),
  sync: () => callLeader('sync', []),
  status: () => callLeader('status', [], true),
  rejections: () => callLeader('rejections', [], true),
  dismissRejection: (id) => callLeader('dismissRejection', [id]),
  notices: () => callLeader('notices', [], true),
  dismissNotice: (id) => callLeader('dismissNotice', [id]),
  online(online) {
    settings.online = online; // for the driver, should this worker become the leader
    return callLeader('online', [online]);
  },
  watch(id, sql, params) {
    const w = { sql, params: toEngineValue(params ?? []), tables: null, last: null, running: false, again: false };
    watches.set(id, w);
    rerun(id, w);
    return null;
  },
  unwatch(id) {
    watches.delete(id);
    return null;
  },
  token(id, token, error) {
    const request = tokenRequests.get(id);
    tokenRequests.delete(id);
    if (!request) return null;
    if (error) request.reject(new Error(error));
    else request.resolve(token);
    return null;
  },
  async close() {
    if (closed) return null;
    if (leader) {
      const l = leader;
      leader = null;
      await l.close();
      releaseLeadership();
    } else if (leaderId) {
      await callLeader('forget', []).catch(() => {});
    }
    closed = true;
    channel?.close();
    for (const call of pendingCalls.values()) {
      call.reject(new OutpostError('invalid_argument', 'the database is closed'));
    }
    pendingCalls.clear();
    return null;
  },
};

self.onmessage = async (event) => {
  const { id, method, args } = event.data;
  const fn = methods[method];
  try {
    if (!fn) throw new OutpostError('invalid_argument', `unknown method ${method}`);
    const result = await fn(...(args ?? []));
    if (id !== undefined) self.postMessage({ id, result });
  } catch (e) {
    if (id !== undefined) self.postMessage({ id, error: errorOf(e) });
  }
};
