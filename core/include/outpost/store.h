// Store: the local SQLite database of one client.
//
// A Store holds the mirrored tables of a Schema, lets the application read and write them with
// plain SQL, and records every local change in the outbox (docs/local-store.md):
//  - Triggers generated from the schema capture each INSERT/UPDATE/DELETE made through SQL into
//    the outbox in the same SQLite transaction: operation, table, primary key, the changed
//    columns' new values and their previous values, the client transaction id and a hybrid
//    logical clock timestamp. A rolled-back transaction leaves nothing; a crash leaves either the
//    whole transaction with its outbox entries or none of it.
//  - One SQLite transaction is one client transaction (one tx id), however many statements it has.
//  - Writes made inside RunAsEngine (the sync engine applying server state) are not captured.
//
// Public headers of core: store.h (this), outbox.h (the outbox's records), mirror_writer.h (how
// the sync engine writes server state), env.h and ids.h. SQLite itself stays private to core.
//
// Threading: a Store is used from one thread at a time. Several Stores (even processes) may open
// one file; SQLite serialises their writes and tx ids stay unique because they are allocated
// under the write lock.
//
// Values cross the API as JSON (docs/types.md): numbers, strings, null; booleans are accepted for
// INTEGER columns and boolean columns read back as true/false; {"$blob": "<base64>"} is a BLOB;
// any other object or array is stored as its JSON text.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/encryption.h"
#include "outpost/env.h"
#include "outpost/ids.h"
#include "outpost/mirror.h"
#include "outpost/outbox.h"
#include "outpost/schema.h"
#include "outpost/status.h"
#include "outpost/value.h"

namespace outpost {

struct StoreOptions {
  Env* env = nullptr;   // nullptr: Env::Default()
  bool durable = true;  // synchronous=FULL (an OS crash loses no committed transaction)
  bool wal = true;      // WAL journal (off for in-memory and browser file systems)
  int cache_mib = 32;   // SQLite page cache; the 2 MiB default thrashes on bulk writes
  // Execute keeps this many prepared single statements, keyed by their SQL text, so that an app
  // running the same SQL again skips SQLite's parser and planner. 0: none.
  int statement_cache = 32;
  // Encryption at rest (encryption.h, docs/local-store.md): a new file is created encrypted with
  // this key, an existing one must have been encrypted with it. Open fails with kUnauthorized,
  // changing nothing, when the key does not open the file or when the file is encrypted and no
  // key is given; with kInvalidArgument when a key is given for a file that is not encrypted
  // (Store::Rekey encrypts it). Open keeps only the derived page key, not this.
  std::optional<EncryptionKey> encryption;
};

struct QueryResult {
  std::vector<std::string> columns;
  nlohmann::json rows = nlohmann::json::array();  // array of arrays, in column order
  int64_t changes = 0;                            // rows changed by the last statement
  int64_t last_insert_rowid = 0;
};

// What ApplySchema did and what it could not mirror.
struct MirrorReport {
  std::string version;
  std::vector<std::string> created;   // tables created
  std::vector<std::string> migrated;  // tables rebuilt for a changed definition
  std::vector<std::string> dropped;   // tables no longer in the schema
  std::vector<NotMirrored> not_mirrored;
};

// How RunAsEngine runs its transaction.
struct EngineOptions {
  // false: PRAGMA foreign_keys = OFF for the transaction (switched before BEGIN and back after,
  // since SQLite cannot change it inside a transaction): no checks and no ON DELETE/UPDATE
  // actions. For wiping and bulk-loading the mirror (bootstrap).
  bool foreign_keys = true;
  // PRAGMA defer_foreign_keys = ON: constraint checks wait for COMMIT, so rows may be written in
  // any order within the transaction. Actions (CASCADE, SET NULL) still run at once.
  bool defer_foreign_keys = false;
  // Before committing, rows that violate a foreign key (server rows whose parent has not arrived
  // yet) are moved to _outpost_parked instead of failing the commit, and rows parked earlier are
  // first put back (those whose key is taken again, or whose parent is still missing, are dropped
  // or parked again). With foreign_keys = false the whole database is checked
  // (PRAGMA foreign_key_check); with foreign_keys = true only when COMMIT reports a violation.
  bool park_fk_violations = false;
  // false: PRAGMA ignore_check_constraints for the transaction. For server rows, which
  // PostgreSQL has already checked exactly; local CHECK translations can be approximate (numeric
  // compares as REAL) and must not block a sync. NOT NULL, UNIQUE and STRICT types still apply.
  bool check_constraints = true;
  // false: the commit is not synced to disk (PRAGMA synchronous = NORMAL for this transaction
  // with WAL; atomicity is unaffected, an OS crash may lose it). For writes that can be fetched
  // again, like bootstrap pages (their cursor is in the same transaction). Ignored without WAL
  // (a rollback journal is only crash-safe synced): such commits stay synced.
  bool durable = true;
};

// A prepared statement over the store's connection. Move-only; must not outlive its Store.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  int parameter_count() const;
  // The 1-based index of the named parameter `name`, prefix included (":id", "@id", "$id"); 0 when
  // the statement has no parameter of that name.
  int parameter_index(std::string_view name) const;
  // Binds 1-based parameter `index` (text and blobs are copied).
  Status Bind(int index, const Value& value);
  Status BindNull(int index);
  Status BindInt(int index, int64_t value);
  Status BindDouble(int index, double value);
  Status BindText(int index, std::string_view value);
  Status BindBlob(int index, std::string_view bytes);  // empty: a zero-length BLOB, not NULL
  // Runs one step: true when a row is available, false when done.
  Result<bool> Step();
  // Runs to completion, discarding rows.
  Status Run();
  Status Reset();  // and clears bindings

  int column_count() const;
  std::string column_name(int column) const;
  Value column_value(int column) const;
  // Column `column` of the current row without a copy; only while the last Step returned a row.
  // Text (NUL-terminated) and blob bytes stay valid until the statement steps again, is reset or
  // destroyed.
  ValueView column_view(int column) const;
  // Whether result column `column` is a mirrored boolean column, whose 0/1 reads back as
  // false/true in the JSON mapping (as in Execute's rows).
  bool column_boolean(int column) const;

 private:
  friend class Store;
  struct Rep;  // the SQLite statement and its connection (statement.cc)
  explicit Statement(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

class MirrorWriter;

class Store {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one).
  // If the database already holds a mirror, its schema is loaded and capture is active at once.
  static Result<std::unique_ptr<Store>> Open(const std::string& path,
                                             const StoreOptions& options = {});
  // Re-encrypts the store file at `path`, which `options.encryption` opens (none: a plain file),
  // with `new_key` (none: decrypts it). Writes a complete copy next to it (`path`.rekey, with
  // VACUUM INTO, synced) and renames it over `path`, so that a crash at any point leaves either
  // the old file with the old key or the new file with the new key. The store must not be open
  // anywhere else (kBusy when SQLite sees another connection). Native builds; the browser's
  // storage cannot rename files (kUnsupported there).
  static Status Rekey(const std::string& path, const StoreOptions& options,
                      const std::optional<EncryptionKey>& new_key);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates the mirror of `schema`, or migrates an existing mirror to it: new tables are created,
  // changed tables rebuilt keeping their rows (columns matched by name), removed tables dropped.
  // Atomic: on any error (e.g. existing rows violate a new constraint) nothing changes. Refuses
  // with kConflict to drop a table that has unsynced outbox entries. A no-op when the version is
  // unchanged.
  Result<MirrorReport> ApplySchema(const Schema& schema);
  // The mirrored schema, or nullptr before the first ApplySchema.
  const Schema* schema() const;

  // Runs one or more SQL statements. `params` (a JSON array for ?, ?NNN, or an object for :name,
  // @name, $name) binds the statement; with several statements only the last may take
  // parameters. The result is that of the last statement.
  Result<QueryResult> Execute(std::string_view sql,
                              const nlohmann::json& params = nlohmann::json::array());
  Result<Statement> Prepare(std::string_view sql);
  // Whether a transaction is open (the app ran BEGIN and has not ended it yet).
  bool in_transaction() const;

  // Runs `fn` in one IMMEDIATE transaction with change capture off: for the sync engine's own
  // writes (applying server rows, key remapping, outbox cleanup). Commits if `fn` returns OK,
  // otherwise rolls back and returns its status. Must not be nested inside an open transaction.
  Status RunAsEngine(const std::function<Status()>& fn);
  Status RunAsEngine(const EngineOptions& options, const std::function<Status()>& fn);

  // Bulk loading (a bootstrap). With WAL every page is written twice: to the WAL, then by the
  // checkpoint to the database file. A rollback journal writes a page appended to the file once,
  // since SQLite journals only pages that existed before the transaction; for a bootstrap that is
  // half the I/O and a quarter of the system calls.
  //
  // BeginBulkLoad switches a WAL database to journal_mode = TRUNCATE and returns true. It changes
  // nothing and returns false when the store does not use WAL (in-memory, browser file systems)
  // or when another connection has the file open (SQLite then refuses to leave WAL, and the load
  // simply goes through the WAL). Must be called outside a transaction. While bulk loading, every
  // commit is synced as StoreOptions::durable says, whatever EngineOptions::durable asks (the
  // relaxed setting is only safe with WAL), and other connections cannot read during a write.
  // EndBulkLoad switches back to WAL; Open does too, should the process stop in between.
  Result<bool> BeginBulkLoad();
  Status EndBulkLoad();
  bool bulk_loading() const;

  // --- Outbox -----------------------------------------------------------------------------------
  // Entries are never renumbered: tx ids and clock values stay unique across removals because
  // every removal first records the high-water marks in _outpost_meta (last_tx_id, last_hlc).
  // The mutating calls below join the current RunAsEngine transaction, or run in one of their
  // own when no transaction is open; inside an application transaction they fail with
  // kInvalidArgument.

  // Unconfirmed local transactions (not yet applied by the server) in commit order, each with its
  // mutations in order. `max_tx` > 0 limits how many transactions are returned.
  Result<std::vector<ClientTransaction>> PendingTransactions(size_t max_tx = 0);
  Result<OutboxCounts> CountOutbox();
  // Records that the server applied transaction `tx_id` with write checkpoint `checkpoint`: its
  // entries leave PendingTransactions and stay in the rebase set. kNotFound if no entry has that
  // tx id.
  Status MarkConfirmed(int64_t tx_id, int64_t checkpoint);
  // Removes confirmed entries whose checkpoint is below `cursor_xid` (the pull cursor has passed
  // them: pulled rows include their effects). Returns how many entries were removed.
  Result<int64_t> DropConfirmedBefore(int64_t cursor_xid);
  // Every outbox entry, confirmed or not, in seq order; only those of `table` unless it is empty.
  Result<std::vector<Mutation>> OutboxMutations(std::string_view table = {});
  // Removes every entry of transaction `tx_id` (the server rejected it).
  Status RemoveTransaction(int64_t tx_id);

  // --- Rejections -------------------------------------------------------------------------------
  // Client transactions the server refused, kept for the app (outbox.h, Rejection). Recording
  // joins the current engine transaction, or runs in one of its own.
  // Records `rejection` (its id is ignored) and returns the id it got.
  Result<int64_t> AddRejection(const Rejection& rejection);
  // Every recorded rejection, oldest first.
  Result<std::vector<Rejection>> Rejections();
  Result<int64_t> RejectionCount();
  // Removes the rejection the app has dealt with; kNotFound if there is none with that id.
  Status DismissRejection(int64_t id);

  // --- Notices ----------------------------------------------------------------------------------
  // What the server did differently from what applied transactions wrote (outbox.h, SyncNotice),
  // kept for the app like rejections, with the same contracts.
  Result<int64_t> AddNotice(const SyncNotice& notice);
  Result<std::vector<SyncNotice>> Notices();  // oldest first
  Result<int64_t> NoticeCount();
  Status DismissNotice(int64_t id);

  // --- Parked rows ------------------------------------------------------------------------------
  // Server rows set aside because a parent they reference is missing (EngineOptions::
  // park_fk_violations). Each is retried at the next parking commit.
  Result<int64_t> ParkedCount();
  // Puts every parked row back in one engine transaction with foreign keys off, leaving its
  // reference dangling (a row whose key was taken meanwhile is dropped). For when the client is
  // caught up: a parent still missing then is outside the client's view (e.g. another tenant's
  // user), and the server row must not be lost for it. Returns how many rows were put back.
  Result<int64_t> UnparkAll();

  // --- Change notification and watched queries -------------------------------------------------
  // Every transaction that changes mirrored tables (the app's writes and the sync engine's alike)
  // is announced once, after it commits and once no transaction is open, on the thread that
  // committed it. Only this Store's connection is observed: another process writing the file is
  // not. A callback may run SQL on the store (its own changes are announced after it returns).

  // The mirrored tables `sql` reads, sorted (its statements are prepared, not run).
  Result<std::vector<std::string>> TablesRead(std::string_view sql);
  // `listener` gets the mirrored tables each committed transaction changed (sorted, each once).
  // nullptr removes it.
  void SetChangeListener(std::function<void(const std::vector<std::string>& tables)> listener);
  // A watched query: runs `sql` with `params` now and again after every transaction that changes
  // a table it reads, passing each result to `callback` (one call per transaction). Errors:
  // those of preparing or first running `sql` (no watch is made then).
  using WatchId = int64_t;
  Result<WatchId> Watch(std::string_view sql, const nlohmann::json& params,
                        std::function<void(const Result<QueryResult>&)> callback);
  // kNotFound for an unknown id.
  Status Unwatch(WatchId id);

  // --- Metadata ---------------------------------------------------------------------------------
  // Key/value state in _outpost_meta (the sync session's cursor, client id, ...). Writes join the
  // current transaction, whatever it is.
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);
  Status DeleteMeta(std::string_view key);

  // --- Role --------------------------------------------------------------------------------------
  // The sync role of the signed-in user (the token's "role" claim), against which the app's writes
  // are checked locally: a write that sets a column the role may not set (the descriptor's column
  // permissions, docs/sync-rules.md) fails with kConstraint and a message naming the table, column
  // and role, instead of queueing a mutation the server would reject. "" (the default): unknown,
  // no local column checks (the server still checks). Stored in _outpost_meta, so it survives
  // reopening; must not be called inside an application transaction (kInvalidArgument).
  Status SetRole(std::string_view role);
  const std::string& role() const;

  // A new UUIDv7 (the same generator the outpost_uuid() SQL default uses).
  std::string NewUuid();
  Env* env() const;

  // How the sync engine writes server state into this store's mirror (mirror_writer.h). Owned by
  // the Store; valid as long as it is.
  MirrorWriter& mirror_writer();

  class Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost
