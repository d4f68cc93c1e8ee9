// The "outpost-crypt" VFS (crypt_vfs.h). File layouts are described in docs/local-store.md,
// "Encryption at rest"; the comments here say why each SQLite access pattern is handled the way
// it is.
#include "crypt_vfs.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

namespace outpost {

namespace {

constexpr int64_t kHeaderSize = 4096;  // our header; SQLite's offset 0 is file offset 4096
constexpr char kMagic[16] = {'O', 'u', 't', 'p', 'o', 's', 't', ' ',
                             'c', 'r', 'y', 'p', 't', ' ', 'v', '1'};
constexpr char kSqliteMagic[] = "SQLite format 3";                         // 16 bytes with its NUL
constexpr int kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr int kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
static_assert(kNonceBytes + kTagBytes == kCryptReserveBytes);
constexpr int kWalHeaderSize = 32;
constexpr int kWalFrameHeaderSize = 24;
// Header fields (little endian): magic[16] | page size u32 | kdf u8 | 0[3] | ops u64 | mem u64 |
// salt[16] | key check nonce[24] | key check tag[16]. The key check seals an empty message with
// bytes 0..55 as associated data, so it also authenticates the parameters.
constexpr int kOffPageSize = 16, kOffKdf = 20, kOffOps = 24, kOffMem = 32, kOffSalt = 40,
              kOffCheckNonce = 56, kOffCheckTag = 80, kHeaderUsed = 96;
constexpr uint8_t kKdfRaw = 0, kKdfArgon2id = 1;
// Bounds on the Argon2id parameters a header may ask for, so that a crafted file cannot make
// opening it take unbounded memory or time.
constexpr uint64_t kMaxOps = 64, kMaxMem = uint64_t{1} << 30;

std::atomic<uint64_t> g_next_vfs_id{1};

void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void Put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t Get64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Reads up to `n` bytes at `offset` of `path` through `base` without locking (a probe before the
// connection opens). Returns how many bytes were read; 0 when the file is absent or unreadable.
size_t ReadPrefix(sqlite3_vfs* base, const std::string& path, uint8_t* out, int n) {
  int exists = 0;
  if (base->xAccess(base, path.c_str(), SQLITE_ACCESS_EXISTS, &exists) != SQLITE_OK || !exists) {
    return 0;
  }
  std::vector<uint8_t> mem(static_cast<size_t>(base->szOsFile));
  auto* f = reinterpret_cast<sqlite3_file*>(mem.data());
  int out_flags = 0;
  if (base->xOpen(base, path.c_str(), f, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &out_flags) !=
      SQLITE_OK) {
    if (f->pMethods) f->pMethods->xClose(f);
    return 0;
  }
  sqlite3_int64 size = 0;
  size_t got = 0;
  if (f->pMethods->xFileSize(f, &size) == SQLITE_OK && size > 0) {
    int want = static_cast<int>(std::min<sqlite3_int64>(size, n));
    int rc = f->pMethods->xRead(f, out, want, 0);
    if (rc == SQLITE_OK) got = static_cast<size_t>(want);
  }
  f->pMethods->xClose(f);
  return got;
}

// The page key of a file: BLAKE2b keyed with the master key over a label and the file's salt, so
// that files sharing a raw key still have distinct page keys.
void DerivePageKey(const uint8_t master[32], const uint8_t* salt, uint8_t out[32]) {
  static constexpr char kLabel[] = "outpost-crypt v1 page key";
  uint8_t msg[sizeof(kLabel) - 1 + 16];
  std::memcpy(msg, kLabel, sizeof(kLabel) - 1);
  std::memcpy(msg + sizeof(kLabel) - 1, salt, 16);
  crypto_generichash(out, 32, msg, sizeof(msg), master, 32);
}

// Associated data of a sealed unit: its kind ('D' database page, 'W' WAL frame, 'J' journal page
// image), its position (page number, frame index, journal offset) and, for journal images, the
// page number recorded before them.
struct Ad {
  uint8_t bytes[20] = {};
  size_t size = 16;
  Ad(char kind, uint64_t position) {
    bytes[0] = static_cast<uint8_t>(kind);
    Put64(bytes + 8, position);
  }
};

}  // namespace

// --- Files -----------------------------------------------------------------------------------

struct CryptVfs::Impl {
  enum class Kind { kMain, kWal, kJournal, kTemp, kPlain };

  // SQLite allocates szOsFile bytes per file and knows nothing of C++: our sqlite3_file holds a
  // pointer to the file's state, and the base VFS's file follows it in the same allocation.
  struct State;
  struct File {
    sqlite3_file base;
    State* state;
  };
  struct State {
    CryptVfs* owner = nullptr;
    sqlite3_file* real = nullptr;
    Kind kind = Kind::kPlain;
    int page = 0;  // page size
    // Nonces: a random prefix drawn when the file opens and a counter, so every seal under the
    // key gets a nonce never used before without asking the system for randomness per page.
    uint8_t nonce[kNonceBytes] = {};
    uint64_t counter = 0;
    std::vector<uint8_t> scratch;  // one unit, reused (no allocation per page)
    // WAL: a frame header written ahead of its page (SQLite writes the two separately); sealed
    // together with the page when it arrives.
    int64_t pending_frame = -1;
    uint8_t pending[kWalFrameHeaderSize] = {};
    // Journal: the last 4-byte record field read or written (a page number precedes each image).
    int64_t last4_offset = -1;
    uint8_t last4[4] = {};
    // Temporary files: a stream key that exists only in memory.
    uint8_t temp_key[crypto_stream_xchacha20_KEYBYTES] = {};
    ~State() {
      sodium_memzero(temp_key, sizeof(temp_key));
      if (!scratch.empty()) sodium_memzero(scratch.data(), scratch.size());
    }
  };

  static State* S(sqlite3_file* f) { return reinterpret_cast<File*>(f)->state; }
  static int RealOffset() {
    return static_cast<int>((sizeof(File) + 15) / 16 * 16);  // keep the base file aligned
  }

  static void NextNonce(State* s, uint8_t out[kNonceBytes]) {
    std::memcpy(out, s->nonce, kNonceBytes);
    Put64(out + kNonceBytes - 8, Get64(s->nonce + kNonceBytes - 8) + s->counter++);
  }

  // Seals `n` bytes of `plain` into `out` (n bytes), writing nonce and tag after them.
  static void Seal(State* s, const uint8_t* plain, size_t n, uint8_t* out, const Ad& ad) {
    uint8_t* nonce = out + n;
    NextNonce(s, nonce);
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out, out + n + kNonceBytes, nullptr, plain,
                                                        n, ad.bytes, ad.size, nullptr, nonce,
                                                        s->owner->data_key_);
  }
  // Opens a unit of n + 40 bytes in place; false when it does not authenticate.
  static bool Unseal(State* s, uint8_t* unit, size_t n, const Ad& ad) {
    return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
               unit, nullptr, unit, n, unit + n + kNonceBytes, ad.bytes, ad.size, unit + n,
               s->owner->data_key_) == 0;
  }

  static int Fail(State* s, int rc, std::string message) {
    s->owner->last_error_ = std::move(message);
    return rc;
  }

  // Reads a whole unit of the base file into `out`. SQLITE_IOERR_SHORT_READ when it is not all
  // there (then `*absent` says whether none of it was).
  static int ReadUnit(State* s, uint8_t* out, int size, int64_t offset, bool* absent) {
    int rc = s->real->pMethods->xRead(s->real, out, size, offset);
    if (rc == SQLITE_IOERR_SHORT_READ) {
      sqlite3_int64 file_size = 0;
      s->real->pMethods->xFileSize(s->real, &file_size);
      *absent = file_size <= offset;
    }
    return rc;
  }

  // --- Database file: pages of `page` bytes after our header ----------------------------------

  static bool CheckPageOne(State* s, const uint8_t* page) {
    const int declared = page[16] == 0 && page[17] == 1 ? 65536 : (page[16] << 8) | page[17];
    if (declared != s->page) {
      Fail(s, SQLITE_IOERR_WRITE,
           "page 1 declares pages of " + std::to_string(declared) +
               " bytes, and the encrypted file has pages of " + std::to_string(s->page));
      return false;
    }
    if (page[20] < kCryptReserveBytes) {
      Fail(s, SQLITE_IOERR_WRITE,
           "page 1 declares fewer than 40 reserved bytes per page: this database cannot be "
           "stored encrypted");
      return false;
    }
    return true;
  }

  static int MainRead(State* s, uint8_t* buf, int amt, int64_t off) {
    const int page = s->page;
    const size_t body = static_cast<size_t>(page - kCryptReserveBytes);
    bool short_read = false;
    while (amt > 0) {
      const int64_t index = off / page;
      const int within = static_cast<int>(off - index * page);
      const int take = std::min(amt, page - within);
      const bool whole = within == 0 && take == page;
      uint8_t* unit = whole ? buf : s->scratch.data();
      bool absent = false;
      int rc = ReadUnit(s, unit, page, kHeaderSize + index * page, &absent);
      bool ok = false;
      if (rc == SQLITE_OK) {
        ok = Unseal(s, unit, body, Ad('D', static_cast<uint64_t>(index + 1)));
      } else if (rc == SQLITE_IOERR_SHORT_READ && absent) {
        std::memset(buf, 0, static_cast<size_t>(take));
        short_read = true;
        buf += take, off += take, amt -= take;
        continue;
      } else if (rc != SQLITE_IOERR_SHORT_READ) {
        return rc;
      }
      if (!ok) {
        // A whole page is data SQLite will use: refuse it. A part of one is SQLite peeking at the
        // header (at open, before a hot journal is rolled back, a torn page 1 is legitimate):
        // zeros make it read the page whole later, which is then checked.
        if (whole) {
          return Fail(s, SQLITE_IOERR_DATA,
                      "page " + std::to_string(index + 1) + " of " + s->owner->path_ +
                          " failed authentication (modified or damaged)");
        }
        std::memset(buf, 0, static_cast<size_t>(take));
      } else {
        std::memset(unit + body, 0, kCryptReserveBytes);
        if (!whole) std::memcpy(buf, unit + within, static_cast<size_t>(take));
      }
      buf += take, off += take, amt -= take;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
  }

  static int MainWrite(State* s, const uint8_t* buf, int amt, int64_t off) {
    const int page = s->page;
    const size_t body = static_cast<size_t>(page - kCryptReserveBytes);
    if (off % page != 0 || amt % page != 0) {
      // SQLite writes database pages whole; anything else means another page size.
      return Fail(s, SQLITE_IOERR_WRITE,
                  "unexpected write of " + std::to_string(amt) + " bytes at offset " +
                      std::to_string(off) + " (the encrypted file's page size is " +
                      std::to_string(page) + ")");
    }
    for (; amt > 0; buf += page, off += page, amt -= page) {
      const int64_t index = off / page;
      if (index == 0 && !CheckPageOne(s, buf)) return SQLITE_IOERR_WRITE;
      Seal(s, buf, body, s->scratch.data(), Ad('D', static_cast<uint64_t>(index + 1)));
      int rc = s->real->pMethods->xWrite(s->real, s->scratch.data(), page, kHeaderSize + off);
      if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
  }

  // --- WAL: a plain 32-byte header, then frames of 24 + page bytes sealed whole ---------------

  static int WalRead(State* s, uint8_t* buf, int amt, int64_t off) {
    const int frame = kWalFrameHeaderSize + s->page;
    const size_t body = static_cast<size_t>(frame - kCryptReserveBytes);
    bool short_read = false;
    int flushed = FlushPending(s);
    if (flushed != SQLITE_OK) return flushed;
    while (amt > 0) {
      if (off < kWalHeaderSize) {
        int take = std::min<int>(amt, static_cast<int>(kWalHeaderSize - off));
        int rc = s->real->pMethods->xRead(s->real, buf, take, off);
        if (rc == SQLITE_IOERR_SHORT_READ)
          short_read = true;
        else if (rc != SQLITE_OK)
          return rc;
        buf += take, off += take, amt -= take;
        continue;
      }
      const int64_t index = (off - kWalHeaderSize) / frame;
      const int64_t start = kWalHeaderSize + index * frame;
      const int within = static_cast<int>(off - start);
      const int take = std::min(amt, frame - within);
      uint8_t* unit = s->scratch.data();
      bool absent = false;
      int rc = ReadUnit(s, unit, frame, start, &absent);
      bool ok = false;
      if (rc == SQLITE_OK) {
        ok = Unseal(s, unit, body, Ad('W', static_cast<uint64_t>(index)));
      } else if (rc == SQLITE_IOERR_SHORT_READ && absent) {
        std::memset(buf, 0, static_cast<size_t>(take));
        short_read = true;
        buf += take, off += take, amt -= take;
        continue;
      } else if (rc != SQLITE_IOERR_SHORT_READ) {
        return rc;
      }
      if (!ok) {
        // A read that includes the frame header is SQLite scanning the log (recovery after a
        // crash, or rewriting checksums of its own frames): zeros fail its salt check, so the log
        // ends before this frame, as it does for a torn write. A read of the page alone is of a
        // frame the scan accepted: it changed since, which is corruption.
        if (within >= kWalFrameHeaderSize) {
          return Fail(s, SQLITE_IOERR_DATA,
                      "WAL frame " + std::to_string(index) + " of " + s->owner->path_ +
                          " failed authentication (modified or damaged)");
        }
        std::memset(buf, 0, static_cast<size_t>(take));
      } else {
        std::memset(unit + body, 0, kCryptReserveBytes);
        std::memcpy(buf, unit + within, static_cast<size_t>(take));
      }
      buf += take, off += take, amt -= take;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
  }

  static int SealFrame(State* s, int64_t index, const uint8_t* plain_frame) {
    const int frame = kWalFrameHeaderSize + s->page;
    const size_t body = static_cast<size_t>(frame - kCryptReserveBytes);
    const uint32_t pgno = (uint32_t{plain_frame[0]} << 24) | (uint32_t{plain_frame[1]} << 16) |
                          (uint32_t{plain_frame[2]} << 8) | plain_frame[3];
    if (pgno == 1 && !CheckPageOne(s, plain_frame + kWalFrameHeaderSize)) {
      return SQLITE_IOERR_WRITE;
    }
    // `plain_frame` may be the scratch buffer itself: libsodium seals in place.
    uint8_t* out = s->scratch.data();
    Seal(s, plain_frame, body, out, Ad('W', static_cast<uint64_t>(index)));
    return s->real->pMethods->xWrite(s->real, out, frame, kWalHeaderSize + index * frame);
  }

  // Rewrites part of a frame already in the file: opens it, changes the part, seals it again
  // under a new nonce. For SQLite rewriting, within a transaction, a page it wrote before or the
  // checksums of its frames; the frame must authenticate.
  static int RewriteFrame(State* s, int64_t index, int within, const uint8_t* part, int n) {
    const int frame = kWalFrameHeaderSize + s->page;
    const size_t body = static_cast<size_t>(frame - kCryptReserveBytes);
    uint8_t* unit = s->scratch.data();
    bool absent = false;
    int rc = ReadUnit(s, unit, frame, kWalHeaderSize + index * frame, &absent);
    if (rc != SQLITE_OK) return rc == SQLITE_IOERR_SHORT_READ ? SQLITE_IOERR_WRITE : rc;
    if (!Unseal(s, unit, body, Ad('W', static_cast<uint64_t>(index)))) {
      return Fail(s, SQLITE_IOERR_DATA,
                  "WAL frame " + std::to_string(index) + " of " + s->owner->path_ +
                      " failed authentication (modified or damaged)");
    }
    std::vector<uint8_t> whole(unit, unit + frame);
    std::memcpy(whole.data() + within, part, static_cast<size_t>(n));
    return SealFrame(s, index, whole.data());
  }

  // A frame header written alone waits for its page (see WalWrite); anything else that happens
  // to the file first applies it to the frame in the file.
  static int FlushPending(State* s) {
    if (s->pending_frame < 0) return SQLITE_OK;
    const int64_t index = s->pending_frame;
    s->pending_frame = -1;
    return RewriteFrame(s, index, 0, s->pending, kWalFrameHeaderSize);
  }

  static int WalWrite(State* s, const uint8_t* buf, int amt, int64_t off) {
    const int frame = kWalFrameHeaderSize + s->page;
    while (amt > 0) {
      int rc = SQLITE_OK;
      if (off < kWalHeaderSize) {
        int take = std::min<int>(amt, static_cast<int>(kWalHeaderSize - off));
        rc = FlushPending(s);
        if (rc == SQLITE_OK) rc = s->real->pMethods->xWrite(s->real, buf, take, off);
        if (rc != SQLITE_OK) return rc;
        buf += take, off += take, amt -= take;
        continue;
      }
      const int64_t index = (off - kWalHeaderSize) / frame;
      const int within = static_cast<int>(off - kWalHeaderSize - index * frame);
      const int take = std::min(amt, frame - within);
      if (s->pending_frame == index && within == kWalFrameHeaderSize &&
          take == frame - kWalFrameHeaderSize) {
        // The page of a frame whose header came just before: how SQLite appends a frame (two
        // writes), also over the frames of an earlier log generation.
        std::vector<uint8_t>& whole = s->scratch;
        std::memcpy(whole.data(), s->pending, kWalFrameHeaderSize);
        std::memcpy(whole.data() + kWalFrameHeaderSize, buf, static_cast<size_t>(take));
        s->pending_frame = -1;
        rc = SealFrame(s, index, whole.data());
      } else {
        rc = FlushPending(s);
        if (rc != SQLITE_OK) return rc;
        if (within == 0 && take == frame) {
          rc = SealFrame(s, index, buf);
        } else if (within == 0 && take == kWalFrameHeaderSize) {
          std::memcpy(s->pending, buf, kWalFrameHeaderSize);
          s->pending_frame = index;
        } else {
          rc = RewriteFrame(s, index, within, buf, take);
        }
      }
      if (rc != SQLITE_OK) return rc;
      buf += take, off += take, amt -= take;
    }
    return SQLITE_OK;
  }

  // --- Rollback journal: page images (writes and reads of exactly one page) are sealed --------

  static Ad JournalAd(State* s, int64_t off) {
    Ad ad('J', static_cast<uint64_t>(off));
    ad.size = 20;
    if (s->last4_offset == off - 4) {
      std::memcpy(ad.bytes + 16, s->last4, 4);
    } else if (off >= 4) {
      s->real->pMethods->xRead(s->real, ad.bytes + 16, 4, off - 4);
    }
    return ad;
  }

  static int JournalRead(State* s, uint8_t* buf, int amt, int64_t off) {
    int rc = s->real->pMethods->xRead(s->real, buf, amt, off);
    if (amt == 4 && rc == SQLITE_OK) {
      s->last4_offset = off;
      std::memcpy(s->last4, buf, 4);
    }
    if (amt != s->page || rc != SQLITE_OK) return rc;
    const size_t body = static_cast<size_t>(amt - kCryptReserveBytes);
    if (!Unseal(s, buf, body, JournalAd(s, off))) {
      // SQLite stops a rollback at a short read as at a journal cut short by a crash, having
      // written nothing of this record: the image is never used.
      std::memset(buf, 0, static_cast<size_t>(amt));
      s->owner->last_error_ = "a journal page image of " + s->owner->path_ +
                              " failed authentication; the rollback stopped there";
      return SQLITE_IOERR_SHORT_READ;
    }
    std::memset(buf + body, 0, kCryptReserveBytes);
    return SQLITE_OK;
  }

  static int JournalWrite(State* s, const uint8_t* buf, int amt, int64_t off) {
    if (amt == 4) {
      s->last4_offset = off;
      std::memcpy(s->last4, buf, 4);
    }
    if (amt != s->page) return s->real->pMethods->xWrite(s->real, buf, amt, off);
    if (s->scratch.size() < static_cast<size_t>(amt)) s->scratch.resize(static_cast<size_t>(amt));
    Seal(s, buf, static_cast<size_t>(amt - kCryptReserveBytes), s->scratch.data(),
         JournalAd(s, off));
    return s->real->pMethods->xWrite(s->real, s->scratch.data(), amt, off);
  }

  // --- Temporary files: a stream cipher at the file offset -----------------------------------

  static void TempXor(State* s, uint8_t* data, int amt, int64_t off) {
    static const uint8_t kZeroNonce[crypto_stream_xchacha20_NONCEBYTES] = {};
    while (amt > 0) {
      const uint64_t block = static_cast<uint64_t>(off) / 64;
      const int within = static_cast<int>(off % 64);
      if (within != 0 || amt < 64) {
        uint8_t ks[64] = {};
        crypto_stream_xchacha20_xor_ic(ks, ks, 64, kZeroNonce, block, s->temp_key);
        const int take = std::min(amt, 64 - within);
        for (int i = 0; i < take; ++i) data[i] ^= ks[within + i];
        data += take, off += take, amt -= take;
        continue;
      }
      const int take = amt / 64 * 64;
      crypto_stream_xchacha20_xor_ic(data, data, static_cast<unsigned long long>(take), kZeroNonce,
                                     block, s->temp_key);
      data += take, off += take, amt -= take;
    }
  }

  // --- io methods ---------------------------------------------------------------------------

  static int Close(sqlite3_file* f) {
    State* s = S(f);
    int flushed = s->kind == Kind::kWal ? FlushPending(s) : SQLITE_OK;
    int rc = s->real->pMethods ? s->real->pMethods->xClose(s->real) : SQLITE_OK;
    if (rc == SQLITE_OK) rc = flushed;
    delete s;
    reinterpret_cast<File*>(f)->state = nullptr;
    return rc;
  }

  static int Read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
    State* s = S(f);
    auto* b = static_cast<uint8_t*>(buf);
    switch (s->kind) {
      case Kind::kMain: return MainRead(s, b, amt, off);
      case Kind::kWal: return WalRead(s, b, amt, off);
      case Kind::kJournal: return JournalRead(s, b, amt, off);
      case Kind::kTemp: {
        int rc = s->real->pMethods->xRead(s->real, b, amt, off);
        if (rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ) TempXor(s, b, amt, off);
        if (rc == SQLITE_IOERR_SHORT_READ) {
          // What lies past the end must read as zeros, not as key stream.
          sqlite3_int64 size = 0;
          s->real->pMethods->xFileSize(s->real, &size);
          int64_t keep = std::max<int64_t>(0, size - off);
          if (keep < amt) std::memset(b + keep, 0, static_cast<size_t>(amt - keep));
        }
        return rc;
      }
      case Kind::kPlain: return s->real->pMethods->xRead(s->real, buf, amt, off);
    }
    return SQLITE_INTERNAL;
  }

  static int Write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
    State* s = S(f);
    auto* b = static_cast<const uint8_t*>(buf);
    switch (s->kind) {
      case Kind::kMain: return MainWrite(s, b, amt, off);
      case Kind::kWal: return WalWrite(s, b, amt, off);
      case Kind::kJournal: return JournalWrite(s, b, amt, off);
      case Kind::kTemp: {
        std::vector<uint8_t> copy(b, b + amt);
        TempXor(s, copy.data(), amt, off);
        return s->real->pMethods->xWrite(s->real, copy.data(), amt, off);
      }
      case Kind::kPlain: return s->real->pMethods->xWrite(s->real, buf, amt, off);
    }
    return SQLITE_INTERNAL;
  }

  static int Truncate(sqlite3_file* f, sqlite3_int64 size) {
    State* s = S(f);
    if (s->kind == Kind::kMain) size += kHeaderSize;
    if (s->kind == Kind::kWal) s->pending_frame = -1;
    return s->real->pMethods->xTruncate(s->real, size);
  }
  static int Sync(sqlite3_file* f, int flags) {
    State* s = S(f);
    if (s->kind == Kind::kWal) {
      int rc = FlushPending(s);
      if (rc != SQLITE_OK) return rc;
    }
    return s->real->pMethods->xSync(s->real, flags);
  }
  static int FileSize(sqlite3_file* f, sqlite3_int64* size) {
    State* s = S(f);
    int rc = s->real->pMethods->xFileSize(s->real, size);
    if (rc == SQLITE_OK && s->kind == Kind::kMain)
      *size = std::max<sqlite3_int64>(0, *size - kHeaderSize);
    return rc;
  }
  static int Lock(sqlite3_file* f, int level) {
    State* s = S(f);
    return s->real->pMethods->xLock(s->real, level);
  }
  static int Unlock(sqlite3_file* f, int level) {
    State* s = S(f);
    return s->real->pMethods->xUnlock(s->real, level);
  }
  static int CheckReservedLock(sqlite3_file* f, int* out) {
    State* s = S(f);
    return s->real->pMethods->xCheckReservedLock(s->real, out);
  }
  static int FileControl(sqlite3_file* f, int op, void* arg) {
    State* s = S(f);
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
      // Memory-mapped reads would bypass decryption.
      *static_cast<sqlite3_int64*>(arg) = 0;
      return SQLITE_OK;
    }
    if (op == SQLITE_FCNTL_SIZE_HINT && s->kind == Kind::kMain) {
      sqlite3_int64 hint = *static_cast<sqlite3_int64*>(arg) + kHeaderSize;
      return s->real->pMethods->xFileControl(s->real, op, &hint);
    }
    return s->real->pMethods->xFileControl(s->real, op, arg);
  }
  static int SectorSize(sqlite3_file* f) {
    State* s = S(f);
    // The journal header is one sector of the database file: 512 bytes keeps it from ever being
    // the size of a page, which is how page images are recognised in a journal.
    if (s->kind == Kind::kMain || s->kind == Kind::kJournal) return 512;
    return s->real->pMethods->xSectorSize(s->real);
  }
  static int DeviceCharacteristics(sqlite3_file* f) {
    State* s = S(f);
    // Atomic-write and safe-append promises of the base file do not hold for the sealed units
    // written on top of it.
    return s->real->pMethods->xDeviceCharacteristics(s->real) &
           (SQLITE_IOCAP_POWERSAFE_OVERWRITE | SQLITE_IOCAP_UNDELETABLE_WHEN_OPEN |
            SQLITE_IOCAP_SEQUENTIAL);
  }
  static int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    State* s = S(f);
    return s->real->pMethods->xShmMap(s->real, page, size, extend, out);
  }
  static int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
    State* s = S(f);
    return s->real->pMethods->xShmLock(s->real, offset, n, flags);
  }
  static void ShmBarrier(sqlite3_file* f) {
    State* s = S(f);
    s->real->pMethods->xShmBarrier(s->real);
  }
  static int ShmUnmap(sqlite3_file* f, int remove) {
    State* s = S(f);
    return s->real->pMethods->xShmUnmap(s->real, remove);
  }

  static sqlite3_io_methods Methods(int version) {
    sqlite3_io_methods m{};
    m.iVersion = version;  // 1, or 2 with shared memory (WAL); never 3: no memory mapping
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
    if (version >= 2) {
      m.xShmMap = ShmMap;
      m.xShmLock = ShmLock;
      m.xShmBarrier = ShmBarrier;
      m.xShmUnmap = ShmUnmap;
    }
    return m;
  }
  static const sqlite3_io_methods kMethods1;
  static const sqlite3_io_methods kMethods2;

  // Writes our header to a new database file, or checks that an existing one is the file whose
  // header Create read (another process may have created it in between).
  static int PrepareMain(State* s) {
    CryptVfs* v = s->owner;
    sqlite3_int64 size = 0;
    int rc = s->real->pMethods->xFileSize(s->real, &size);
    if (rc != SQLITE_OK) return rc;
    if (size == 0) {
      std::vector<uint8_t> header(static_cast<size_t>(kHeaderSize), 0);
      std::memcpy(header.data(), v->header_, kHeaderUsed);
      rc = s->real->pMethods->xWrite(s->real, header.data(), static_cast<int>(kHeaderSize), 0);
      // Durable before anything sealed with the salt's key can be (a WAL commit syncs only the
      // WAL).
      if (rc == SQLITE_OK) rc = s->real->pMethods->xSync(s->real, SQLITE_SYNC_FULL);
      return rc;
    }
    uint8_t got[kHeaderUsed] = {};
    rc = s->real->pMethods->xRead(s->real, got, kHeaderUsed, 0);
    if (rc != SQLITE_OK || std::memcmp(got, v->header_, kHeaderUsed) != 0) {
      return Fail(s, SQLITE_CANTOPEN, v->path_ + " changed while it was being opened");
    }
    return SQLITE_OK;
  }

  // --- VFS methods --------------------------------------------------------------------------

  static CryptVfs* Owner(sqlite3_vfs* vfs) { return static_cast<CryptVfs*>(vfs->pAppData); }

  static int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
    CryptVfs* v = Owner(vfs);
    auto* file = reinterpret_cast<File*>(f);
    file->base.pMethods = nullptr;
    auto* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + RealOffset());
    std::memset(real, 0, static_cast<size_t>(v->base_->szOsFile));
    int rc = v->base_->xOpen(v->base_, name, real, flags, out_flags);
    if (rc != SQLITE_OK) {
      if (real->pMethods) real->pMethods->xClose(real);
      return rc;
    }
    auto* s = new State();
    s->owner = v;
    s->real = real;
    s->page = v->page_size_;
    randombytes_buf(s->nonce, sizeof(s->nonce));
    constexpr int kTemporary = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL |
                               SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TRANSIENT_DB;
    if (!name || (flags & kTemporary)) {
      s->kind = Kind::kTemp;
      randombytes_buf(s->temp_key, sizeof(s->temp_key));
    } else if (flags & SQLITE_OPEN_MAIN_DB) {
      s->kind = Kind::kMain;
    } else if (flags & SQLITE_OPEN_WAL) {
      s->kind = Kind::kWal;
    } else if (flags & SQLITE_OPEN_MAIN_JOURNAL) {
      s->kind = Kind::kJournal;
    } else {
      s->kind = Kind::kPlain;  // a super-journal: file names only
    }
    s->scratch.resize(static_cast<size_t>(kWalFrameHeaderSize + s->page));
    file->state = s;
    if (s->kind == Kind::kMain) rc = PrepareMain(s);
    if (rc != SQLITE_OK) {
      real->pMethods->xClose(real);
      delete s;
      file->state = nullptr;
      return rc;
    }
    file->base.pMethods = real->pMethods->iVersion >= 2 ? &kMethods2 : &kMethods1;
    return SQLITE_OK;
  }

  static int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xDelete(v->base_, name, sync_dir);
  }
  static int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xAccess(v->base_, name, flags, out);
  }
  static int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xFullPathname(v->base_, name, n, out);
  }
  static int Randomness(sqlite3_vfs* vfs, int n, char* out) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xRandomness(v->base_, n, out);
  }
  static int Sleep(sqlite3_vfs* vfs, int micros) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xSleep(v->base_, micros);
  }
  static int CurrentTime(sqlite3_vfs* vfs, double* out) {
    sqlite3_int64 ms = 0;
    int rc = CurrentTimeInt64(vfs, &ms);
    *out = static_cast<double>(ms) / 86400000.0;
    return rc;
  }
  static int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xCurrentTimeInt64(v->base_, out);
  }
  static int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
    CryptVfs* v = Owner(vfs);
    return v->base_->xGetLastError ? v->base_->xGetLastError(v->base_, n, out) : 0;
  }
};

const sqlite3_io_methods CryptVfs::Impl::kMethods1 = CryptVfs::Impl::Methods(1);
const sqlite3_io_methods CryptVfs::Impl::kMethods2 = CryptVfs::Impl::Methods(2);

// --- CryptVfs -------------------------------------------------------------------------------

StoreFileKind ProbeStoreFile(sqlite3_vfs* base, const std::string& path) {
  uint8_t head[16] = {};
  size_t got = ReadPrefix(base, path, head, sizeof(head));
  if (got == 0) return StoreFileKind::kNew;
  if (got == sizeof(head) && std::memcmp(head, kMagic, sizeof(kMagic)) == 0) {
    return StoreFileKind::kEncrypted;
  }
  if (got == sizeof(head) && std::memcmp(head, kSqliteMagic, sizeof(kSqliteMagic)) == 0) {
    return StoreFileKind::kPlain;
  }
  return StoreFileKind::kOther;
}

Result<std::unique_ptr<CryptVfs>> CryptVfs::Create(sqlite3_vfs* base, const std::string& path,
                                                   const EncryptionKey& key, int page_size) {
  if (sodium_init() < 0) return Status(Code::kInternal, "libsodium failed to initialise");
  if (!base || base->iVersion < 2 || !base->xCurrentTimeInt64) {
    return Status(Code::kInternal, "the default SQLite VFS cannot be wrapped for encryption");
  }
  if (key.secret().empty()) {
    return Status(Code::kInvalidArgument, "the encryption passphrase is empty");
  }
  std::unique_ptr<CryptVfs> v(new CryptVfs());
  v->base_ = base;
  v->path_ = path;
  uint8_t* h = v->header_;
  uint8_t master[32] = {};
  uint8_t existing[kHeaderUsed] = {};
  const bool exists = ReadPrefix(base, path, existing, kHeaderUsed) == kHeaderUsed &&
                      std::memcmp(existing, kMagic, sizeof(kMagic)) == 0;
  if (exists) {
    std::memcpy(h, existing, kHeaderUsed);
    const uint32_t page = Get32(h + kOffPageSize);
    const uint64_t ops = Get64(h + kOffOps), mem = Get64(h + kOffMem);
    if (page < 1024 || page > 65536 || (page & (page - 1)) != 0 ||
        (h[kOffKdf] != kKdfRaw && h[kOffKdf] != kKdfArgon2id)) {
      return Status(Code::kCorruption, "the encryption header of " + path + " is damaged");
    }
    if (h[kOffKdf] == kKdfArgon2id && !key.is_passphrase()) {
      return Status(Code::kUnauthorized,
                    path + " is encrypted with a passphrase, and a raw key was given");
    }
    if (h[kOffKdf] == kKdfRaw && key.is_passphrase()) {
      return Status(Code::kUnauthorized,
                    path + " is encrypted with a raw key, and a passphrase was given");
    }
    if (h[kOffKdf] == kKdfArgon2id && (ops < crypto_pwhash_OPSLIMIT_MIN || ops > kMaxOps ||
                                       mem < crypto_pwhash_MEMLIMIT_MIN || mem > kMaxMem)) {
      return Status(Code::kCorruption,
                    "the key derivation parameters of " + path + " are out of bounds");
    }
    v->page_size_ = static_cast<int>(page);
  } else {
    v->page_size_ = page_size;
    std::memcpy(h, kMagic, sizeof(kMagic));
    Put32(h + kOffPageSize, static_cast<uint32_t>(page_size));
    h[kOffKdf] = key.is_passphrase() ? kKdfArgon2id : kKdfRaw;
    uint64_t ops = 0, mem = 0;
    if (key.is_passphrase()) {
      ops = key.cost().ops_limit;
      mem = key.cost().mem_limit;
      if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > kMaxOps || mem < crypto_pwhash_MEMLIMIT_MIN ||
          mem > kMaxMem) {
        return Status(Code::kInvalidArgument,
                      "Argon2id cost out of bounds (1-64 passes, 8 KiB-1 GiB of memory)");
      }
    }
    Put64(h + kOffOps, ops);
    Put64(h + kOffMem, mem);
    randombytes_buf(h + kOffSalt, 16);
  }
  if (key.is_passphrase()) {
    std::string_view secret = key.secret();
    if (crypto_pwhash(master, sizeof(master), secret.data(), secret.size(), h + kOffSalt,
                      Get64(h + kOffOps), static_cast<size_t>(Get64(h + kOffMem)),
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return Status(Code::kInternal, "key derivation ran out of memory");
    }
  } else {
    if (key.secret().size() != sizeof(master)) {
      return Status(Code::kInvalidArgument, "a raw encryption key has 32 bytes");
    }
    std::memcpy(master, key.secret().data(), sizeof(master));
  }
  DerivePageKey(master, h + kOffSalt, v->data_key_);
  sodium_memzero(master, sizeof(master));
  if (exists) {
    uint8_t none[1] = {};  // the key check seals an empty message
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            none, nullptr, none, 0, h + kOffCheckTag, h, kOffCheckNonce, h + kOffCheckNonce,
            v->data_key_) != 0) {
      return Status(Code::kUnauthorized, "wrong encryption key for " + path);
    }
  } else {
    randombytes_buf(h + kOffCheckNonce, kNonceBytes);
    uint8_t none[1] = {};
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(none, h + kOffCheckTag, nullptr, none, 0, h,
                                                        kOffCheckNonce, nullptr, h + kOffCheckNonce,
                                                        v->data_key_);
  }

  v->name_ = "outpost-crypt-" + std::to_string(g_next_vfs_id.fetch_add(1));
  sqlite3_vfs& vfs = v->vfs_;
  vfs.iVersion = 2;
  vfs.szOsFile = Impl::RealOffset() + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = v->name_.c_str();
  vfs.pAppData = v.get();
  vfs.xOpen = Impl::Open;
  vfs.xDelete = Impl::Delete;
  vfs.xAccess = Impl::Access;
  vfs.xFullPathname = Impl::FullPathname;
  vfs.xRandomness = Impl::Randomness;
  vfs.xSleep = Impl::Sleep;
  vfs.xCurrentTime = Impl::CurrentTime;
  vfs.xGetLastError = Impl::GetLastError;
  vfs.xCurrentTimeInt64 = Impl::CurrentTimeInt64;
  int rc = sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  if (rc != SQLITE_OK) return Status(Code::kInternal, "cannot register the encryption VFS");
  return v;
}

CryptVfs::~CryptVfs() {
  if (vfs_.zName) sqlite3_vfs_unregister(&vfs_);
  sodium_memzero(data_key_, sizeof(data_key_));
  sodium_memzero(header_, sizeof(header_));
}

}  // namespace outpost
