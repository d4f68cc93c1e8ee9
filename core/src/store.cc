// Store: opening, SQL execution, engine transactions, bulk loading and metadata. The rest of the
// Store is in migration.cc, outbox.cc, parking.cc and capture.cc (store_impl.h).
#include "outpost/store.h"

#include <sqlite3.h>

#include <algorithm>

#include "mirror_writer_impl.h"
#include "statement_impl.h"
#include "store_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

constexpr const char* kInternalDdl[] = {
    "CREATE TABLE IF NOT EXISTS _outpost_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
    // One row per captured change. seq orders changes; tx_id groups them into client
    // transactions. data: {"new": {...}, "old": {...}} (see Mutation).
    "CREATE TABLE IF NOT EXISTS _outpost_outbox ("
    " seq INTEGER PRIMARY KEY,"
    " tx_id INTEGER NOT NULL,"
    " hlc INTEGER NOT NULL,"
    " op TEXT NOT NULL CHECK (op IN ('I', 'U', 'D')),"
    " tbl TEXT NOT NULL,"
    " pk TEXT NOT NULL,"
    " data TEXT NOT NULL,"
    " checkpoint INTEGER) STRICT",
    // No index on tx_id: tx ids grow with seq, every reader walks seq order. The (tbl, pk) index
    // serves the rebase lookups made for every server row applied while the outbox is not empty.
    "CREATE INDEX IF NOT EXISTS _outpost_outbox_row ON _outpost_outbox (tbl, pk)",
    // Server rows waiting for a parent they reference (EngineOptions::park_fk_violations).
    // data: {"new": {every column}} as the capture functions write it.
    "CREATE TABLE IF NOT EXISTS _outpost_parked ("
    " tbl TEXT NOT NULL,"
    " pk TEXT NOT NULL,"
    " data TEXT NOT NULL,"
    " PRIMARY KEY (tbl, pk)) STRICT",
    // The DDL each mirrored table was created with, to detect what a new schema changes.
    "CREATE TABLE IF NOT EXISTS _outpost_tables (name TEXT PRIMARY KEY, ddl TEXT NOT NULL) STRICT",
    // Client transactions the server refused, kept for the app (Store::Rejections).
    "CREATE TABLE IF NOT EXISTS _outpost_rejections ("
    " id INTEGER PRIMARY KEY,"
    " tx_id INTEGER NOT NULL,"
    " code TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " rule TEXT NOT NULL,"
    " tbl TEXT NOT NULL,"
    " pk TEXT NOT NULL,"         // JSON array, or null
    " mutations TEXT NOT NULL,"  // JSON array of the refused mutations, as pushed
    " at TEXT NOT NULL,"
    " depends_on INTEGER NOT NULL DEFAULT 0) STRICT",  // code "dependent": the earlier tx
    // What the server did differently from what applied transactions wrote (Store::Notices).
    "CREATE TABLE IF NOT EXISTS _outpost_notices ("
    " id INTEGER PRIMARY KEY,"
    " tx_id INTEGER NOT NULL,"
    " code TEXT NOT NULL,"
    " tbl TEXT NOT NULL,"
    " pk TEXT NOT NULL,"       // JSON array, or null
    " columns TEXT NOT NULL,"  // JSON array of column names
    " at TEXT NOT NULL) STRICT",
};

// Columns added to internal tables after stores were first created: (table, column, DDL).
constexpr const char* kAddedColumns[][3] = {
    {"_outpost_outbox", "checkpoint", "ALTER TABLE _outpost_outbox ADD COLUMN checkpoint INTEGER"},
    {"_outpost_rejections", "depends_on",
     "ALTER TABLE _outpost_rejections ADD COLUMN depends_on INTEGER NOT NULL DEFAULT 0"},
};

}  // namespace

Status SqliteStatus(int rc, std::string_view message) {
  int primary = rc & 0xff;
  Code code = Code::kSqlError;
  if (primary == SQLITE_CONSTRAINT) code = Code::kConstraint;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) code = Code::kBusy;
  if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_FULL ||
      primary == SQLITE_READONLY || primary == SQLITE_PERM) {
    code = Code::kIoError;
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) code = Code::kCorruption;
  if (rc == SQLITE_IOERR_DATA) {
    // Raised by the encryption VFS (crypt_vfs.h) for a page that does not authenticate.
    return Status(Code::kCorruption,
                  "a page of the encrypted store failed authentication (the file was modified "
                  "or damaged): " +
                      std::string(message));
  }
  if (primary == SQLITE_NOMEM || primary == SQLITE_MISUSE || primary == SQLITE_INTERNAL) {
    code = Code::kInternal;
  }
  return Status(code, std::string(message));
}

// --- Store::Impl ----------------------------------------------------------------------------

Store::Impl::~Impl() {
  ClearStatementCache();
  if (db) sqlite3_close_v2(db);
}

sqlite3_stmt* Store::Impl::TakeCachedStatement(std::string_view sql) {
  for (auto it = statement_cache.begin(); it != statement_cache.end(); ++it) {
    if (it->sql == sql) {
      sqlite3_stmt* stmt = it->stmt;
      statement_cache.erase(it);
      return stmt;
    }
  }
  return nullptr;
}

void Store::Impl::CacheStatement(std::string sql, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  statement_cache.push_front(CachedStatement{std::move(sql), stmt});
  while (statement_cache.size() > static_cast<size_t>(std::max(0, options.statement_cache))) {
    sqlite3_finalize(statement_cache.back().stmt);
    statement_cache.pop_back();
  }
}

void Store::Impl::ClearStatementCache() {
  for (auto& c : statement_cache) sqlite3_finalize(c.stmt);
  statement_cache.clear();
}

Status Store::Impl::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status st = SqliteStatus(rc, err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return st;
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Store::Impl::GetMeta(std::string_view key) {
  Stmt q(db, "SELECT value FROM _outpost_meta WHERE key = ?");
  OUTPOST_RETURN_IF_ERROR(q.status());
  q.BindText(1, key);
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

Status Store::Impl::SetMeta(std::string_view key, std::string_view value) {
  Stmt q(db,
         "INSERT INTO _outpost_meta (key, value) VALUES (?, ?) "
         "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  OUTPOST_RETURN_IF_ERROR(q.status());
  q.BindText(1, key);
  q.BindText(2, value);
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  (void)row;
  return Status::Ok();
}

Result<int64_t> Store::Impl::CurrentTxId() {
  if (current_tx != 0) return current_tx;
  // First captured change of this transaction: we hold the write lock, so the stored high-water
  // marks are current even if another connection wrote since we last looked.
  // The newest outbox row holds both high-water marks: tx ids and clock values only grow with
  // seq (allocated under the write lock, clock restored here), so no scan is needed.
  Stmt q(db,
         "SELECT max(coalesce((SELECT tx_id FROM _outpost_outbox ORDER BY seq DESC LIMIT 1), 0),"
         "           coalesce((SELECT CAST(value AS INTEGER) FROM _outpost_meta"
         "                     WHERE key = 'last_tx_id'), 0)),"
         "       max(coalesce((SELECT hlc FROM _outpost_outbox ORDER BY seq DESC LIMIT 1), 0),"
         "           coalesce((SELECT CAST(value AS INTEGER) FROM _outpost_meta"
         "                     WHERE key = 'last_hlc'), 0))");
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status(Code::kInternal, "tx id query returned no row");
  current_tx = sqlite3_column_int64(q.get(), 0) + 1;
  clock.Restore(static_cast<uint64_t>(sqlite3_column_int64(q.get(), 1)));
  return current_tx;
}

Status Store::Impl::LoadCaptureState() {
  captured.clear();
  if (!schema) return Status::Ok();
  for (const auto& t : schema->tables) {
    CapturedTable ct;
    ct.name = t.name;
    for (const auto& c : t.columns) {
      std::string key;
      json::string_t name = c.name;
      key = json(name).dump() + ":";
      ct.json_keys.push_back(std::move(key));
    }
    captured.push_back(std::move(ct));
  }
  // Temporary keys continue below every key already in use, so they never collide locally.
  int64_t lowest = 0;
  // (A key column that does not lead the key index makes this a scan of its table.)
  for (const auto& t : schema->tables) {
    for (const auto& k : t.primary_key) {
      if (!t.IsServerKeyColumn(k)) continue;
      Stmt q(db, "SELECT min(" + QuoteIdent(k) + ") FROM " + QuoteIdent(t.name));
      OUTPOST_RETURN_IF_ERROR(q.status());
      OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row && sqlite3_column_type(q.get(), 0) == SQLITE_INTEGER) {
        lowest = std::min<int64_t>(lowest, sqlite3_column_int64(q.get(), 0));
      }
    }
  }
  next_temp_key = lowest - 1;
  return Status::Ok();
}

// --- Store -------------------------------------------------------------------------------------

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->owner = this;
  impl_->mirror_writer.reset(
      new MirrorWriter(std::make_unique<MirrorWriter::Impl>(this, impl_.get())));
}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->env = options.env ? options.env : Env::Default();
  impl->uuid = UuidV7Generator(impl->env);
  impl->clock = HybridLogicalClock(impl->env);
  // Checks the key against the file before SQLite touches it (a wrong key changes nothing).
  OUTPOST_ASSIGN_OR_RETURN(impl->crypt, PrepareStoreEncryption(path, options));
  impl->options.encryption.reset();  // the VFS keeps the derived key; wipe this copy
  int rc = sqlite3_open_v2(path.c_str(), &impl->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           impl->crypt ? impl->crypt->name() : nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    if (impl->crypt && !impl->crypt->last_error().empty()) msg = impl->crypt->last_error();
    return SqliteStatus(rc, "cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, 5000);
  std::string pragmas = "PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = OFF;";
  if (impl->crypt) {
    // Room for each page's nonce and tag, before the first write creates the file's pages (an
    // existing file keeps what it has); temporary tables, indexes and sorts stay in memory.
    int reserve = kCryptReserveBytes;
    sqlite3_file_control(impl->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    pragmas += "PRAGMA page_size = " + std::to_string(impl->crypt->page_size()) +
               "; PRAGMA temp_store = MEMORY;";
  }
  OUTPOST_RETURN_IF_ERROR(RegisterSqlFunctions(impl->db, impl.get()));
  impl->InstallHooks();
  pragmas += "PRAGMA cache_size = -" + std::to_string(std::max(1, options.cache_mib) * 1024) + ";";
  impl->wal = options.wal && path != ":memory:";
  if (impl->wal) pragmas += "PRAGMA journal_mode = WAL;";
  pragmas += options.durable ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
  OUTPOST_RETURN_IF_ERROR(impl->Exec(pragmas).WithContext("cannot configure " + path));
  Status init = impl->Exec("BEGIN IMMEDIATE");
  if (!init.ok()) return init.WithContext("cannot open " + path);
  auto init_body = [&]() -> Status {
    for (const char* ddl : kInternalDdl) OUTPOST_RETURN_IF_ERROR(impl->Exec(ddl));
    // Databases created by earlier versions lack the columns added since.
    for (const auto& added : kAddedColumns) {
      Stmt has(impl->db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
      OUTPOST_RETURN_IF_ERROR(has.status());
      has.BindText(1, added[0]);
      has.BindText(2, added[1]);
      OUTPOST_ASSIGN_OR_RETURN(bool present, has.Step());
      if (!present) OUTPOST_RETURN_IF_ERROR(impl->Exec(added[2]));
    }
    return Status::Ok();
  };
  Status init_status = init_body();
  if (!init_status.ok()) {
    (void)impl->Exec("ROLLBACK");
    return init_status.WithContext("cannot initialise " + path);
  }
  OUTPOST_RETURN_IF_ERROR(impl->Exec("COMMIT"));
  OUTPOST_ASSIGN_OR_RETURN(auto stored, impl->GetMeta("schema"));
  if (stored) {
    auto schema = SchemaFromJson(*stored);
    if (!schema.ok()) {
      return Status(Code::kCorruption,
                    "stored schema of " + path + " is unreadable: " + schema.status().message());
    }
    impl->schema = std::move(schema).value();
  }
  OUTPOST_ASSIGN_OR_RETURN(auto role, impl->GetMeta("role"));
  impl->role = role.value_or("");
  OUTPOST_RETURN_IF_ERROR(impl->LoadCaptureState());
  std::unique_ptr<Store> store(new Store(std::move(impl)));
  OUTPOST_RETURN_IF_ERROR(store->impl_->mirror_writer->impl_->Load());
  return store;
}

const Schema* Store::schema() const {
  return impl_->schema_or_null();
}
std::string Store::NewUuid() {
  return impl_->uuid.Next();
}
Env* Store::env() const {
  return impl_->env;
}
MirrorWriter& Store::mirror_writer() {
  return *impl_->mirror_writer;
}

Result<QueryResult> Store::Execute(std::string_view sql, const json& params) {
  QueryResult result;
  const char* tail = sql.data();
  const char* end = sql.data() + sql.size();
  bool ran_any = false;
  const bool cacheable = impl_->options.statement_cache > 0;
  while (tail < end) {
    sqlite3_stmt* raw = tail == sql.data() && cacheable ? impl_->TakeCachedStatement(sql) : nullptr;
    const char* next = end;  // a cached statement is the whole text
    if (!raw) {
      int rc = sqlite3_prepare_v3(impl_->db, tail, static_cast<int>(end - tail),
                                  cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &raw, &next);
      if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(impl_->db));
    }
    const bool whole = tail == sql.data();
    tail = next;
    if (!raw) continue;  // whitespace or comment
    auto rep = std::make_unique<Statement::Rep>(impl_.get(), raw);
    // Parameters go to the last statement; earlier ones must not take any.
    bool is_last = true;
    for (const char* p = tail; p < end; ++p) {
      if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') {
        is_last = false;
        break;
      }
    }
    // A single statement (the SQL's only one) goes back to the cache after this run.
    if (cacheable && whole && is_last) rep->cache_key.assign(sql);
    Statement stmt(std::move(rep));
    OUTPOST_RETURN_IF_ERROR(BindParams(impl_->db, raw, is_last ? params : json(nullptr)));
    result = QueryResult();
    int ncol = sqlite3_column_count(raw);
    std::vector<bool> boolean(static_cast<size_t>(ncol), false);
    for (int c = 0; c < ncol; ++c) {
      result.columns.push_back(stmt.column_name(c));
      boolean[static_cast<size_t>(c)] = IsBooleanColumn(*impl_, raw, c);
    }
    while (true) {
      OUTPOST_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      json r = json::array();
      for (int c = 0; c < ncol; ++c) {
        r.push_back(ValueToJson(ViewOfColumn(raw, c), boolean[static_cast<size_t>(c)]));
      }
      result.rows.push_back(std::move(r));
    }
    result.changes = sqlite3_changes64(impl_->db);
    result.last_insert_rowid = sqlite3_last_insert_rowid(impl_->db);
    ran_any = true;
  }
  if (!ran_any) return Status(Code::kInvalidArgument, "no SQL statement given");
  impl_->NotifyChanges();
  return result;
}

Result<Statement> Store::Prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(impl_->db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(impl_->db));
  if (!raw) return Status(Code::kInvalidArgument, "no SQL statement given");
  Statement stmt(std::make_unique<Statement::Rep>(impl_.get(), raw));
  for (const char* p = tail; p && *p; ++p) {
    if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') {
      return Status(Code::kInvalidArgument, "Prepare takes exactly one statement");
    }
  }
  return stmt;
}

Status Store::RunAsEngine(const std::function<Status()>& fn) {
  return RunAsEngine(EngineOptions(), fn);
}

Status Store::RunAsEngine(const EngineOptions& options, const std::function<Status()>& fn) {
  if (!sqlite3_get_autocommit(impl_->db)) {
    return Status(Code::kInvalidArgument, "engine writes cannot join an open transaction");
  }
  // Connection settings SQLite cannot change inside a transaction: switched around it. The
  // relaxed sync is only safe with WAL: with a rollback journal, a power loss could corrupt.
  const bool relax_sync =
      !options.durable && impl_->options.durable && impl_->wal && !impl_->bulk_loading;
  std::string before, after;
  if (!options.foreign_keys) {
    before += "PRAGMA foreign_keys = OFF;";
    after += "PRAGMA foreign_keys = ON;";
  }
  if (!options.check_constraints) {
    before += "PRAGMA ignore_check_constraints = ON;";
    after += "PRAGMA ignore_check_constraints = OFF;";
  }
  if (relax_sync) {
    before += "PRAGMA synchronous = NORMAL;";
    after += "PRAGMA synchronous = FULL;";
  }
  if (!before.empty()) {
    Status s = impl_->Exec(before);
    if (!s.ok()) {
      if (!after.empty()) (void)impl_->Exec(after);
      return s;
    }
  }
  auto body = [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE"));
    // Reset by SQLite at the end of every transaction.
    if (options.defer_foreign_keys) {
      OUTPOST_RETURN_IF_ERROR(impl_->Exec("PRAGMA defer_foreign_keys = ON"));
    }
    impl_->capturing = false;
    impl_->in_engine = true;
    Status s = fn();
    if (s.ok() && options.park_fk_violations) {
      s = impl_->RetryParked();
      if (s.ok() && !options.foreign_keys) s = impl_->ParkFkViolations().status();
    }
    if (!s.ok()) return s;
    s = impl_->Exec("COMMIT");
    if (!s.ok() && options.park_fk_violations && options.foreign_keys &&
        !sqlite3_get_autocommit(impl_->db) &&
        sqlite3_extended_errcode(impl_->db) == SQLITE_CONSTRAINT_FOREIGNKEY) {
      // Deferred violations keep the transaction open: park the culprits and try again.
      OUTPOST_RETURN_IF_ERROR(impl_->ParkFkViolations().status());
      s = impl_->Exec("COMMIT");
    }
    return s;
  };
  Status s = body();
  impl_->capturing = true;
  impl_->in_engine = false;
  if (!s.ok() && !sqlite3_get_autocommit(impl_->db)) (void)impl_->Exec("ROLLBACK");
  if (!after.empty()) {
    Status restored = impl_->Exec(after);
    if (s.ok()) s = restored;
  }
  impl_->NotifyChanges();
  return s;
}

Result<bool> Store::BeginBulkLoad() {
  if (impl_->bulk_loading) return true;
  if (!sqlite3_get_autocommit(impl_->db)) {
    return Status(Code::kInvalidArgument, "a bulk load cannot begin inside a transaction");
  }
  {
    Stmt mode(impl_->db, "PRAGMA journal_mode");
    OUTPOST_RETURN_IF_ERROR(mode.status());
    OUTPOST_ASSIGN_OR_RETURN(bool row, mode.Step());
    if (!row || mode.Text(0) != "wal") return false;
  }  // finalized: an active statement would keep the switch below from happening
  // SQLite refuses (busy, or the mode stays "wal") while another connection has the file open.
  Stmt to(impl_->db, "PRAGMA journal_mode = TRUNCATE");
  OUTPOST_RETURN_IF_ERROR(to.status());
  Result<bool> row = to.Step();
  if (!row.ok() && row.status().code() == Code::kBusy) return false;
  OUTPOST_RETURN_IF_ERROR(row.status());
  impl_->bulk_loading = *row && to.Text(0) == "truncate";
  return impl_->bulk_loading;
}

Status Store::EndBulkLoad() {
  if (!impl_->bulk_loading) return Status::Ok();
  if (!sqlite3_get_autocommit(impl_->db)) {
    return Status(Code::kInvalidArgument, "a bulk load cannot end inside a transaction");
  }
  Stmt to(impl_->db, "PRAGMA journal_mode = WAL");
  OUTPOST_RETURN_IF_ERROR(to.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, to.Step());
  if (!row || to.Text(0) != "wal") {
    return Status(Code::kBusy, "cannot switch the database back to WAL");
  }
  impl_->bulk_loading = false;
  return Status::Ok();
}

bool Store::in_transaction() const {
  return !sqlite3_get_autocommit(impl_->db);
}

bool Store::bulk_loading() const {
  return impl_->bulk_loading;
}

Status Store::Impl::InEngine(const std::function<Status()>& fn) {
  if (in_engine) return fn();
  if (!sqlite3_get_autocommit(db)) {
    return Status(Code::kInvalidArgument, "outbox changes cannot join an application transaction");
  }
  if (!owner) return Status(Code::kInternal, "store implementation without its store");
  return owner->RunAsEngine(fn);
}

// --- Metadata ------------------------------------------------------------------------------------

Result<std::optional<std::string>> Store::GetMeta(std::string_view key) {
  return impl_->GetMeta(key);
}

Status Store::SetRole(std::string_view role) {
  if (in_transaction()) {
    return Status(Code::kInvalidArgument, "the role cannot change inside a transaction");
  }
  OUTPOST_RETURN_IF_ERROR(impl_->SetMeta("role", role));
  impl_->role = std::string(role);
  return Status::Ok();
}

const std::string& Store::role() const {
  return impl_->role;
}

Status Store::SetMeta(std::string_view key, std::string_view value) {
  return impl_->SetMeta(key, value);
}

Status Store::DeleteMeta(std::string_view key) {
  Stmt q(impl_->db, "DELETE FROM _outpost_meta WHERE key = ?");
  OUTPOST_RETURN_IF_ERROR(q.status());
  q.BindText(1, key);
  return q.Run();
}

}  // namespace outpost
