// Internal state of a Store, shared by core's source files. Not a public header.
//
// Files: store.cc (open, SQL, engine transactions, bulk load, metadata), statement.cc, migration.cc
// (ApplySchema), capture.cc (capture triggers and their SQL functions), outbox.cc (outbox and
// rejections), parking.cc (rows waiting for a parent), and the MirrorWriter's files
// (mirror_writer_impl.h).
#pragma once

#include <sqlite3.h>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crypt_vfs.h"
#include "outpost/ids.h"
#include "outpost/mirror_writer.h"
#include "outpost/store.h"
#include "sqlite_util.h"

namespace outpost {

class Store::Impl {
 public:
  // The encryption VFS of an encrypted store (nullptr otherwise). First member, so destroyed
  // last: the connection must be closed, even when statements delay closing it, before the VFS
  // it uses goes away.
  std::unique_ptr<CryptVfs> crypt;
  sqlite3* db = nullptr;
  Env* env = nullptr;
  StoreOptions options;
  std::optional<Schema> schema;
  UuidV7Generator uuid{nullptr};
  HybridLogicalClock clock{nullptr};
  std::unique_ptr<MirrorWriter> mirror_writer;  // created with the store

  // Change capture state. Invariant: current_tx != 0 exactly while a write transaction that has
  // captured at least one change is open on this connection (reset by the commit/rollback hooks).
  bool capturing = true;
  bool in_engine = false;     // inside RunAsEngine's function
  bool bulk_loading = false;  // journal_mode = TRUNCATE between BeginBulkLoad and EndBulkLoad
  bool wal = false;           // opened in journal_mode = WAL
  Store* owner = nullptr;     // the Store this implements (set by Store's constructor)
  int64_t current_tx = 0;
  int64_t next_temp_key = -1;  // next temporary key for server-assigned integer keys (< 0)
  // The role the app's writes are checked against (Store::SetRole; "" when unknown), read by
  // the column permission triggers through outpost_role(). Loaded from _outpost_meta at open.
  std::string role;

  // Change notification (changes.cc). Invariants: `changing` holds the mirrored tables the open
  // transaction changed (cleared by commit and rollback); `committed` those of transactions
  // committed since the last notification.
  std::vector<std::string> changing;
  std::vector<std::string> committed;
  std::function<void(const std::vector<std::string>&)> change_listener;
  struct Watch {
    std::string sql;
    nlohmann::json params;
    std::vector<std::string> tables;  // sorted
    std::function<void(const Result<QueryResult>&)> callback;
  };
  std::map<int64_t, Watch> watches;
  int64_t next_watch_id = 1;
  bool notifying = false;  // inside NotifyChanges: a nested call only accumulates

  // Per captured table, indexed by the id baked into its triggers: JSON keys ("\"col\":") in
  // column order.
  struct CapturedTable {
    std::string name;
    std::vector<std::string> json_keys;
  };
  std::vector<CapturedTable> captured;

  // Execute's prepared single statements, most recently used first, at most
  // options.statement_cache. Invariant: every one is reset and without bindings (a statement in
  // use is taken out, so that a nested Execute of the same SQL prepares its own). Finalized by
  // ClearStatementCache, which ~Impl and schema changes call.
  struct CachedStatement {
    std::string sql;
    sqlite3_stmt* stmt;
  };
  std::list<CachedStatement> statement_cache;
  // The cached statement of `sql`, taken out of the cache (nullptr when there is none).
  sqlite3_stmt* TakeCachedStatement(std::string_view sql);
  // Resets `stmt`, clears its bindings and caches it under `sql` (finalizing the least recently
  // used one beyond the capacity).
  void CacheStatement(std::string sql, sqlite3_stmt* stmt);
  void ClearStatementCache();

  ~Impl();

  const Schema* schema_or_null() const { return schema ? &*schema : nullptr; }

  // Allocates the tx id of the current transaction on its first captured change. Reads the
  // high-water marks from the database (under the write lock), so ids stay unique even when
  // several connections write to the same file.
  Result<int64_t> CurrentTxId();
  Status Exec(std::string_view sql);
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);
  Status LoadCaptureState();

  // Runs `fn` inside the current engine transaction, or in a new one when none is open; refuses
  // to join an application transaction.
  Status InEngine(const std::function<Status()>& fn);

  // changes.cc
  // Installs the update, commit and rollback hooks on `db`.
  void InstallHooks();
  // When no transaction is open and committed transactions changed mirrored tables: tells the
  // change listener and re-runs the watched queries that read any of them. Every public entry
  // point that can end a transaction calls it last.
  void NotifyChanges();
  // outbox.cc
  // Raises _outpost_meta's last_tx_id / last_hlc to the newest outbox entry's. Called before any
  // outbox removal so ids and clocks are never reused.
  Status RecordHighWaterMarks();
  // Every outbox entry (confirmed or not) of one row, in seq order: the mutations to re-apply on
  // top of a server row (rebase). `pk_json` is the key's outbox form (PkJson).
  Result<std::vector<Mutation>> RowMutations(std::string_view table, std::string_view pk_json);
  // The tables that have outbox entries.
  Result<std::vector<std::string>> OutboxTables();
  // Replaces the pk, new and old values of the entry `mutation.seq` (key remapping).
  Status RewriteMutation(const Mutation& mutation);

  // parking.cc
  // Inside a transaction: moves every row that violates a foreign key to _outpost_parked;
  // returns how many.
  Result<int64_t> ParkFkViolations();
  // Inside a transaction: puts parked rows back into their tables (stale ones, whose key is
  // taken, are dropped) and empties _outpost_parked.
  Status RetryParked();
  // Inside a transaction: forgets a parked row (the server sent it again, or deleted it).
  Status DropParked(std::string_view table, std::string_view pk_json);
  // Inside a transaction: forgets the parked rows of `table`, or every parked row when it is
  // empty (bootstrap reset).
  Status ClearParked(std::string_view table = {});
};

// parking.cc: the statements that park the rows an ON DELETE action would change if the rows of
// `t` matching `where` were deleted (a condition on `t`'s columns whose `?` parameters the caller
// binds, the same for every statement): for each table reached (recursively, a few levels), one
// statement copying those rows into _outpost_parked, and for SET NULL / SET DEFAULT children one
// more that removes them (then nothing rewrites their reference). Run in order before deleting
// rows that leave the mirror only for now (parked for a missing parent; a server deletion: deleted
// or out of the client's scope), so that SQLite's ON DELETE actions do not change rows that are
// still the server's.
void CascadeParkingSql(const Schema& schema, const Table& t, const std::string& where,
                       std::vector<std::string>* out);

// rekey.cc
// The encryption VFS for opening `path` with `options.encryption`, or nullptr for a plain store.
// Errors: kUnauthorized (wrong key; an encrypted file and no key), kInvalidArgument (a key for a
// plain file, an in-memory store), kCorruption (a file that is neither).
Result<std::unique_ptr<CryptVfs>> PrepareStoreEncryption(const std::string& path,
                                                         const StoreOptions& options);

// capture.cc
Status RegisterSqlFunctions(sqlite3* db, Store::Impl* impl);
// The functions translated PostgreSQL rules call (pg_functions.cc); RegisterSqlFunctions
// registers them too.
Status RegisterPgFunctions(sqlite3* db);
// The triggers that capture app writes to `table` (id = its index in Impl::captured).
std::vector<std::string> CaptureTriggerSql(const Table& table, int table_id);

}  // namespace outpost
