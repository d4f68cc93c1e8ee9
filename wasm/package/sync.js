// Automatic sync in the browser: drives the engine's step-driven sync round (engine.js, Round)
// with fetch and timers, in the worker that holds the database.
//
// The loop: a round pushes what is pending, pulls until caught up, then long-polls once (the
// server holds the pull until something changes, up to `waitSeconds`); then the next round
// starts. A local write (kick()) ends a long-poll at once so that the write is pushed. Failures
// back off exponentially (1 s to 60 s, with jitter); an `online` event or an explicit sync() ends
// the pause. While the browser says it is offline the loop sleeps until it is online again.
//
// Threading: everything here runs on the worker's one thread; `lock` (EngineLock) keeps the
// round's engine calls from interleaving with an app transaction that spans several messages.
import { Codes, OutpostError, codeNumber } from './engine.js';

function noop() {}

// An exclusive lock over the engine. run(fn) runs fn (sync or async) when every earlier holder is
// done; hold() waits for the lock and returns the function that releases it.
export class EngineLock {
  constructor() {
    this.tail = Promise.resolve();
  }

  run(fn) {
    const result = this.tail.then(() => fn());
    this.tail = result.then(noop, noop);
    return result;
  }

  async hold() {
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => held);
    await previous;
    return release;
  }
}

// A sleep that wake() ends early.
class Sleeper {
  constructor() {
    this.wakeup = null;
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : null;
      const self = this;
      function done() {
        if (timer !== null) clearTimeout(timer);
        if (self.wakeup === done) self.wakeup = null;
        resolve();
      }
      this.wakeup = done;
    });
  }

  wake() {
    if (this.wakeup) this.wakeup();
  }
}

const NEWLINE = 10;

function concat(a, b) {
  if (!a || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class SyncDriver {
  // engine: an open Engine; lock: its EngineLock; serverUrl: the sync endpoint's base URL;
  // getToken(): a promise of the bearer token (called again after a 401); afterEngineWork(): a
  // promise, called after every engine call that may have written (changes, persistence);
  // onToken(token): a new token is in use (before its first request); onState(state): the
  // driver's state changed; onFatal(error): the engine trapped (the loop
  // stops). Options: auto (sync by itself; default true),
  // waitSeconds (long-poll length, default 25), minBackoffMs, maxBackoffMs, stallSeconds (a
  // request that receives nothing for this long fails; default 30, on top of a long-poll's wait).
  constructor({ engine, lock, serverUrl, getToken, afterEngineWork, onState, onFatal, onToken, options = {} }) {
    this.engine = engine;
    this.lock = lock;
    this.serverUrl = serverUrl.replace(/\/+$/, '');
    this.getToken = getToken;
    this.afterEngineWork = afterEngineWork ?? (async () => {});
    this.onState = onState ?? noop;
    this.onFatal = onFatal ?? noop;
    this.onToken = onToken ?? noop;
    this.auto = options.auto ?? true;
    this.waitSeconds = options.waitSeconds ?? 25;
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60000;
    this.stallMs = (options.stallSeconds ?? 30) * 1000;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);

    this.stopped = false;
    this.token = null;
    this.failures = 0;
    this.waiters = []; // {resolve, reject} of sync() calls, served by the next round
    this.sleeper = new Sleeper();
    this.sleepingForError = false;
    this.inFlight = null; // {controller, longPoll}
    this.round = null;
    this.cancelledByKick = false;
    this.kicked = false;
    this.explicitRound = false; // the current round serves sync() calls
    this.online = options.online ?? (typeof navigator === 'undefined' || navigator.onLine !== false);
    this.state = { online: this.online, syncing: false, error: null, lastRound: null, retryAt: null };
  }

  start() {
    this.loop = this.run();
    return this;
  }

  // Stops the loop and waits for it: an ongoing request is aborted, the round ends cancelled.
  async stop() {
    this.stopped = true;
    this.abortRequest();
    this.sleeper.wake();
    for (const w of this.waiters.splice(0)) {
      w.reject(new OutpostError('unavailable', 'the database was closed'));
    }
    if (this.loop) await this.loop;
  }

  // The app wrote: push soon. Ends an idle wait or a long-poll; not a pause after a failure.
  kick() {
    if (!this.auto) return;
    if (this.round) {
      // A round under way pushed before it pulls: the write goes with the next round, which its
      // long-poll must not hold up.
      this.kicked = true;
      if (this.inFlight?.longPoll) {
        this.cancelledByKick = true;
        this.round.cancel();
        this.abortRequest();
      }
      return;
    }
    if (!this.sleepingForError) this.sleeper.wake();
  }

  // The browser's connectivity changed (the `online`/`offline` events).
  setOnline(online) {
    if (online === this.online) return;
    this.online = online;
    this.publish({ online });
    if (online) {
      this.failures = 0;
      this.sleeper.wake();
    }
  }

  // One round now (ending a long-poll or a pause); resolves with its report or rejects with its
  // error (an OutpostError).
  syncNow() {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.round && this.inFlight?.longPoll) {
        this.cancelledByKick = true;
        this.round.cancel();
        this.abortRequest();
      }
      this.sleeper.wake();
    });
  }

  publish(patch) {
    this.state = { ...this.state, ...patch };
    this.onState(this.state);
  }

  abortRequest() {
    if (this.inFlight) this.inFlight.controller.abort();
  }

  async run() {
    while (!this.stopped) {
      const waiters = this.waiters.splice(0);
      if (waiters.length === 0 && (!this.auto || !this.online)) {
        await this.sleeper.sleep(Infinity);
        continue;
      }
      const longPoll = waiters.length === 0 && this.failures === 0 ? this.waitSeconds : 0;
      this.explicitRound = waiters.length > 0;
      this.cancelledByKick = false;
      this.kicked = false;
      let done;
      try {
        done = await this.runRound(longPoll);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) {
          this.stopped = true;
          this.onFatal(e);
        }
        done = { kind: 'done', code_name: 'internal', message: String(e?.stack ?? e), report: null };
      }
      const ok = done.code_name === 'ok';
      const cancelled = !ok && this.cancelledByKick && !this.stopped;
      for (const w of waiters) {
        if (ok) w.resolve(done.report);
        else w.reject(new OutpostError(done.code_name, done.message));
      }
      if (this.stopped) break;
      if (ok || cancelled) {
        this.failures = 0;
        this.publish({ syncing: false, error: null, retryAt: null, ...(ok ? { lastRound: done.report } : {}) });
        continue;
      }
      if (done.code_name === 'unauthorized') this.token = null;
      this.failures++;
      const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (this.failures - 1));
      const pause = Math.round(base * (0.75 + Math.random() * 0.5));
      this.publish({
        syncing: false,
        error: { code: done.code_name, message: done.message },
        retryAt: new Date(Date.now() + pause).toISOString(),
      });
      if (this.waiters.length === 0) {
        this.sleepingForError = true;
        await this.sleeper.sleep(pause);
        this.sleepingForError = false;
      }
    }
  }

  // One round: returns its "done" step.
  async runRound(waitSeconds) {
    const round = await this.lock.run(() =>
      this.engine.beginRound({
        wait_seconds: waitSeconds,
        max_attempts: 3,
        initial_backoff_ms: 500,
        max_backoff_ms: 5000,
      }),
    );
    this.round = round;
    try {
      for (;;) {
        const step = await this.lock.run(() => round.next());
        await this.afterEngineWork();
        if (step.kind === 'done') return step;
        if (step.kind === 'wait') {
          await this.sleeper.sleep(step.ms);
          continue;
        }
        await this.send(round, step);
        if (this.stopped) round.cancel();
      }
    } finally {
      this.round = null;
      await this.lock.run(() => round.free());
    }
  }

  async authorization() {
    if (!this.token) {
      const token = await this.getToken();
      await this.onToken(token);
      this.token = token;
    }
    return `Bearer ${this.token}`;
  }

  // Sends one request of the round and feeds it the answer (exactly one of answer and failure).
  async send(round, step) {
    const controller = new AbortController();
    const longPoll = /[?&]wait=[1-9]/.test(step.target);
    this.inFlight = { controller, longPoll };
    // "syncing" while pushing or pulling; a long-poll is a quiet wait for news.
    if (this.state.syncing !== !longPoll) this.publish({ syncing: !longPoll });
    const stallMs = this.stallMs + (longPoll ? this.waitSeconds * 1000 : 0);
    let stallTimer = null;
    const armStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => controller.abort(new Error('no answer in time')), stallMs);
    };
    const fail = (code, message) => this.lock.run(() => round.failure(code, message));
    if (!this.online && !this.explicitRound) {
      // The page went offline during an automatic round (e.g. while it waited to retry): no
      // request until it is back online; an explicit sync() still tries.
      this.inFlight = null;
      return fail(Codes.UNAVAILABLE, 'offline');
    }
    if (longPoll && this.kicked) {
      // The app wrote since this round pushed: start over rather than wait for news.
      this.cancelledByKick = true;
      round.cancel();
      this.inFlight = null;
      return fail(Codes.UNAVAILABLE, 'restarted for a local write');
    }
    try {
      let headers;
      try {
        headers = { Authorization: await this.authorization() };
      } catch (e) {
        return await fail(Codes.UNAVAILABLE, `getToken failed: ${e?.message ?? e}`);
      }
      if (step.method === 'POST') headers['Content-Type'] = 'application/json';
      armStall();
      let response;
      try {
        response = await this.fetch(this.serverUrl + step.target, {
          method: step.method,
          headers,
          body: step.method === 'POST' ? step.body : undefined,
          signal: controller.signal,
          cache: 'no-store',
        });
      } catch (e) {
        return await fail(Codes.UNAVAILABLE, `network: ${e?.message ?? e}`);
      }
      if (response.status < 200 || response.status > 299) {
        let body = '';
        try {
          body = await response.text();
        } catch (e) {
          return await fail(Codes.UNAVAILABLE, `network: ${e?.message ?? e}`);
        }
        return await this.lock.run(() => round.answer(response.status, body));
      }
      const reader = response.body.getReader();
      let rest = null;
      for (;;) {
        let chunk;
        try {
          armStall();
          chunk = await reader.read();
        } catch (e) {
          return await fail(Codes.UNAVAILABLE, `network: ${e?.message ?? e}`);
        }
        if (chunk.done) break;
        const bytes = concat(rest, chunk.value);
        const broken = await this.lock.run(() => {
          let start = 0;
          for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, start)) {
            const error = this.feed(round, bytes.subarray(start, i));
            start = i + 1;
            if (error) return error;
          }
          rest = bytes.subarray(start);
          return null;
        });
        await this.afterEngineWork();
        if (broken) {
          reader.cancel().catch(noop);
          return await fail(codeNumber(this.engine, broken.code), broken.detail);
        }
      }
      const broken = await this.lock.run(() => (rest && rest.length ? this.feed(round, rest) : null));
      if (broken) return await fail(codeNumber(this.engine, broken.code), broken.detail);
      await this.lock.run(() => round.answer(response.status));
      await this.afterEngineWork();
    } finally {
      clearTimeout(stallTimer);
      this.inFlight = null;
    }
  }

  // Feeds one line; returns the OutpostError that ends the answer, or null.
  feed(round, line) {
    try {
      round.line(line);
      return null;
    } catch (e) {
      if (e instanceof OutpostError) return e;
      throw e;
    }
  }
}
