// Encryption of a Store's file: choosing the VFS when a store opens, and Store::Rekey.
#include <sqlite3.h>

#include <cstdio>

#include "store_impl.h"

#ifndef __EMSCRIPTEN__
#include <fcntl.h>
#include <unistd.h>
#endif

namespace outpost {

namespace {

constexpr int kNewFilePageSize = 4096;

#ifndef __EMSCRIPTEN__
// A file: URI naming `path` with the VFS `vfs` (for VACUUM INTO, which opens its target like
// ATTACH does). Characters with a meaning in URIs are escaped.
std::string FileUri(const std::string& path, const char* vfs) {
  std::string uri = "file:";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x20) {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?vfs=" + vfs;
}

// A connection closed when it goes out of scope (before the VFS objects declared ahead of it).
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() {
    if (db) sqlite3_close_v2(db);
  }
};

// Makes a rename in `path`'s directory durable.
void SyncDirectoryOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}
#endif  // !__EMSCRIPTEN__

}  // namespace

Result<std::unique_ptr<CryptVfs>> PrepareStoreEncryption(const std::string& path,
                                                         const StoreOptions& options) {
  if (path.empty() || path == ":memory:") {
    if (options.encryption) {
      return Status(Code::kInvalidArgument, "an in-memory store cannot be encrypted");
    }
    return std::unique_ptr<CryptVfs>();
  }
  int rc = sqlite3_initialize();
  if (rc != SQLITE_OK) return SqliteStatus(rc, "cannot initialise SQLite");
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (!base) return Status(Code::kInternal, "SQLite has no default VFS");
  StoreFileKind kind = ProbeStoreFile(base, path);
  if (!options.encryption) {
    if (kind == StoreFileKind::kEncrypted) {
      return Status(Code::kUnauthorized, path + " is encrypted: it opens only with its key");
    }
    return std::unique_ptr<CryptVfs>();
  }
  if (kind == StoreFileKind::kPlain) {
    return Status(Code::kInvalidArgument,
                  path + " is not encrypted: open it without a key, or encrypt it with rekey");
  }
  if (kind == StoreFileKind::kOther) {
    return Status(Code::kCorruption, path + " is neither a SQLite database nor an encrypted store");
  }
  return CryptVfs::Create(base, path, *options.encryption, kNewFilePageSize);
}

Status Store::Rekey(const std::string& path, const StoreOptions& options,
                    const std::optional<EncryptionKey>& new_key) {
#ifdef __EMSCRIPTEN__
  (void)path, (void)options, (void)new_key;
  return Status(Code::kUnsupported, "rekeying needs a file system that can rename files");
#else
  if (!options.encryption && !new_key) {
    return Status(Code::kInvalidArgument, "rekey: the store is not encrypted and no new key given");
  }
  OUTPOST_ASSIGN_OR_RETURN(std::unique_ptr<CryptVfs> source_vfs,
                           PrepareStoreEncryption(path, options));
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (ProbeStoreFile(base, path) == StoreFileKind::kNew) {
    return Status(Code::kNotFound, "rekey: " + path + " does not exist");
  }
  const std::string target = path + ".rekey";
  std::unique_ptr<CryptVfs> target_vfs;
  Connection c;
  auto fail = [&](Status s) {
    sqlite3_close_v2(c.db);
    c.db = nullptr;
    base->xDelete(base, target.c_str(), 0);
    return s.WithContext("cannot rekey " + path);
  };
  int rc = sqlite3_open_v2(path.c_str(), &c.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI,
                           source_vfs ? source_vfs->name() : nullptr);
  if (rc != SQLITE_OK) return fail(SqliteStatus(rc, c.db ? sqlite3_errmsg(c.db) : "no memory"));
  sqlite3_extended_result_codes(c.db, 1);
  sqlite3_busy_timeout(c.db, 5000);
  // Leaving WAL needs every other connection gone (SQLite refuses otherwise) and empties the WAL
  // into the file: then the file alone is the store, and nobody writes it while it is copied.
  {
    Stmt mode(c.db, "PRAGMA journal_mode = DELETE");
    OUTPOST_RETURN_IF_ERROR(mode.status());
    Result<bool> row = mode.Step();
    if (!row.ok()) return fail(row.status());
    if (!*row || mode.Text(0) != "delete") {
      return fail(Status(Code::kBusy, "another connection has the store open"));
    }
  }
  // A copy left by an interrupted rekey is garbage: the rename is the commit point.
  base->xDelete(base, target.c_str(), 0);
  std::string target_vfs_name = base->zName;
  if (new_key) {
    int page_size = kNewFilePageSize;
    {
      Stmt q(c.db, "PRAGMA page_size");
      OUTPOST_RETURN_IF_ERROR(q.status());
      Result<bool> row = q.Step();
      if (!row.ok()) return fail(row.status());
      page_size = static_cast<int>(q.Int(0));
    }
    auto created = CryptVfs::Create(base, target, *new_key, page_size);
    if (!created.ok()) return fail(created.status());
    target_vfs = std::move(created).value();
    target_vfs_name = target_vfs->name();
    // VACUUM INTO gives the copy the reserve the source asks for: room for nonce and tag.
    int reserve = kCryptReserveBytes;
    sqlite3_file_control(c.db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
  }
  {
    Stmt vacuum(c.db, "VACUUM INTO ?");
    OUTPOST_RETURN_IF_ERROR(vacuum.status());
    vacuum.BindText(1, FileUri(target, target_vfs_name.c_str()));
    Result<bool> done = vacuum.Step();
    if (!done.ok()) {
      Status s = done.status();
      if (target_vfs && !target_vfs->last_error().empty()) {
        s = Status(s.code(), s.message() + " (" + target_vfs->last_error() + ")");
      }
      return fail(s);
    }
  }
  rc = sqlite3_close(c.db);
  c.db = nullptr;
  if (rc != SQLITE_OK) return fail(SqliteStatus(rc, "cannot close the store"));
  int leftover = 0;
  base->xAccess(base, (path + "-wal").c_str(), SQLITE_ACCESS_EXISTS, &leftover);
  if (!leftover) base->xAccess(base, (path + "-journal").c_str(), SQLITE_ACCESS_EXISTS, &leftover);
  if (leftover) return fail(Status(Code::kBusy, "a journal of the store is still in use"));
  // VACUUM INTO synced the copy (the source's synchronous = FULL); sync again for certainty.
  int fd = ::open(target.c_str(), O_RDWR);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return fail(Status(Code::kIoError, "cannot sync " + target));
  }
  ::close(fd);
  if (std::rename(target.c_str(), path.c_str()) != 0) {
    return fail(Status(Code::kIoError, "cannot rename " + target + " to " + path));
  }
  SyncDirectoryOf(path);
  return Status::Ok();
#endif
}

}  // namespace outpost
