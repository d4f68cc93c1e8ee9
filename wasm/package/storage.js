// Storage for the engine's database in a browser: the files behind the "outpost-js" SQLite VFS
// (wasm/src/js_files_vfs.cc), served synchronously to the WebAssembly module.
//
// Three kinds, same interface (the VFS's `Module.outpostFiles` plus `persist()` and `dispose()`):
//  - OpfsFiles: Origin Private File System sync access handles, opened (asynchronously) before the
//    database is, then read and written synchronously. Only a dedicated worker may hold them, and
//    one holder at a time: the worker that holds the database's Web Lock (worker.js). Every
//    SQLite sync (a commit) is a flush(): committed transactions are durable.
//  - IdbFiles: where OPFS is missing. The files live in memory and are persisted to IndexedDB in
//    64 KiB chunks; persist() writes the chunks changed since the last call in one IndexedDB
//    transaction (atomic, durability "strict"). The worker calls it after every operation that may
//    have written and answers the page only once it has completed, so a write whose promise
//    resolved is durable here too.
//  - MemoryFiles: the same files in memory only (gone with the page); IdbFiles builds on it.
//
// A database is two files, `/<name>.db` and its rollback journal `/<name>.db-journal` (the
// package opens the store without WAL: no shared memory here). Removing a file truncates it, and
// an empty file does not exist for SQLite: deleting the journal at the end of a commit is then a
// synchronous truncate, where OPFS's removeEntry would be asynchronous.

const CHUNK = 64 * 1024;

function fileNames(name) {
  return [`/${name}.db`, `/${name}.db-journal`];
}

// Whether this context can use OPFS sync access handles (a dedicated worker of a secure page).
export function opfsAvailable() {
  return (
    typeof navigator !== 'undefined' &&
    navigator.storage &&
    typeof navigator.storage.getDirectory === 'function' &&
    typeof FileSystemFileHandle !== 'undefined' &&
    typeof FileSystemFileHandle.prototype.createSyncAccessHandle === 'function'
  );
}

// The failure codes of the VFS interface: -2 for a full storage, -1 for anything else.
function failure(files, error) {
  files.lastError = error;
  return error && (error.name === 'QuotaExceededError' || error.code === 22) ? -2 : -1;
}

class FileTable {
  constructor(paths) {
    this.paths = paths; // id -> path
    this.lastError = null; // the last exception a method swallowed, for diagnostics
  }

  open(path, _create) {
    const id = this.paths.indexOf(path);
    if (id < 0) this.lastError = new Error(`no such file in this store: ${path}`);
    return id;
  }

  close(_id) {} // handles stay open until dispose()
}

export class OpfsFiles extends FileTable {
  // Opens (creating) the database's files in the origin's `outpost` directory. A handle that is
  // still held by a worker that is going away is retried for up to `retryMs`.
  static async open(name, { retryMs = 3000 } = {}) {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle('outpost', { create: true });
    const handles = [];
    try {
      for (const path of fileNames(name)) {
        const file = await dir.getFileHandle(path.slice(1), { create: true });
        const deadline = Date.now() + retryMs;
        for (;;) {
          try {
            handles.push(await file.createSyncAccessHandle());
            break;
          } catch (e) {
            if (e.name !== 'NoModificationAllowedError' || Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
    } catch (e) {
      for (const h of handles) h.close();
      throw e;
    }
    return new OpfsFiles(name, handles);
  }

  constructor(name, handles) {
    super(fileNames(name));
    this.kind = 'opfs';
    this.handles = handles;
  }

  exists(path) {
    const id = this.paths.indexOf(path);
    try {
      return id >= 0 && this.handles[id].getSize() > 0;
    } catch (e) {
      failure(this, e);
      return false;
    }
  }

  remove(path) {
    const id = this.paths.indexOf(path);
    if (id >= 0) this.truncate(id, 0);
  }

  read(id, bytes, offset) {
    try {
      return this.handles[id].read(bytes, { at: offset });
    } catch (e) {
      return failure(this, e);
    }
  }

  write(id, bytes, offset) {
    try {
      return this.handles[id].write(bytes, { at: offset });
    } catch (e) {
      return failure(this, e);
    }
  }

  size(id) {
    try {
      return this.handles[id].getSize();
    } catch (e) {
      return failure(this, e);
    }
  }

  truncate(id, size) {
    try {
      this.handles[id].truncate(size);
      return 0;
    } catch (e) {
      return failure(this, e);
    }
  }

  flush(id) {
    try {
      this.handles[id].flush();
      return 0;
    } catch (e) {
      return failure(this, e);
    }
  }

  async persist() {} // every flush() is durable already

  dispose() {
    for (const h of this.handles) {
      try {
        h.close();
      } catch (e) {
        this.lastError = e; // closing a handle the browser already closed
      }
    }
    this.handles = [];
  }
}

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

// One file in memory: 64 KiB chunks (a missing chunk reads as zeros; SQLite's pages never
// straddle one), its size, and the chunks changed since the last persist().
class MemoryFile {
  constructor(chunks = [], size = 0) {
    this.chunks = chunks;
    this.size = size;
    this.dirty = new Set();
  }

  read(bytes, offset) {
    const n = Math.max(0, Math.min(bytes.length, this.size - offset));
    for (let done = 0; done < n; ) {
      const pos = offset + done;
      const c = Math.floor(pos / CHUNK);
      const at = pos - c * CHUNK;
      const len = Math.min(CHUNK - at, n - done);
      const chunk = this.chunks[c];
      if (chunk) bytes.set(chunk.subarray(at, at + len), done);
      else bytes.fill(0, done, done + len);
      done += len;
    }
    return n;
  }

  write(bytes, offset) {
    for (let done = 0; done < bytes.length; ) {
      const pos = offset + done;
      const c = Math.floor(pos / CHUNK);
      const at = pos - c * CHUNK;
      const len = Math.min(CHUNK - at, bytes.length - done);
      let chunk = this.chunks[c];
      if (!chunk) {
        chunk = new Uint8Array(CHUNK);
        this.chunks[c] = chunk;
      }
      chunk.set(bytes.subarray(done, done + len), at);
      this.dirty.add(c);
      done += len;
    }
    this.size = Math.max(this.size, offset + bytes.length);
  }

  truncate(size) {
    if (size < this.size) {
      // What lies beyond the new end reads as zeros should the file grow again.
      const c = Math.floor(size / CHUNK);
      const at = size - c * CHUNK;
      if (at > 0 && this.chunks[c]) {
        this.chunks[c].fill(0, at);
        this.dirty.add(c);
      }
      this.chunks.length = Math.min(this.chunks.length, Math.ceil(size / CHUNK));
    }
    this.size = size;
  }
}

// Files in memory, for a store that need not outlive the page (and the base of IdbFiles). The
// node tests run the engine's VFS over it.
export class MemoryFiles extends FileTable {
  constructor(name, files = fileNames(name).map(() => new MemoryFile())) {
    super(fileNames(name));
    this.kind = 'memory';
    this.files = files;
  }

  exists(path) {
    const id = this.paths.indexOf(path);
    return id >= 0 && this.files[id].size > 0;
  }

  remove(path) {
    const id = this.paths.indexOf(path);
    if (id >= 0) this.truncate(id, 0);
  }

  read(id, bytes, offset) {
    return this.files[id].read(bytes, offset);
  }

  write(id, bytes, offset) {
    try {
      this.files[id].write(bytes, offset);
    } catch (e) {
      return failure(this, e); // out of memory
    }
    return bytes.length;
  }

  size(id) {
    return this.files[id].size;
  }

  truncate(id, size) {
    this.files[id].truncate(size);
    return 0;
  }

  flush(_id) {
    return 0; // nothing below memory (IdbFiles persists between engine calls)
  }

  async persist() {}

  dispose() {}
}

export class IdbFiles extends MemoryFiles {
  // Opens the IndexedDB database `outpost:<name>` and loads the store's files into memory.
  static async open(name) {
    const open = indexedDB.open(`outpost:${name}`, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('chunks'); // key [path, index] -> Uint8Array of CHUNK bytes
      open.result.createObjectStore('sizes'); // key path -> bytes
    };
    const db = await request(open);
    const files = [];
    const tx = db.transaction(['chunks', 'sizes'], 'readonly');
    for (const path of fileNames(name)) {
      const size = (await request(tx.objectStore('sizes').get(path))) ?? 0;
      const range = IDBKeyRange.bound([path, 0], [path, Infinity]);
      const keys = await request(tx.objectStore('chunks').getAllKeys(range));
      const values = await request(tx.objectStore('chunks').getAll(range));
      const chunks = [];
      keys.forEach(([, index], i) => {
        if (index * CHUNK >= size) return;
        const chunk = new Uint8Array(CHUNK); // whatever length was stored
        chunk.set(values[i].subarray(0, CHUNK));
        chunks[index] = chunk;
      });
      files.push(new MemoryFile(chunks, size));
    }
    return new IdbFiles(name, db, files);
  }

  constructor(name, db, files) {
    super(name, files);
    this.kind = 'indexeddb';
    this.db = db;
    this.persistedSizes = files.map((f) => f.size);
  }

  // Writes the chunks changed since the last call, and the files' sizes, in one IndexedDB
  // transaction. The chunks are copied when the call is made: later writes go to the next call.
  async persist() {
    const changed = this.files.some((f, i) => f.dirty.size || f.size !== this.persistedSizes[i]);
    if (!changed) return;
    const tx = this.db.transaction(['chunks', 'sizes'], 'readwrite', { durability: 'strict' });
    const chunks = tx.objectStore('chunks');
    const sizes = tx.objectStore('sizes');
    const taken = [];
    this.files.forEach((f, id) => {
      const path = this.paths[id];
      for (const c of f.dirty) {
        if (f.chunks[c]) chunks.put(f.chunks[c], [path, c]); // put() copies it, now
      }
      chunks.delete(IDBKeyRange.bound([path, Math.ceil(f.size / CHUNK)], [path, Infinity]));
      sizes.put(f.size, path);
      taken.push(f.dirty);
      f.dirty = new Set();
    });
    const sizesNow = this.files.map((f) => f.size);
    try {
      await done(tx);
      this.persistedSizes = sizesNow;
    } catch (e) {
      // Not written: the chunks stay due for the next call.
      taken.forEach((set, id) => {
        for (const c of set) this.files[id].dirty.add(c);
      });
      throw e;
    }
  }

  dispose() {
    this.db.close();
  }
}

// Opens the files of store `name`: `kind` is "opfs", "indexeddb", "memory" or "auto" (OPFS when
// this browser has it, else IndexedDB). A store's data lives in one kind of storage: keep the same
// choice.
export async function openFiles(name, kind = 'auto') {
  if (kind === 'opfs' || (kind === 'auto' && opfsAvailable())) return OpfsFiles.open(name);
  if (kind === 'indexeddb' || kind === 'auto') return IdbFiles.open(name);
  if (kind === 'memory') return new MemoryFiles(name);
  throw new Error(`unknown storage "${kind}": use "auto", "opfs", "indexeddb" or "memory"`);
}
