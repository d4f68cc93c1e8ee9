// Store: opening, schema application and migration, SQL execution, the outbox.
#include "outpost/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

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
};

int CommitHook(void* arg) {
  static_cast<Store::Impl*>(arg)->current_tx = 0;
  return 0;  // never veto
}

void RollbackHook(void* arg) {
  static_cast<Store::Impl*>(arg)->current_tx = 0;
}

// Scoped prepared statement for internal queries.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Status status() const {
    return rc_ == SQLITE_OK ? Status::Ok() : SqliteStatus(rc_, sqlite3_errmsg(db_));
  }
  sqlite3_stmt* get() const { return stmt_; }
  // SQLITE_ROW -> true, SQLITE_DONE -> false.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteStatus(rc, sqlite3_errmsg(db_));
  }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

json SqliteColumnJson(sqlite3_stmt* stmt, int col, bool boolean) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_NULL: return nullptr;
    case SQLITE_INTEGER: {
      int64_t n = sqlite3_column_int64(stmt, col);
      if (boolean && (n == 0 || n == 1)) return n == 1;
      return n;
    }
    case SQLITE_FLOAT: {
      double d = sqlite3_column_double(stmt, col);
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      return d;
    }
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, col)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
    default: {
      const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, col));
      return json{{"$blob", Base64Encode(p, static_cast<size_t>(sqlite3_column_bytes(stmt, col)))}};
    }
  }
}

Status BindValue(sqlite3* db, sqlite3_stmt* stmt, int index, const Value& v) {
  int rc = SQLITE_OK;
  switch (v.index()) {
    case 0: rc = sqlite3_bind_null(stmt, index); break;
    case 1: rc = sqlite3_bind_int64(stmt, index, std::get<int64_t>(v)); break;
    case 2: rc = sqlite3_bind_double(stmt, index, std::get<double>(v)); break;
    case 3: {
      const auto& s = std::get<std::string>(v);
      rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    default: {
      const auto& b = std::get<Blob>(v).bytes;
      // A null data pointer would bind SQL NULL: an empty BLOB is a zeroblob of length 0.
      rc = b.empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                     : sqlite3_bind_blob64(stmt, index, b.data(), b.size(), SQLITE_TRANSIENT);
    }
  }
  if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(db));
  return Status::Ok();
}

Status BindParams(sqlite3* db, sqlite3_stmt* stmt, const json& params) {
  int count = sqlite3_bind_parameter_count(stmt);
  if (params.is_null() || (params.is_array() && params.empty() && count == 0)) {
    if (count > 0) {
      return Status(Code::kInvalidArgument,
                    "statement has " + std::to_string(count) + " parameters but none were given");
    }
    return Status::Ok();
  }
  if (params.is_array()) {
    if (static_cast<int>(params.size()) != count) {
      return Status(Code::kInvalidArgument, "statement has " + std::to_string(count) +
                                                " parameters, " + std::to_string(params.size()) +
                                                " given");
    }
    for (int i = 0; i < count; ++i) {
      OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(params[static_cast<size_t>(i)]));
      OUTPOST_RETURN_IF_ERROR(BindValue(db, stmt, i + 1, v));
    }
    return Status::Ok();
  }
  if (params.is_object()) {
    std::set<std::string> used;
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      if (!name) {
        return Status(Code::kInvalidArgument,
                      "positional parameter ?" + std::to_string(i) + " needs an array of params");
      }
      std::string bare(name + 1);
      auto it = params.find(name);
      if (it == params.end()) it = params.find(bare);
      if (it == params.end()) {
        return Status(Code::kInvalidArgument, std::string("no value for parameter ") + name);
      }
      used.insert(it.key());
      OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(*it));
      OUTPOST_RETURN_IF_ERROR(BindValue(db, stmt, i, v));
    }
    for (const auto& [k, v] : params.items()) {
      if (!used.count(k)) {
        return Status(Code::kInvalidArgument, "parameter \"" + k + "\" is not in the statement");
      }
    }
    return Status::Ok();
  }
  return Status(Code::kInvalidArgument, "params must be a JSON array or object");
}

std::string CreateTableNamed(const TableDdl& ddl, const std::string& name) {
  std::string prefix = "CREATE TABLE " + QuoteIdent(ddl.table) + " (";
  return "CREATE TABLE " + QuoteIdent(name) + " (" + ddl.create_table.substr(prefix.size());
}

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
  if (primary == SQLITE_NOMEM || primary == SQLITE_MISUSE || primary == SQLITE_INTERNAL) {
    code = Code::kInternal;
  }
  return Status(code, std::string(message));
}

// --- Statement -----------------------------------------------------------------------------------

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) {
  o.stmt_ = nullptr;
}
Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}
Statement::~Statement() {
  sqlite3_finalize(stmt_);
}
int Statement::parameter_count() const {
  return sqlite3_bind_parameter_count(stmt_);
}
Status Statement::Bind(int index, const Value& value) {
  return BindValue(db_, stmt_, index, value);
}
Status Statement::BindNull(int index) {
  return Bind(index, Value(Null{}));
}
Status Statement::BindInt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? Status::Ok() : SqliteStatus(rc, sqlite3_errmsg(db_));
}
Status Statement::BindDouble(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  return rc == SQLITE_OK ? Status::Ok() : SqliteStatus(rc, sqlite3_errmsg(db_));
}
Status Statement::BindText(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return rc == SQLITE_OK ? Status::Ok() : SqliteStatus(rc, sqlite3_errmsg(db_));
}
Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = SqliteStatus(rc, sqlite3_errmsg(db_));
  sqlite3_reset(stmt_);
  return s;
}
Status Statement::Run() {
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}
Status Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return Status::Ok();
}
int Statement::column_count() const {
  return sqlite3_column_count(stmt_);
}
std::string Statement::column_name(int column) const {
  const char* n = sqlite3_column_name(stmt_, column);
  return n ? n : "";
}
Value Statement::column_value(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_NULL: return Null{};
    case SQLITE_INTEGER: return sqlite3_column_int64(stmt_, column);
    case SQLITE_FLOAT: return sqlite3_column_double(stmt_, column);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column)),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
    default: {
      const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
      return Blob{std::vector<uint8_t>(p, p + sqlite3_column_bytes(stmt_, column))};
    }
  }
}

// --- Store::Impl ----------------------------------------------------------------------------

Store::Impl::~Impl() {
  if (db) sqlite3_close_v2(db);
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
  sqlite3_bind_text(q.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

Status Store::Impl::SetMeta(std::string_view key, std::string_view value) {
  Stmt q(db,
         "INSERT INTO _outpost_meta (key, value) VALUES (?, ?) "
         "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  OUTPOST_RETURN_IF_ERROR(q.status());
  sqlite3_bind_text(q.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(q.get(), 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
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
}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->env = options.env ? options.env : Env::Default();
  impl->uuid = UuidV7Generator(impl->env);
  impl->clock = HybridLogicalClock(impl->env);
  int rc =
      sqlite3_open_v2(path.c_str(), &impl->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = impl->db ? sqlite3_errmsg(impl->db) : "out of memory";
    return SqliteStatus(rc, "cannot open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, 5000);
  OUTPOST_RETURN_IF_ERROR(RegisterSqlFunctions(impl->db, impl.get()));
  sqlite3_commit_hook(impl->db, CommitHook, impl.get());
  sqlite3_rollback_hook(impl->db, RollbackHook, impl.get());
  std::string pragmas = "PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = OFF;";
  pragmas += "PRAGMA cache_size = -" + std::to_string(std::max(1, options.cache_mib) * 1024) + ";";
  if (options.wal && path != ":memory:") pragmas += "PRAGMA journal_mode = WAL;";
  pragmas += options.durable ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
  OUTPOST_RETURN_IF_ERROR(impl->Exec(pragmas).WithContext("cannot configure " + path));
  Status init = impl->Exec("BEGIN IMMEDIATE");
  if (!init.ok()) return init.WithContext("cannot open " + path);
  auto init_body = [&]() -> Status {
    for (const char* ddl : kInternalDdl) OUTPOST_RETURN_IF_ERROR(impl->Exec(ddl));
    // Databases created before write checkpoints existed lack the column.
    Stmt has(impl->db,
             "SELECT 1 FROM pragma_table_info('_outpost_outbox') WHERE name = 'checkpoint'");
    OUTPOST_RETURN_IF_ERROR(has.status());
    OUTPOST_ASSIGN_OR_RETURN(bool present, has.Step());
    if (!present) {
      OUTPOST_RETURN_IF_ERROR(
          impl->Exec("ALTER TABLE _outpost_outbox ADD COLUMN checkpoint INTEGER"));
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
  OUTPOST_RETURN_IF_ERROR(impl->LoadCaptureState());
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

const Schema* Store::schema() const {
  return impl_->schema ? &*impl_->schema : nullptr;
}
sqlite3* Store::connection() const {
  return impl_->db;
}
std::string Store::NewUuid() {
  return impl_->uuid.Next();
}
HybridLogicalClock& Store::clock() {
  return impl_->clock;
}
Env* Store::env() const {
  return impl_->env;
}

Result<MirrorReport> Store::ApplySchema(const Schema& schema) {
  OUTPOST_RETURN_IF_ERROR(ValidateSchema(schema));
  if (!sqlite3_get_autocommit(impl_->db)) {
    return Status(Code::kInvalidArgument, "ApplySchema inside an open transaction");
  }
  MirrorReport report;
  report.version = SchemaVersion(schema);
  MirrorDdl ddl = GenerateMirrorDdl(schema);
  report.not_mirrored = ddl.not_mirrored;
  if (impl_->schema && SchemaVersion(*impl_->schema) == report.version) return report;

  // Full definition per table: table, indexes and capture triggers. A table is rebuilt when any
  // of it changed (the capture triggers depend on the column list and the table's position).
  std::map<std::string, std::string> wanted;
  std::map<std::string, std::vector<std::string>> statements;
  for (size_t i = 0; i < ddl.tables.size(); ++i) {
    const auto& td = ddl.tables[i];
    std::vector<std::string> all = {td.create_table};
    all.insert(all.end(), td.create_indexes.begin(), td.create_indexes.end());
    auto triggers = CaptureTriggerSql(schema.tables[i], static_cast<int>(i));
    all.insert(all.end(), triggers.begin(), triggers.end());
    std::string joined;
    for (const auto& s : all) joined += s + ";\n";
    wanted[td.table] = joined;
    statements[td.table] = std::move(all);
  }

  // Foreign keys must be off while tables are rebuilt (SQLite's documented ALTER procedure); the
  // whole result is checked with foreign_key_check before commit.
  OUTPOST_RETURN_IF_ERROR(impl_->Exec("PRAGMA foreign_keys = OFF"));
  // Server rows may reference rows outside the client's view (UnparkAll): such dangling
  // references existed before and do not fail the migration; new ones do.
  int64_t violations_before = 0;
  {
    Stmt fk(impl_->db, "SELECT count(*) FROM pragma_foreign_key_check");
    if (fk.status().ok()) {
      auto row = fk.Step();
      if (row.ok() && *row) violations_before = sqlite3_column_int64(fk.get(), 0);
    }
  }
  bool saved_capturing = impl_->capturing;
  impl_->capturing = false;
  auto body = [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE"));
    std::map<std::string, std::string> existing;
    {
      Stmt q(impl_->db, "SELECT name, ddl FROM _outpost_tables");
      OUTPOST_RETURN_IF_ERROR(q.status());
      while (true) {
        OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        existing[q.Text(0)] = q.Text(1);
      }
    }
    for (const auto& [name, old_ddl] : existing) {
      if (wanted.count(name)) continue;
      int64_t n = 0;
      {
        Stmt pending(impl_->db, "SELECT count(*) FROM _outpost_outbox WHERE tbl = ?");
        OUTPOST_RETURN_IF_ERROR(pending.status());
        sqlite3_bind_text(pending.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
        OUTPOST_ASSIGN_OR_RETURN(bool row, pending.Step());
        n = row ? sqlite3_column_int64(pending.get(), 0) : 0;
      }  // finalised: DROP TABLE needs no open statements
      if (n > 0) {
        return Status(Code::kConflict, "the new schema drops table \"" + name + "\", which has " +
                                           std::to_string(n) + " unsynced changes");
      }
      OUTPOST_RETURN_IF_ERROR(impl_->Exec("DROP TABLE IF EXISTS " + QuoteIdent(name)));
      OUTPOST_RETURN_IF_ERROR(
          impl_->Exec("DELETE FROM _outpost_parked WHERE tbl = " + QuoteLiteral(name)));
      report.dropped.push_back(name);
    }
    for (size_t i = 0; i < ddl.tables.size(); ++i) {
      const auto& td = ddl.tables[i];
      auto old = existing.find(td.table);
      if (old != existing.end() && old->second == wanted[td.table]) continue;
      const auto& stmts = statements[td.table];
      if (old == existing.end()) {
        for (const auto& s : stmts) {
          OUTPOST_RETURN_IF_ERROR(impl_->Exec(s).WithContext("creating \"" + td.table + "\""));
        }
        report.created.push_back(td.table);
      } else {
        // Rebuild: new table under a temporary name, copy the common columns, swap.
        const std::string tmp = "_outpost_rebuild";
        OUTPOST_RETURN_IF_ERROR(impl_->Exec(CreateTableNamed(td, tmp)));
        std::vector<std::string> old_cols;
        {
          Stmt q(impl_->db, "SELECT name FROM pragma_table_info(?)");
          OUTPOST_RETURN_IF_ERROR(q.status());
          sqlite3_bind_text(q.get(), 1, td.table.c_str(), -1, SQLITE_TRANSIENT);
          while (true) {
            OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
            if (!row) break;
            old_cols.push_back(q.Text(0));
          }
        }
        std::string cols;
        for (const auto& c : schema.tables[i].columns) {
          if (std::find(old_cols.begin(), old_cols.end(), c.name) == old_cols.end()) continue;
          if (!cols.empty()) cols += ", ";
          cols += QuoteIdent(c.name);
        }
        if (!cols.empty()) {
          OUTPOST_RETURN_IF_ERROR(impl_
                                      ->Exec("INSERT INTO " + QuoteIdent(tmp) + " (" + cols +
                                             ") SELECT " + cols + " FROM " + QuoteIdent(td.table))
                                      .WithContext("migrating the rows of \"" + td.table + "\""));
        }
        OUTPOST_RETURN_IF_ERROR(impl_->Exec("DROP TABLE " + QuoteIdent(td.table)));
        OUTPOST_RETURN_IF_ERROR(
            impl_->Exec("ALTER TABLE " + QuoteIdent(tmp) + " RENAME TO " + QuoteIdent(td.table)));
        for (size_t k = 1; k < stmts.size(); ++k) {
          OUTPOST_RETURN_IF_ERROR(
              impl_->Exec(stmts[k]).WithContext("migrating \"" + td.table + "\""));
        }
        report.migrated.push_back(td.table);
      }
      Stmt up(impl_->db,
              "INSERT INTO _outpost_tables (name, ddl) VALUES (?, ?) "
              "ON CONFLICT (name) DO UPDATE SET ddl = excluded.ddl");
      OUTPOST_RETURN_IF_ERROR(up.status());
      sqlite3_bind_text(up.get(), 1, td.table.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(up.get(), 2, wanted[td.table].c_str(), -1, SQLITE_TRANSIENT);
      OUTPOST_ASSIGN_OR_RETURN(bool row, up.Step());
      (void)row;
    }
    for (const auto& name : report.dropped) {
      Stmt del(impl_->db, "DELETE FROM _outpost_tables WHERE name = ?");
      OUTPOST_RETURN_IF_ERROR(del.status());
      sqlite3_bind_text(del.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
      OUTPOST_ASSIGN_OR_RETURN(bool row, del.Step());
      (void)row;
    }
    {
      Stmt count(impl_->db, "SELECT count(*) FROM pragma_foreign_key_check");
      OUTPOST_RETURN_IF_ERROR(count.status());
      OUTPOST_ASSIGN_OR_RETURN(bool counted, count.Step());
      int64_t after = counted ? sqlite3_column_int64(count.get(), 0) : 0;
      Stmt fk(impl_->db, "PRAGMA foreign_key_check");
      OUTPOST_RETURN_IF_ERROR(fk.status());
      OUTPOST_ASSIGN_OR_RETURN(bool row, fk.Step());
      if (row && after > violations_before) {
        return Status(Code::kConstraint, "after migration, rows of \"" + fk.Text(0) +
                                             "\" violate a foreign key to \"" + fk.Text(2) + "\"");
      }
    }
    OUTPOST_RETURN_IF_ERROR(impl_->SetMeta("schema", SchemaToJson(schema)));
    OUTPOST_RETURN_IF_ERROR(impl_->SetMeta("schema_version", report.version));
    return impl_->Exec("COMMIT");
  };
  Status s = body();
  if (!s.ok() && !sqlite3_get_autocommit(impl_->db)) (void)impl_->Exec("ROLLBACK");
  impl_->capturing = saved_capturing;
  Status fk_on = impl_->Exec("PRAGMA foreign_keys = ON");
  OUTPOST_RETURN_IF_ERROR(s);
  OUTPOST_RETURN_IF_ERROR(fk_on);
  impl_->schema = schema;
  OUTPOST_RETURN_IF_ERROR(impl_->LoadCaptureState());
  return report;
}

Result<QueryResult> Store::Execute(std::string_view sql, const json& params) {
  QueryResult result;
  const char* tail = sql.data();
  const char* end = sql.data() + sql.size();
  bool ran_any = false;
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    int rc = sqlite3_prepare_v2(impl_->db, tail, static_cast<int>(end - tail), &raw, &next);
    if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(impl_->db));
    tail = next;
    if (!raw) continue;  // whitespace or comment
    Statement stmt(impl_->db, raw);
    // Parameters go to the last statement; earlier ones must not take any.
    bool is_last = true;
    for (const char* p = tail; p < end; ++p) {
      if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') {
        is_last = false;
        break;
      }
    }
    OUTPOST_RETURN_IF_ERROR(BindParams(impl_->db, raw, is_last ? params : json(nullptr)));
    result = QueryResult();
    int ncol = sqlite3_column_count(raw);
    std::vector<bool> boolean(static_cast<size_t>(ncol), false);
    for (int c = 0; c < ncol; ++c) {
      result.columns.push_back(stmt.column_name(c));
      const char* table = sqlite3_column_table_name(raw, c);
      const char* origin = sqlite3_column_origin_name(raw, c);
      if (table && origin && impl_->schema) {
        if (const Table* t = impl_->schema->FindTable(table)) {
          const Column* col = t->FindColumn(origin);
          boolean[static_cast<size_t>(c)] = col && col->type.kind == TypeKind::kBoolean;
        }
      }
    }
    while (true) {
      OUTPOST_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      json r = json::array();
      for (int c = 0; c < ncol; ++c) {
        r.push_back(SqliteColumnJson(raw, c, boolean[static_cast<size_t>(c)]));
      }
      result.rows.push_back(std::move(r));
    }
    result.changes = sqlite3_changes64(impl_->db);
    result.last_insert_rowid = sqlite3_last_insert_rowid(impl_->db);
    ran_any = true;
  }
  if (!ran_any) return Status(Code::kInvalidArgument, "no SQL statement given");
  return result;
}

Result<Statement> Store::Prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(impl_->db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(impl_->db));
  if (!raw) return Status(Code::kInvalidArgument, "no SQL statement given");
  Statement stmt(impl_->db, raw);
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

bool Store::in_engine() const {
  return impl_->in_engine;
}

Status Store::RunAsEngine(const EngineOptions& options, const std::function<Status()>& fn) {
  if (!sqlite3_get_autocommit(impl_->db)) {
    return Status(Code::kInvalidArgument, "engine writes cannot join an open transaction");
  }
  // Connection settings SQLite cannot change inside a transaction: switched around it.
  const bool relax_sync = !options.durable && impl_->options.durable && !impl_->bulk_loading;
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

Status Store::Impl::RecordHighWaterMarks() {
  // The newest row holds both marks (tx ids and clocks grow with seq); the marks never go down.
  OUTPOST_RETURN_IF_ERROR(Exec(
      "INSERT INTO _outpost_meta (key, value) "
      "SELECT 'last_tx_id', CAST(tx_id AS TEXT) FROM _outpost_outbox ORDER BY seq DESC LIMIT 1 "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
      "WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)"));
  return Exec(
      "INSERT INTO _outpost_meta (key, value) "
      "SELECT 'last_hlc', CAST(hlc AS TEXT) FROM _outpost_outbox ORDER BY seq DESC LIMIT 1 "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
      "WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)");
}

namespace {

// Reads outbox rows selected as (seq, tx_id, hlc, op, tbl, pk, data, checkpoint).
Result<Mutation> ReadMutation(Stmt& q) {
  Mutation m;
  m.seq = sqlite3_column_int64(q.get(), 0);
  m.tx_id = sqlite3_column_int64(q.get(), 1);
  m.hlc = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 2));
  m.op = static_cast<Mutation::Op>(q.Text(3)[0]);
  m.table = q.Text(4);
  m.pk = json::parse(q.Text(5), nullptr, false);
  json data = json::parse(q.Text(6), nullptr, false);
  if (m.pk.is_discarded() || data.is_discarded() || !data.is_object()) {
    return Status(Code::kCorruption, "outbox entry " + std::to_string(m.seq) + " is unreadable");
  }
  if (data.contains("new")) m.new_values = std::move(data["new"]);
  if (data.contains("old")) m.old_values = std::move(data["old"]);
  if (sqlite3_column_type(q.get(), 7) != SQLITE_NULL)
    m.checkpoint = sqlite3_column_int64(q.get(), 7);
  return m;
}

constexpr const char* kMutationColumns =
    "SELECT seq, tx_id, hlc, op, tbl, pk, data, checkpoint FROM _outpost_outbox ";

Result<std::vector<Mutation>> ReadMutations(Stmt& q) {
  std::vector<Mutation> out;
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    OUTPOST_ASSIGN_OR_RETURN(Mutation m, ReadMutation(q));
    out.push_back(std::move(m));
  }
  return out;
}

Status StepDone(Stmt& q) {
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  (void)row;
  return Status::Ok();
}

}  // namespace

Result<std::vector<ClientTransaction>> Store::PendingTransactions(size_t max_tx) {
  std::vector<ClientTransaction> out;
  Stmt q(impl_->db, std::string(kMutationColumns) + "WHERE checkpoint IS NULL ORDER BY seq");
  OUTPOST_RETURN_IF_ERROR(q.status());
  std::map<int64_t, size_t> position;  // tx id -> index in out
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    OUTPOST_ASSIGN_OR_RETURN(Mutation m, ReadMutation(q));
    auto it = position.find(m.tx_id);
    if (it == position.end()) {
      if (max_tx && out.size() == max_tx) break;
      position[m.tx_id] = out.size();
      out.push_back(ClientTransaction{m.tx_id, {}});
      it = position.find(m.tx_id);
    }
    out[it->second].mutations.push_back(std::move(m));
  }
  return out;
}

Result<int64_t> Store::PendingMutationCount() {
  Stmt q(impl_->db, "SELECT count(*) FROM _outpost_outbox WHERE checkpoint IS NULL");
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? sqlite3_column_int64(q.get(), 0) : 0;
}

Result<OutboxCounts> Store::CountOutbox() {
  Stmt q(impl_->db,
         "SELECT count(*) FILTER (WHERE checkpoint IS NULL),"
         "       count(DISTINCT tx_id) FILTER (WHERE checkpoint IS NULL),"
         "       count(*) FILTER (WHERE checkpoint IS NOT NULL),"
         "       count(DISTINCT tx_id) FILTER (WHERE checkpoint IS NOT NULL)"
         "  FROM _outpost_outbox");
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  OutboxCounts c;
  if (row) {
    c.unconfirmed_mutations = sqlite3_column_int64(q.get(), 0);
    c.unconfirmed_transactions = sqlite3_column_int64(q.get(), 1);
    c.confirmed_mutations = sqlite3_column_int64(q.get(), 2);
    c.confirmed_transactions = sqlite3_column_int64(q.get(), 3);
  }
  return c;
}

Status Store::MarkConfirmed(int64_t tx_id, int64_t checkpoint) {
  return impl_->InEngine([&]() -> Status {
    Stmt q(impl_->db, "UPDATE _outpost_outbox SET checkpoint = ? WHERE tx_id = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    sqlite3_bind_int64(q.get(), 1, checkpoint);
    sqlite3_bind_int64(q.get(), 2, tx_id);
    OUTPOST_RETURN_IF_ERROR(StepDone(q));
    if (sqlite3_changes64(impl_->db) == 0) {
      return Status(Code::kNotFound, "no outbox entry has tx id " + std::to_string(tx_id));
    }
    return Status::Ok();
  });
}

Result<int64_t> Store::DropConfirmedBefore(int64_t cursor_xid) {
  int64_t removed = 0;
  OUTPOST_RETURN_IF_ERROR(impl_->InEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->RecordHighWaterMarks());
    Stmt q(impl_->db,
           "DELETE FROM _outpost_outbox WHERE checkpoint IS NOT NULL AND checkpoint < ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    sqlite3_bind_int64(q.get(), 1, cursor_xid);
    OUTPOST_RETURN_IF_ERROR(StepDone(q));
    removed = sqlite3_changes64(impl_->db);
    return Status::Ok();
  }));
  return removed;
}

Result<std::vector<Mutation>> Store::RowMutations(std::string_view table,
                                                  std::string_view pk_json) {
  Stmt q(impl_->db, std::string(kMutationColumns) + "WHERE tbl = ? AND pk = ? ORDER BY seq");
  OUTPOST_RETURN_IF_ERROR(q.status());
  sqlite3_bind_text(q.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(q.get(), 2, pk_json.data(), static_cast<int>(pk_json.size()), SQLITE_TRANSIENT);
  return ReadMutations(q);
}

Result<std::vector<Mutation>> Store::OutboxMutations(std::string_view table) {
  Stmt q(impl_->db, std::string(kMutationColumns) +
                        (table.empty() ? "ORDER BY seq" : "WHERE tbl = ? ORDER BY seq"));
  OUTPOST_RETURN_IF_ERROR(q.status());
  if (!table.empty()) {
    sqlite3_bind_text(q.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
  }
  return ReadMutations(q);
}

Status Store::RewriteMutation(const Mutation& m) {
  return impl_->InEngine([&]() -> Status {
    json data = json::object();
    if (!m.new_values.empty()) data["new"] = m.new_values;
    if (!m.old_values.empty()) data["old"] = m.old_values;
    std::string pk = m.pk.dump();
    std::string text = data.dump();
    Stmt q(impl_->db, "UPDATE _outpost_outbox SET pk = ?, data = ? WHERE seq = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    sqlite3_bind_text(q.get(), 1, pk.data(), static_cast<int>(pk.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(q.get(), 2, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(q.get(), 3, m.seq);
    OUTPOST_RETURN_IF_ERROR(StepDone(q));
    if (sqlite3_changes64(impl_->db) == 0) {
      return Status(Code::kNotFound, "no outbox entry " + std::to_string(m.seq));
    }
    return Status::Ok();
  });
}

Status Store::RemoveTransaction(int64_t tx_id) {
  return impl_->InEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->RecordHighWaterMarks());
    Stmt q(impl_->db, "DELETE FROM _outpost_outbox WHERE tx_id = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    sqlite3_bind_int64(q.get(), 1, tx_id);
    return StepDone(q);
  });
}

Status Store::RemoveConfirmed(int64_t through_tx_id) {
  return impl_->InEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->RecordHighWaterMarks());
    Stmt del(impl_->db, "DELETE FROM _outpost_outbox WHERE tx_id <= ?");
    OUTPOST_RETURN_IF_ERROR(del.status());
    sqlite3_bind_int64(del.get(), 1, through_tx_id);
    return StepDone(del);
  });
}

// --- Parked rows -------------------------------------------------------------------------------

Result<int64_t> Store::ParkedCount() {
  Stmt q(impl_->db, "SELECT count(*) FROM _outpost_parked");
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? sqlite3_column_int64(q.get(), 0) : 0;
}

Status Store::DropParked(std::string_view table, std::string_view pk_json) {
  return impl_->InEngine([&]() -> Status {
    Stmt q(impl_->db, "DELETE FROM _outpost_parked WHERE tbl = ? AND pk = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    sqlite3_bind_text(q.get(), 1, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(q.get(), 2, pk_json.data(), static_cast<int>(pk_json.size()),
                      SQLITE_TRANSIENT);
    return StepDone(q);
  });
}

Status Store::ClearParked() {
  return impl_->InEngine([&]() -> Status { return impl_->Exec("DELETE FROM _outpost_parked"); });
}

Result<int64_t> Store::UnparkAll() {
  OUTPOST_ASSIGN_OR_RETURN(int64_t n, ParkedCount());
  if (n == 0) return n;
  EngineOptions options;
  options.foreign_keys = false;
  options.check_constraints = false;
  OUTPOST_RETURN_IF_ERROR(RunAsEngine(options, [&] { return impl_->RetryParked(); }));
  return n;
}

Result<int64_t> Store::Impl::ParkFkViolations() {
  if (!schema) return int64_t{0};
  int64_t parked = 0;
  // Removing a row can orphan its own children when foreign keys are off: repeat until clean.
  for (int round = 0; round < 64; ++round) {
    std::vector<std::pair<std::string, int64_t>> violators;
    {
      Stmt fk(db, "PRAGMA foreign_key_check");
      OUTPOST_RETURN_IF_ERROR(fk.status());
      while (true) {
        OUTPOST_ASSIGN_OR_RETURN(bool row, fk.Step());
        if (!row) break;
        if (sqlite3_column_type(fk.get(), 1) == SQLITE_NULL) {
          return Status(Code::kInternal,
                        "foreign key violation in \"" + fk.Text(0) + "\", which has no rowid");
        }
        violators.emplace_back(fk.Text(0), sqlite3_column_int64(fk.get(), 1));
      }
    }
    if (violators.empty()) return parked;
    std::sort(violators.begin(), violators.end());
    violators.erase(std::unique(violators.begin(), violators.end()), violators.end());
    for (const auto& [name, rowid] : violators) {
      size_t id = 0;
      while (id < schema->tables.size() && schema->tables[id].name != name) ++id;
      if (id == schema->tables.size()) {
        return Status(Code::kInternal, "foreign key violation in unmirrored table " + name);
      }
      const Table& t = schema->tables[id];
      std::string pk_cols, cols;
      for (const auto& k : t.primary_key) pk_cols += (pk_cols.empty() ? "" : ", ") + QuoteIdent(k);
      for (const auto& c : t.columns) cols += ", " + QuoteIdent(c.name);
      Stmt park(db, "INSERT OR REPLACE INTO _outpost_parked (tbl, pk, data) SELECT " +
                        QuoteLiteral(t.name) + ", outpost_pk_json(" + pk_cols +
                        "), outpost_insert_json(" + std::to_string(id) + cols + ") FROM " +
                        QuoteIdent(t.name) + " WHERE rowid = ?");
      OUTPOST_RETURN_IF_ERROR(park.status());
      sqlite3_bind_int64(park.get(), 1, rowid);
      OUTPOST_RETURN_IF_ERROR(StepDone(park));
      Stmt del(db, "DELETE FROM " + QuoteIdent(t.name) + " WHERE rowid = ?");
      OUTPOST_RETURN_IF_ERROR(del.status());
      sqlite3_bind_int64(del.get(), 1, rowid);
      OUTPOST_RETURN_IF_ERROR(StepDone(del));
      ++parked;
    }
  }
  return Status(Code::kInternal, "foreign key violations keep appearing while parking rows");
}

Status Store::Impl::RetryParked() {
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  {
    Stmt q(db, "SELECT tbl, pk, data FROM _outpost_parked");
    OUTPOST_RETURN_IF_ERROR(q.status());
    while (true) {
      OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      rows.emplace_back(q.Text(0), q.Text(1), q.Text(2));
    }
  }
  if (rows.empty()) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(Exec("DELETE FROM _outpost_parked"));
  for (const auto& [name, pk, text] : rows) {
    const Table* t = schema ? schema->FindTable(name) : nullptr;
    if (!t) continue;  // the table left the schema
    json data = json::parse(text, nullptr, false);
    if (data.is_discarded() || !data.contains("new") || !data["new"].is_object()) {
      return Status(Code::kCorruption, "parked row of " + name + " " + pk + " is unreadable");
    }
    std::string cols, marks;
    std::vector<Value> values;
    for (const auto& c : t->columns) {
      auto it = data["new"].find(c.name);
      if (it == data["new"].end()) continue;
      OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(*it));
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(c.name);
      marks += marks.empty() ? "?" : ", ?";
      values.push_back(std::move(v));
    }
    // A row whose key was taken again meanwhile (a newer server row) is stale: dropped.
    Stmt ins(db, "INSERT INTO " + QuoteIdent(name) + " (" + cols + ") VALUES (" + marks +
                     ") ON CONFLICT DO NOTHING");
    OUTPOST_RETURN_IF_ERROR(ins.status());
    for (size_t i = 0; i < values.size(); ++i) {
      OUTPOST_RETURN_IF_ERROR(BindValue(db, ins.get(), static_cast<int>(i + 1), values[i]));
    }
    OUTPOST_RETURN_IF_ERROR(StepDone(ins));
  }
  return Status::Ok();
}

// --- Metadata ------------------------------------------------------------------------------------

Result<std::optional<std::string>> Store::GetMeta(std::string_view key) {
  return impl_->GetMeta(key);
}

Status Store::SetMeta(std::string_view key, std::string_view value) {
  return impl_->SetMeta(key, value);
}

Status Store::DeleteMeta(std::string_view key) {
  Stmt q(impl_->db, "DELETE FROM _outpost_meta WHERE key = ?");
  OUTPOST_RETURN_IF_ERROR(q.status());
  sqlite3_bind_text(q.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  return StepDone(q);
}

}  // namespace outpost
