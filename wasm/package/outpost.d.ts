// Types of the Outpost browser package (outpost.js).

/** A value of a column or parameter: the JSON value mapping of every Outpost API, except that a
 * BLOB (bytea) is a Uint8Array. Integers beyond 2^53 lose precision, as JSON numbers do. */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };
export type Row = Record<string, Value>;
/** Positional (?, ?NNN) or named (:name, @name, $name) parameters. */
export type Params = Value[] | Record<string, Value>;

export class OutpostError extends Error {
  /** The stable code: "constraint_violation", "unavailable", "unauthorized", ... */
  readonly code: string;
  readonly detail: string;
}

export interface OpenOptions {
  /** The local database's name (letters, digits, _ . -); one per app and user. */
  name: string;
  /** The sync endpoint's base URL; without it the database is local only. */
  serverUrl?: string;
  /** A bearer token for the sync endpoint... */
  token?: string;
  /** ...or a function that gets one (called again after a 401). */
  getToken?: () => string | Promise<string>;
  /** Where the data lives: OPFS when available ("auto", the default), else IndexedDB; "memory"
   * keeps nothing after the page closes. Keep the same choice for a database. */
  storage?: 'auto' | 'opfs' | 'indexeddb' | 'memory';
  sync?: {
    /** Sync by itself (default true); false: only when sync() is called. */
    auto?: boolean;
    /** How long the server may hold a pull waiting for changes (default 25). */
    waitSeconds?: number;
    minBackoffMs?: number;
    maxBackoffMs?: number;
    /** A request that receives nothing for this long fails (default 30). */
    stallSeconds?: number;
  };
  /** Encrypts the database at rest with a key derived from this passphrase (Argon2id): a new
   * database is created encrypted; an existing one opens only with the key it was created with
   * (open() rejects with code "unauthorized" otherwise, changing nothing). */
  key?: string;
  /** ...or with 32 raw bytes given as 64 hexadecimal digits (no key derivation). */
  rawKey?: string;
  /** An idle transaction() is rolled back after this long (default 10000). */
  transactionTimeoutMs?: number;
  /** Where worker.js is served, when a bundler moves it. */
  workerUrl?: string | URL;
}

export interface ExecuteResult {
  columns: string[];
  rows: Row[];
  changes: number;
  lastInsertRowid: number;
}

export interface SyncReport {
  pushed_transactions: number;
  rejected_transactions: number;
  rows_received: number;
  deletes_received: number;
  bootstrapped_now: boolean;
}

export interface SyncStatus {
  /** Local writes not yet confirmed by the server. */
  pending: number;
  pendingTransactions: number;
  bootstrapped: boolean;
  /** ISO time of the last successful sync round. */
  lastSync: string | null;
  lastError: { code: string; message: string } | null;
  /** How many rejections await the app's attention. */
  rejections: number;
  /** How many notices await the app's attention. */
  notices: number;
  online: boolean | null;
  syncing: boolean;
  /** When a failed sync is retried. */
  retryAt: string | null;
  lastRound: SyncReport | null;
  clientId: string;
  storage: 'opfs' | 'indexeddb' | 'memory';
}

export interface Rejection {
  id: number;
  tx_id: number;
  code: string;
  message: string;
  rule?: string;
  table?: string;
  pk?: Value[];
  mutations: unknown[];
  at: string;
  /** code "dependent": the earlier rejected transaction this one wrote on. */
  depends_on: number | null;
}

/** Something the server did differently from what an applied transaction wrote. */
export interface Notice {
  id: number;
  tx_id: number;
  code: 'row_deleted' | 'superseded' | 'merged' | 'clock_clamped' | string;
  table: string;
  pk: Value[] | null;
  /** "superseded": the columns that kept the server's value. */
  columns: string[];
  at: string;
}

export interface Remap {
  table: string;
  from: Value[];
  to: Value[];
}

export interface Transaction {
  execute(sql: string, params?: Params): Promise<ExecuteResult>;
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
}

export interface Events {
  status: SyncStatus;
  change: { tables: string[] };
  remaps: Remap[];
  rejections: Rejection[];
  notices: Notice[];
  leader: { leader: boolean; storage: 'opfs' | 'indexeddb' | 'memory' };
  /** The engine failed (a WebAssembly trap); the database is being reopened. */
  error: { code: string; message: string };
}

export class Database {
  /** This tab holds the database (the others go through it). */
  readonly isLeader: boolean;
  readonly lastStatus: SyncStatus | null;
  execute(sql: string, params?: Params): Promise<ExecuteResult>;
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  transaction<R>(fn: (tx: Transaction) => Promise<R>): Promise<R>;
  watch<T = Row>(
    sql: string,
    params: Params | null,
    callback: (rows: T[]) => void,
    onError?: (error: OutpostError) => void,
  ): () => void;
  sync(): Promise<SyncReport>;
  status(): Promise<SyncStatus>;
  rejections(): Promise<Rejection[]>;
  dismissRejection(id: number): Promise<void>;
  notices(): Promise<Notice[]>;
  dismissNotice(id: number): Promise<void>;
  on<E extends keyof Events>(event: E, listener: (data: Events[E]) => void): () => void;
  close(): Promise<void>;
}

export function open(options: OpenOptions): Promise<Database>;
