// A SQLite VFS over files that JavaScript serves synchronously: in the browser package, the
// Origin Private File System's sync access handles (wasm/package/storage.js), which a dedicated
// worker opens before the database and then reads and writes without awaiting anything. This is
// the approach of SQLite's own "opfs-sahpool" VFS: no Asyncify, no SharedArrayBuffer, so no
// COOP/COEP headers.
//
// The JavaScript side is `Module.outpostFiles` (wasm/package/storage.js), an object with
//   open(name, create) -> id (>= 0) or -1     exists(name) -> bool     remove(name)
//   read(id, bytes, offset) -> count or -1    write(id, bytes, offset) -> count, -1 or -2
//   size(id) -> bytes or -1    truncate(id, size) -> 0 or -1    flush(id) -> 0 or -1   close(id)
// where `bytes` is a view of the WebAssembly heap, -2 means "out of space" (a storage quota) and
// -1 any other failure. No method throws. Offsets and sizes travel as doubles (exact to 2^53).
// Files SQLite opens without a name, and temporary files, go to the default VFS (memory).
//
// Locking is a no-op: the package lets one connection of one tab at a time hold the database
// (Web Locks, wasm/package/worker.js).
#include <emscripten.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>

// clang-format off
EM_JS(int, js_files_open, (const char* name, int create), {
  return Module.outpostFiles.open(UTF8ToString(name), create !== 0);
});
EM_JS(int, js_files_exists, (const char* name), {
  return Module.outpostFiles.exists(UTF8ToString(name)) ? 1 : 0;
});
EM_JS(void, js_files_remove, (const char* name), {
  Module.outpostFiles.remove(UTF8ToString(name));
});
EM_JS(int, js_files_read, (int id, unsigned char* buf, int n, double offset), {
  return Module.outpostFiles.read(id, HEAPU8.subarray(buf, buf + n), offset);
});
EM_JS(int, js_files_write, (int id, const unsigned char* buf, int n, double offset), {
  return Module.outpostFiles.write(id, HEAPU8.subarray(buf, buf + n), offset);
});
EM_JS(double, js_files_size, (int id), {
  return Module.outpostFiles.size(id);
});
EM_JS(int, js_files_truncate, (int id, double size), {
  return Module.outpostFiles.truncate(id, size);
});
EM_JS(int, js_files_flush, (int id), {
  return Module.outpostFiles.flush(id);
});
EM_JS(void, js_files_close, (int id), {
  Module.outpostFiles.close(id);
});
// clang-format on

namespace {

struct JsFile {
  sqlite3_file base;
  int id;
};

sqlite3_vfs* g_default = nullptr;  // the build's own VFS (memory), for temporary files

// A JavaScript exception must not unwind through SQLite: the JavaScript side catches every one
// (a handle closed under us, a storage quota) and returns a failure code instead.

int Close(sqlite3_file* f) {
  js_files_close(reinterpret_cast<JsFile*>(f)->id);
  return SQLITE_OK;
}

int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 offset) {
  int got = js_files_read(reinterpret_cast<JsFile*>(f)->id, static_cast<unsigned char*>(buf), n,
                          static_cast<double>(offset));
  if (got < 0) return SQLITE_IOERR_READ;
  if (got < n) {
    std::memset(static_cast<unsigned char*>(buf) + got, 0, static_cast<size_t>(n - got));
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 offset) {
  int put = js_files_write(reinterpret_cast<JsFile*>(f)->id, static_cast<const unsigned char*>(buf),
                           n, static_cast<double>(offset));
  if (put == -2) return SQLITE_FULL;
  return put == n ? SQLITE_OK : SQLITE_IOERR_WRITE;
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  int rc = js_files_truncate(reinterpret_cast<JsFile*>(f)->id, static_cast<double>(size));
  return rc == 0 ? SQLITE_OK : SQLITE_IOERR_TRUNCATE;
}

int Sync(sqlite3_file* f, int) {
  return js_files_flush(reinterpret_cast<JsFile*>(f)->id) == 0 ? SQLITE_OK : SQLITE_IOERR_FSYNC;
}

int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  double s = js_files_size(reinterpret_cast<JsFile*>(f)->id);
  if (s < 0) return SQLITE_IOERR_FSTAT;
  *size = static_cast<sqlite3_int64>(s);
  return SQLITE_OK;
}

int Lock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int Unlock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int CheckReservedLock(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int FileControl(sqlite3_file*, int, void*) {
  return SQLITE_NOTFOUND;
}
int SectorSize(sqlite3_file*) {
  return 4096;
}
int DeviceCharacteristics(sqlite3_file*) {
  return SQLITE_IOCAP_UNDELETABLE_WHEN_OPEN;
}

sqlite3_io_methods MakeMethods() {
  sqlite3_io_methods m{};  // version 1: no shared memory (no WAL), no memory mapping
  m.iVersion = 1;
  m.xClose = Close;
  m.xRead = Read;
  m.xWrite = Write;
  m.xTruncate = Truncate;
  m.xSync = Sync;
  m.xFileSize = FileSize;
  m.xLock = Lock;
  m.xUnlock = Unlock;
  m.xCheckReservedLock = CheckReservedLock;
  m.xFileControl = FileControl;
  m.xSectorSize = SectorSize;
  m.xDeviceCharacteristics = DeviceCharacteristics;
  return m;
}
const sqlite3_io_methods kMethods = MakeMethods();

constexpr int kTemporary = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_SUBJOURNAL |
                           SQLITE_OPEN_TRANSIENT_DB;

int Open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  if (!name || (flags & kTemporary)) return g_default->xOpen(g_default, name, f, flags, out_flags);
  int id = js_files_open(name, (flags & SQLITE_OPEN_CREATE) ? 1 : 0);
  if (id < 0) return SQLITE_CANTOPEN;
  auto* file = reinterpret_cast<JsFile*>(f);
  file->base.pMethods = &kMethods;
  file->id = id;
  if (out_flags) *out_flags = flags;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs*, const char* name, int) {
  js_files_remove(name);
  return SQLITE_OK;
}

int Access(sqlite3_vfs*, const char* name, int, int* out) {
  *out = js_files_exists(name);
  return SQLITE_OK;
}

int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  sqlite3_snprintf(n, out, "%s", name);
  return SQLITE_OK;
}

int Randomness(sqlite3_vfs*, int n, char* out) {
  return g_default->xRandomness(g_default, n, out);
}
int Sleep(sqlite3_vfs*, int micros) {
  return g_default->xSleep(g_default, micros);
}
// The build's own VFS has only the 64-bit clock (SQLITE_OMIT_DEPRECATED removes xCurrentTime).
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_default->xCurrentTimeInt64(g_default, out);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  sqlite3_int64 ms = 0;
  int rc = CurrentTimeInt64(vfs, &ms);
  *out = static_cast<double>(ms) / 86400000.0;
  return rc;
}
int GetLastError(sqlite3_vfs*, int, char*) {
  return 0;
}

sqlite3_vfs MakeVfs() {
  sqlite3_vfs v{};
  v.iVersion = 2;  // with xCurrentTimeInt64; no system-call overrides (version 3)
  v.mxPathname = 1024;
  v.zName = "outpost-js";
  v.xOpen = Open;
  v.xDelete = Delete;
  v.xAccess = Access;
  v.xFullPathname = FullPathname;
  v.xRandomness = Randomness;
  v.xSleep = Sleep;
  v.xCurrentTime = CurrentTime;
  v.xCurrentTimeInt64 = CurrentTimeInt64;
  v.xGetLastError = GetLastError;
  return v;
}
sqlite3_vfs g_vfs = MakeVfs();

}  // namespace

extern "C" {

// Makes the JavaScript-served files the default VFS (Module.outpostFiles must be set). Returns
// a SQLite result code.
EMSCRIPTEN_KEEPALIVE int outpost_wasm_use_js_files() {
  if (g_default) return SQLITE_OK;
  int rc = sqlite3_initialize();
  if (rc != SQLITE_OK) return rc;
  g_default = sqlite3_vfs_find(nullptr);
  if (!g_default || g_default->iVersion < 2 || !g_default->xCurrentTimeInt64) return SQLITE_ERROR;
  g_vfs.szOsFile = std::max<int>(static_cast<int>(sizeof(JsFile)), g_default->szOsFile);
  return sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1);
}

}  // extern "C"
