// The inside of the C API (outpost.h), shared by its source files. Private to capi.
//
// Files: outpost_c.cc (codes, opening and closing, errors, schema, SQL, transactions, sync
// state), statement.cc (prepared statements), watch.cc (watched queries), round.cc (the
// step-driven sync round), http_sync.cc (outpost_sync over the native HTTP transport).
//
// Lifetime. An outpost_db owns its Store and SyncSession. Statements and rounds are shells that
// point at their db and hold the C++ object (Statement, SyncRound) that uses the store.
// outpost_close marks the db closed and removes its watches; the store is released ("torn down")
// once no entry point of the handle is running (depth == 0): every shell's C++ object is
// destroyed first, then the session and the store. The outpost_db struct itself lives on until
// the last shell is released, so that a shell never points at freed memory. Likewise a shell
// released while one of its own calls is running (from a watch callback) is freed when that call
// returns (busy > 0 defers it).
//
// Threading: everything here belongs to the handle's one thread at a time (outpost.h), except
// outpost_db::cancel_sync, which outpost_sync_cancel sets from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "outpost.h"
#include "outpost/store.h"
#include "outpost/sync.h"
#include "outpost/sync_round.h"

struct outpost_db {
  std::unique_ptr<outpost::Store> store;
  std::unique_ptr<outpost::SyncSession> session;
  outpost::Status last;                  // the last call's outcome ("ok" after a success)
  std::vector<std::string> changes;      // tables changed since outpost_take_changes, sorted
  bool round_open = false;               // a round (outpost_round_begin or outpost_sync) is running
  std::vector<int64_t> watches;          // the ids of this handle's watches (removed at close)
  std::atomic<bool> cancel_sync{false};  // outpost_sync_cancel: stop the running outpost_sync

  // Lifetime (see the file comment).
  int depth = 0;        // entry points of this handle running now (nested through callbacks)
  bool closed = false;  // outpost_close was called: the app no longer uses the handle
  std::set<outpost_stmt*> statements;  // statements not yet finalized
  outpost_round* round = nullptr;      // the round not yet freed, if any
};

struct outpost_stmt {
  outpost_db* db = nullptr;
  std::unique_ptr<outpost::Statement> statement;  // null once the db is torn down
  int busy = 0;                                   // calls of this statement running now
  bool finalized = false;  // outpost_finalize was called while busy: free when idle
  bool stepped = false;    // stepped since prepared or reset (binding needs a reset first)
  bool has_row = false;    // the last step returned a row
  // Strings handed out by outpost_column_name and outpost_column_json, valid until the next
  // step, reset or finalize (cleared then).
  std::vector<std::string> names;
  std::vector<std::string> json_values;
  std::vector<bool> json_ready;
};

struct outpost_round {
  outpost_db* db = nullptr;
  std::unique_ptr<outpost::SyncRound> round;  // null once the db is torn down
  int busy = 0;
  bool freed = false;  // outpost_round_free was called while busy: free when idle
};

namespace outpost::capi {

// A copy of `s` for a char** out parameter (released with outpost_free); nullptr when memory runs
// out.
char* Export(const std::string& s);
// Compact JSON text; invalid UTF-8 in strings is replaced rather than thrown on.
std::string Dump(const nlohmann::json& j);
// Stores a copy of `j` in *out (when `out` is not null).
Status Out(char** out, const nlohmann::json& j);
// Parses an optional JSON object argument (NULL or "" is an empty object).
Result<nlohmann::json> ObjectArg(const char* text, const char* what);
// The encryption key options of an object ("key", "raw_key", "kdf_cost"; outpost.h).
Status KeyOption(const nlohmann::json& o, std::optional<EncryptionKey>* key);
// Parses optional JSON parameters (NULL or "" is none): an array or an object.
Result<nlohmann::json> ParamsArg(const char* text);
// kInvalidArgument unless the handle has an open store.
Status NeedsSession(outpost_db* db);
// The sync options of outpost_round_begin and outpost_sync ("wait_seconds", "pull_limit",
// "push_batch", "max_attempts", "initial_backoff_ms", "max_backoff_ms").
SyncOptions SyncOptionsFromJson(const nlohmann::json& o);
nlohmann::json SyncReportJson(const SyncReport& r);
// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsUtf8(std::string_view s);

// Releases the store of a closed handle once no call of it is running, and the handle itself
// once no statement or round points at it. May free `db`.
void ReleaseIfClosed(outpost_db* db);

// Records `s` on the handle and returns its code.
inline int Record(outpost_db* db, Status s) {
  const int code = static_cast<int>(s.code());
  if (!s.ok() || !db->last.ok()) db->last = std::move(s);
  return code;
}

// Runs an entry point's `body` (returning Status) with the handle's bookkeeping: no exception
// escapes, the outcome is recorded on the handle, nested calls are counted, and a handle closed
// meanwhile is released when the outermost call returns. A closed handle refuses new calls.
template <typename Body>
int Guard(outpost_db* db, Body&& body) {
  if (!db) return OUTPOST_INVALID_ARGUMENT;
  if (db->closed) {
    return Record(db, Status(Code::kInvalidArgument, "the handle is closed"));
  }
  ++db->depth;
  int code;
  try {
    code = Record(db, body());
  } catch (const std::exception& e) {
    code = Record(db, Status(Code::kInternal, std::string("unexpected exception: ") + e.what()));
  } catch (...) {
    code = Record(db, Status(Code::kInternal, "unexpected exception of an unknown type"));
  }
  --db->depth;
  ReleaseIfClosed(db);
  return code;
}

// Free a released shell (no call of it running): forgets it on its db, deletes it (destroying
// its Statement or SyncRound if the db was not torn down yet), then ReleaseIfClosed(db). Calls
// on a shell go through StmtGuard (statement.cc) and RoundGuard (round.cc), which defer this
// until the shell's running call returns.
void FreeStatement(outpost_stmt* stmt);
void FreeRound(outpost_round* round);

}  // namespace outpost::capi
