// The "outpost-crypt" SQLite VFS: encryption at rest under SQLite (docs/local-store.md,
// "Encryption at rest"). Private to core.
//
// A CryptVfs wraps another VFS (the build's default: "unix" natively, "outpost-js" in the
// browser) and encrypts what SQLite writes through it:
//  - the database file: a 4096-byte header of ours (magic, page size, KDF and its parameters,
//    salt, a key check), then SQLite's pages, each sealed with XChaCha20-Poly1305 in place: the
//    page's last 40 bytes (SQLite's reserved bytes per page) hold the nonce and the tag, the page
//    number is associated data;
//  - the WAL: its 32-byte header stays plain (magic, page size, salts: no content), every frame
//    (24-byte frame header + page) is sealed as one message, the frame index is associated data;
//  - rollback journals: every page image is sealed, its offset and page number are associated
//    data; record headers and checksums stay plain;
//  - temporary files (should any reach the VFS despite temp_store = MEMORY): XChaCha20 with a
//    key drawn for the file and never stored.
// The -shm file (the WAL index: page numbers and frame positions, no content) is not encrypted.
//
// What a failed authentication means depends on who reads: a database page that does not
// authenticate is an error (SQLITE_IOERR_DATA, reported as corruption); a WAL frame read while
// SQLite scans the log after a crash reads as an invalid frame and ends the log there; a journal
// page image reads as the end of the journal (a torn write looks the same; see the docs for why
// this is no weaker than what an attacker can do by deleting the file).
//
// One CryptVfs serves one database (its file, WAL and journals) with one key; it is registered
// under a unique name for as long as it lives and must outlive every connection that uses it.
// Threading: like the connection using it (one thread at a time).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "outpost/encryption.h"
#include "outpost/status.h"

namespace outpost {

// Bytes SQLite must leave unused at the end of every page (SQLITE_FCNTL_RESERVE_BYTES): the
// nonce (24) and the tag (16).
constexpr int kCryptReserveBytes = 40;

// What is at a path, judged from its first bytes through `base`.
enum class StoreFileKind {
  kNew,        // absent or empty
  kPlain,      // a SQLite database
  kEncrypted,  // an Outpost encrypted store
  kOther,      // anything else
};
StoreFileKind ProbeStoreFile(sqlite3_vfs* base, const std::string& path);

class CryptVfs {
 public:
  // A VFS over `base` for the database at `path` with `key`. For an existing encrypted file,
  // reads its header and checks the key: kUnauthorized when it does not open the file. For a new
  // file, prepares a header with a fresh salt, `key`'s cost and `page_size`, written when SQLite
  // creates the file. Registers the VFS (name()).
  static Result<std::unique_ptr<CryptVfs>> Create(sqlite3_vfs* base, const std::string& path,
                                                  const EncryptionKey& key, int page_size);
  ~CryptVfs();  // unregisters the VFS and wipes the keys
  CryptVfs(const CryptVfs&) = delete;
  CryptVfs& operator=(const CryptVfs&) = delete;

  const char* name() const { return name_.c_str(); }
  int page_size() const { return page_size_; }
  // The last failure a file operation recorded (e.g. a page that did not authenticate), for
  // error messages; "" when none.
  const std::string& last_error() const { return last_error_; }

  struct Impl;  // the VFS and file methods (crypt_vfs.cc)

 private:
  CryptVfs() = default;
  friend struct Impl;
  sqlite3_vfs vfs_{};
  sqlite3_vfs* base_ = nullptr;
  std::string name_;
  std::string path_;
  uint8_t header_[96] = {};    // the file's header as written (salt, parameters, key check)
  uint8_t data_key_[32] = {};  // derived from the key and the salt; wiped by the destructor
  int page_size_ = 0;
  std::string last_error_;
};

}  // namespace outpost
