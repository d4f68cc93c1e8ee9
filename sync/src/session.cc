// SyncSession: pull pages, push answers, rebase, remaps, rejections (docs/sync-client.md).
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include "json_scan.h"
#include "outpost/mirror.h"
#include "outpost/sync.h"
#include "outpost/value.h"

namespace outpost {

using nlohmann::json;
using sync_internal::JsonScalar;
using sync_internal::JsonScanner;

namespace {

// Meta keys (_outpost_meta) owned by the session.
constexpr const char* kMetaClientId = "client_id";
constexpr const char* kMetaCursor = "cursor";
constexpr const char* kMetaBootstrapped = "bootstrapped";
constexpr const char* kMetaLastSync = "last_sync";
constexpr const char* kMetaLastError = "last_error";
// JSON array of {"table", "name", "sql", "key"}: indexes dropped for a bootstrap in progress,
// rebuilt by its last page (SetAsideIndexes).
constexpr const char* kMetaSetAsideIndexes = "bootstrap_set_aside_indexes";

constexpr size_t kMaxPushBody = 4 << 20;     // well under the server's 8 MiB limit
constexpr size_t kMaxPushMutations = 10000;  // the server's per-request limit

constexpr const char* kRejectionsDdl =
    "CREATE TABLE IF NOT EXISTS _outpost_rejections ("
    " id INTEGER PRIMARY KEY,"
    " tx_id INTEGER NOT NULL,"
    " code TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " rule TEXT NOT NULL,"
    " tbl TEXT NOT NULL,"
    " pk TEXT NOT NULL,"         // JSON array, or null
    " mutations TEXT NOT NULL,"  // JSON array of the refused mutations, as pushed
    " at TEXT NOT NULL) STRICT";

std::string IsoUtc(int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t ms = (micros / 1000) % 1000;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  // Civil from days (H. Hinnant).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[128];
  snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
           static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
           static_cast<long long>(rem / 3600), static_cast<long long>((rem / 60) % 60),
           static_cast<long long>(rem % 60), static_cast<long long>(ms));
  return buf;
}

Status SqliteError(sqlite3* db, int rc) {
  return SqliteStatus(rc, sqlite3_errmsg(db));
}

bool IsTextKind(TypeKind k) {
  return k != TypeKind::kInteger && k != TypeKind::kBoolean && k != TypeKind::kReal &&
         k != TypeKind::kBytea;
}

// The local value of one scanned JSON value for a column (docs/types.md).
Result<Value> ScalarToValue(const JsonScalar& v, TypeKind kind) {
  switch (v.kind) {
    case JsonScalar::Kind::kNull: return Value(Null{});
    case JsonScalar::Kind::kBool: return Value(v.i);
    case JsonScalar::Kind::kInt:
      if (kind == TypeKind::kReal) return Value(static_cast<double>(v.i));
      if (IsTextKind(kind)) return Value(std::string(v.text));
      return Value(v.i);
    case JsonScalar::Kind::kDouble:
      if (IsTextKind(kind)) return Value(std::string(v.text));
      return Value(v.d);
    case JsonScalar::Kind::kString:
      if (kind == TypeKind::kReal && (v.text == "Infinity" || v.text == "-Infinity")) {
        return Value(v.text[0] == '-' ? -HUGE_VAL : HUGE_VAL);
      }
      return Value(std::string(v.text));
    case JsonScalar::Kind::kBlob: {
      OUTPOST_ASSIGN_OR_RETURN(auto bytes, Base64Decode(v.text));
      return Value(Blob{std::move(bytes)});
    }
    case JsonScalar::Kind::kRaw: return Value(std::string(v.text));
  }
  return Status(Code::kInternal, "unknown scalar kind");
}

// Binds without copying where it can: text views stay valid until the statement is stepped.
Status BindScalar(sqlite3* db, sqlite3_stmt* stmt, int index, const JsonScalar& v, TypeKind kind,
                  std::vector<uint8_t>* blob_scratch) {
  int rc = SQLITE_OK;
  auto text = [&](std::string_view t) {
    return sqlite3_bind_text(stmt, index, t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
  };
  switch (v.kind) {
    case JsonScalar::Kind::kNull: rc = sqlite3_bind_null(stmt, index); break;
    case JsonScalar::Kind::kBool: rc = sqlite3_bind_int64(stmt, index, v.i); break;
    case JsonScalar::Kind::kInt:
      if (kind == TypeKind::kReal) {
        rc = sqlite3_bind_double(stmt, index, static_cast<double>(v.i));
      } else if (IsTextKind(kind)) {
        rc = text(v.text);
      } else {
        rc = sqlite3_bind_int64(stmt, index, v.i);
      }
      break;
    case JsonScalar::Kind::kDouble:
      rc = IsTextKind(kind) ? text(v.text) : sqlite3_bind_double(stmt, index, v.d);
      break;
    case JsonScalar::Kind::kString:
      if (kind == TypeKind::kReal && (v.text == "Infinity" || v.text == "-Infinity")) {
        rc = sqlite3_bind_double(stmt, index, v.text[0] == '-' ? -HUGE_VAL : HUGE_VAL);
      } else {
        rc = text(v.text);
      }
      break;
    case JsonScalar::Kind::kBlob: {
      OUTPOST_ASSIGN_OR_RETURN(*blob_scratch, Base64Decode(v.text));
      rc = blob_scratch->empty() ? sqlite3_bind_zeroblob(stmt, index, 0)
                                 : sqlite3_bind_blob64(stmt, index, blob_scratch->data(),
                                                       blob_scratch->size(), SQLITE_STATIC);
      break;
    }
    case JsonScalar::Kind::kRaw: rc = text(v.text); break;
  }
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(db, rc);
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// "c1", "c2": the primary key columns, quoted (an ON CONFLICT target, a GROUP BY).
std::string KeyColumns(const Table& t) {
  std::vector<std::string> parts;
  for (const auto& k : t.primary_key) parts.push_back(QuoteIdent(k));
  return Join(parts, ", ");
}

// The unique column sets of `t` besides its key that the mirror enforces with a plain index
// (UNIQUE constraints; unique indexes without a WHERE or expression keys), with the index's name.
std::vector<std::pair<std::string, std::vector<std::string>>> PlainUniqueSets(const Table& t) {
  std::vector<std::pair<std::string, std::vector<std::string>>> sets;
  for (const auto& uq : t.uniques) sets.emplace_back(uq.name, uq.columns);
  for (const auto& ix : t.indexes) {
    bool plain = ix.unique && !ix.where &&
                 std::none_of(ix.key_is_expression.begin(), ix.key_is_expression.end(),
                              [](bool e) { return e; });
    if (plain) sets.emplace_back(ix.name, ix.keys);
  }
  return sets;
}

// "c1" = ? AND "c2" = ? over the primary key.
std::string PkWhere(const Table& t) {
  std::vector<std::string> parts;
  for (const auto& k : t.primary_key) parts.push_back(QuoteIdent(k) + " = ?");
  return Join(parts, " AND ");
}

Result<int64_t> ParseInt64(const json& j, std::string_view what) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && errno == 0 && end == s.c_str() + s.size()) return static_cast<int64_t>(v);
  }
  return Status(Code::kMalformedRequest,
                "push answer: " + std::string(what) + " is not an integer");
}

std::string StringField(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::optional<int64_t> CursorWatermark(std::string_view cursor) {
  std::string b64(cursor);
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4) b64.push_back('=');
  auto bytes = Base64Decode(b64);
  if (!bytes.ok()) return std::nullopt;
  json doc = json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto it = doc.find("w");
  if (it == doc.end()) return std::nullopt;
  auto w = ParseInt64(*it, "w");
  if (!w.ok()) return std::nullopt;
  return *w;
}

// --- Impl ----------------------------------------------------------------------------------------

class SyncSession::Impl {
 public:
  Store* store = nullptr;
  sqlite3* db = nullptr;
  std::string client_id;
  std::string cursor;
  bool bootstrapped = false;
  bool needs_schema = false;

  // The page being received: lines since the last cursor line.
  struct Line {
    enum class Kind { kRows, kDeletes } kind = Kind::kRows;
    std::string text;
    std::string table;
    std::vector<std::string> columns;
    size_t array_begin = 0;  // offset of the "rows" / "keys" array in text
    // The array was not scanned yet: it must end with the object (checked by EndOfArray).
    bool array_is_last = false;
  };

  // After a line's array was applied: with array_is_last, only the object's '}' may follow.
  static Status EndOfArray(const Line& line, JsonScanner& sc) {
    if (!line.array_is_last) return Status::Ok();
    OUTPOST_RETURN_IF_ERROR(sc.Expect('}'));
    if (!sc.AtEnd()) {
      return sc.Error("the \"rows\" or \"keys\" array must end its line (text after it)");
    }
    return Status::Ok();
  }
  std::vector<Line> page;
  bool page_reset = false;
  bool saw_cursor = false;
  bool more = false;

  int64_t bootstrap_rows = 0;
  std::optional<int64_t> bootstrap_total;
  int64_t rows_received = 0;
  int64_t deletes_received = 0;
  int64_t pushed = 0;
  int64_t rejected = 0;
  int64_t bootstraps = 0;  // bootstraps completed since the session was opened
  std::vector<KeyRemap> remaps;

  // Prepared statements per (table, column list), for the current schema.
  struct Upsert {
    sqlite3_stmt* stmt = nullptr;
    const Table* table = nullptr;
    std::vector<TypeKind> kinds;    // per position in the line's columns
    std::vector<size_t> pk_pos;     // positions of the primary key columns
    std::vector<std::string> cols;  // the line's columns
  };
  std::map<std::string, Upsert> upserts;
  std::map<std::string, sqlite3_stmt*> deletes;

  // Indexes set aside during a bootstrap (see SetAsideIndexes).
  int64_t set_aside_index_rows = 0;
  std::set<std::string> keyless_tables;                 // key index set aside
  std::map<std::string, int64_t> bootstrap_table_rows;  // rows per table, this bootstrap

  // Per page: which rows may need a rebase or have a parked copy.
  struct PageContext {
    std::set<std::string> rebase_tables;
    bool parked = false;
  };

  ~Impl() {
    ClearStatements();
    // Store::Open would switch back too; this keeps the file usable by others meanwhile.
    if (store) (void)store->EndBulkLoad();
  }

  void ClearStatements() {
    for (auto& [k, u] : upserts) sqlite3_finalize(u.stmt);
    for (auto& [k, s] : deletes) sqlite3_finalize(s);
    upserts.clear();
    deletes.clear();
  }

  const Schema* schema() const { return store->schema(); }

  Status ForgetCursor() {
    OUTPOST_RETURN_IF_ERROR(store->DeleteMeta(kMetaCursor));
    OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaBootstrapped, "0"));
    cursor.clear();
    bootstrapped = false;
    return Status::Ok();
  }

  Status SchemaMismatch(const std::string& what) {
    needs_schema = true;
    return Status(Code::kSchemaMismatch, "pull answer: " + what + " (fetch /v1/schema)");
  }

  Result<Upsert*> GetUpsert(const std::string& table, const std::vector<std::string>& cols) {
    std::string key = table + '\x1f' + Join(cols, "\x1f");
    auto it = upserts.find(key);
    if (it != upserts.end()) return &it->second;
    const Table* t = schema() ? schema()->FindTable(table) : nullptr;
    if (!t) return SchemaMismatch("unknown table \"" + table + "\"");
    Upsert u;
    u.table = t;
    u.cols = cols;
    std::vector<std::string> quoted, marks, sets;
    for (const auto& c : cols) {
      const Column* col = t->FindColumn(c);
      if (!col) return SchemaMismatch("unknown column \"" + table + "." + c + "\"");
      u.kinds.push_back(col->type.kind);
      quoted.push_back(QuoteIdent(c));
      marks.push_back("?");
      bool in_pk =
          std::find(t->primary_key.begin(), t->primary_key.end(), c) != t->primary_key.end();
      if (!in_pk) sets.push_back(QuoteIdent(c) + " = excluded." + QuoteIdent(c));
    }
    for (const auto& k : t->primary_key) {
      auto pos = std::find(cols.begin(), cols.end(), k);
      if (pos == cols.end()) {
        return Status(Code::kMalformedRequest,
                      "pull answer: rows of \"" + table + "\" lack key column \"" + k + "\"");
      }
      u.pk_pos.push_back(static_cast<size_t>(pos - cols.begin()));
    }
    std::string sql = "INSERT INTO " + QuoteIdent(table) + " (" + Join(quoted, ", ") +
                      ") VALUES (" + Join(marks, ", ") + ")";
    if (!keyless_tables.count(table)) {
      sql += " ON CONFLICT (" + KeyColumns(*t) + ") DO " +
             (sets.empty() ? "NOTHING" : "UPDATE SET " + Join(sets, ", "));
    }
    int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &u.stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc);
    return &(upserts[key] = std::move(u));
  }

  Result<sqlite3_stmt*> GetDelete(const Table& t) {
    auto it = deletes.find(t.name);
    if (it != deletes.end()) return it->second;
    std::string sql = "DELETE FROM " + QuoteIdent(t.name) + " WHERE " + PkWhere(t);
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc);
    deletes[t.name] = stmt;
    return stmt;
  }

  // --- Applying local mutations on top of server state ------------------------------------------

  // Runs `sql` under a savepoint: a mutation that no longer fits (a constraint fails against the
  // new server state) is skipped; the server will refuse it on push and the rejection restores
  // server state.
  Status ApplyGuarded(const std::string& sql, const json& params) {
    OUTPOST_RETURN_IF_ERROR(store->Execute("SAVEPOINT outpost_rebase").status());
    auto r = store->Execute(sql, params);
    if (r.ok()) return store->Execute("RELEASE outpost_rebase").status();
    OUTPOST_RETURN_IF_ERROR(
        store->Execute("ROLLBACK TO outpost_rebase; RELEASE outpost_rebase").status());
    if (r.status().code() == Code::kConstraint) return Status::Ok();
    return r.status();
  }

  // Writes `values` (column -> JSON value) as the row's content, inserting it if absent.
  Status UpsertJson(const Table& t, const json& values, bool guarded) {
    std::vector<std::string> cols, marks, sets;
    json params = json::array();
    for (const auto& c : t.columns) {
      auto it = values.find(c.name);
      if (it == values.end()) continue;
      cols.push_back(QuoteIdent(c.name));
      marks.push_back("?");
      params.push_back(*it);
      if (std::find(t.primary_key.begin(), t.primary_key.end(), c.name) == t.primary_key.end()) {
        sets.push_back(QuoteIdent(c.name) + " = excluded." + QuoteIdent(c.name));
      }
    }
    if (cols.empty()) return Status::Ok();
    std::string sql = "INSERT INTO " + QuoteIdent(t.name) + " (" + Join(cols, ", ") + ") VALUES (" +
                      Join(marks, ", ") + ") ON CONFLICT (" + KeyColumns(t) + ") DO " +
                      (sets.empty() ? "NOTHING" : "UPDATE SET " + Join(sets, ", "));
    if (guarded) return ApplyGuarded(sql, params);
    return store->Execute(sql, params).status();
  }

  Status DeleteJsonKey(const Table& t, const json& pk) {
    if (!pk.is_array() || pk.size() != t.primary_key.size()) {
      return Status(Code::kMalformedRequest, "a key of \"" + t.name + "\" has the wrong arity");
    }
    return store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " + PkWhere(t), pk)
        .status();
  }

  // Re-applies one outbox mutation on the current local state (rebase): insert -> the row takes
  // its values; update -> its new values if the row exists; delete -> the row is absent.
  Status Reapply(const Mutation& m) {
    const Table* t = schema() ? schema()->FindTable(m.table) : nullptr;
    if (!t) return Status::Ok();  // the table left the schema
    switch (m.op) {
      case Mutation::Op::kInsert: return UpsertJson(*t, m.new_values, /*guarded=*/true);
      case Mutation::Op::kUpdate: {
        if (!m.pk.is_array() || m.pk.size() != t->primary_key.size()) return Status::Ok();
        std::vector<std::string> sets;
        json params = json::array();
        for (const auto& [col, value] : m.new_values.items()) {
          if (!t->FindColumn(col)) continue;
          sets.push_back(QuoteIdent(col) + " = ?");
          params.push_back(value);
        }
        if (sets.empty()) return Status::Ok();
        for (const auto& k : m.pk) params.push_back(k);
        return ApplyGuarded(
            "UPDATE " + QuoteIdent(t->name) + " SET " + Join(sets, ", ") + " WHERE " + PkWhere(*t),
            params);
      }
      case Mutation::Op::kDelete: {
        if (!m.pk.is_array() || m.pk.size() != t->primary_key.size()) return Status::Ok();
        return ApplyGuarded("DELETE FROM " + QuoteIdent(t->name) + " WHERE " + PkWhere(*t), m.pk);
      }
    }
    return Status::Ok();
  }

  Status Rebase(const std::string& table, const std::string& pk_json) {
    OUTPOST_ASSIGN_OR_RETURN(auto muts, store->RowMutations(table, pk_json));
    for (const auto& m : muts) OUTPOST_RETURN_IF_ERROR(Reapply(m));
    return Status::Ok();
  }

  // After a server row (or deletion) of table/pk was applied.
  Status AfterServerRow(const PageContext& ctx, const Table& t, const std::vector<Value>& key) {
    std::string pk_json = PkJson(key);
    if (ctx.parked) OUTPOST_RETURN_IF_ERROR(store->DropParked(t.name, pk_json));
    if (ctx.rebase_tables.count(t.name)) OUTPOST_RETURN_IF_ERROR(Rebase(t.name, pk_json));
    return Status::Ok();
  }

  // A unique constraint other than the key refused a server row: local rows holding the same
  // unique values are stale (the server's current rows cannot collide) and are removed; their
  // new versions come in this catch-up.
  Result<bool> ClearUniqueConflicts(const Upsert& u, const std::vector<JsonScalar>& vals) {
    const Table& t = *u.table;
    // "k1" IS ? AND "k2" IS ? for the row's key, its values appended to `params`.
    auto key_is = [&](json* params) -> Result<std::string> {
      std::vector<std::string> conds;
      for (size_t k = 0; k < t.primary_key.size(); ++k) {
        size_t i = u.pk_pos[k];
        OUTPOST_ASSIGN_OR_RETURN(Value v, ScalarToValue(vals[i], u.kinds[i]));
        conds.push_back(QuoteIdent(t.primary_key[k]) + " IS ?");
        params->push_back(ValueJson(v));
      }
      return Join(conds, " AND ");
    };
    bool any = false;
    if (keyless_tables.count(t.name)) {
      // No key index: an earlier copy of this very row (sent twice) is what collides.
      json params = json::array();
      OUTPOST_ASSIGN_OR_RETURN(std::string same, key_is(&params));
      OUTPOST_ASSIGN_OR_RETURN(
          auto r, store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " + same, params));
      any = r.changes > 0;
    }
    for (const auto& [name, cols] : PlainUniqueSets(t)) {
      std::vector<std::string> conds;
      json params = json::array();
      bool complete = true;
      for (const auto& c : cols) {
        auto pos = std::find(u.cols.begin(), u.cols.end(), c);
        if (pos == u.cols.end()) {
          complete = false;
          break;
        }
        size_t i = static_cast<size_t>(pos - u.cols.begin());
        OUTPOST_ASSIGN_OR_RETURN(Value v, ScalarToValue(vals[i], u.kinds[i]));
        conds.push_back(QuoteIdent(c) + " IS ?");
        params.push_back(ValueJson(v));
      }
      if (!complete) continue;
      OUTPOST_ASSIGN_OR_RETURN(std::string same, key_is(&params));
      OUTPOST_ASSIGN_OR_RETURN(auto r,
                               store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " +
                                                  Join(conds, " AND ") + " AND NOT (" + same + ")",
                                              params));
      any = any || r.changes > 0;
    }
    return any;
  }

  static json ValueJson(const Value& v) {
    switch (v.index()) {
      case 0: return nullptr;
      case 1: return std::get<int64_t>(v);
      case 2: return std::get<double>(v);
      case 3: return std::get<std::string>(v);
      default: {
        const auto& b = std::get<Blob>(v).bytes;
        return json{{"$blob", Base64Encode(b.data(), b.size())}};
      }
    }
  }

  // --- Pull ------------------------------------------------------------------------------------

  // Walks a line's array of tuples (rows or keys) of kinds.size() values each: scans and binds
  // every value into `stmt` (which `each` then steps), and checks the array's end (EndOfArray).
  // `vals` holds the tuple's scanned values while `each` runs. Returns the number of tuples.
  template <typename Each>
  Result<int64_t> ForEachTuple(const Line& line, sqlite3_stmt* stmt,
                               const std::vector<TypeKind>& kinds, std::vector<JsonScalar>& vals,
                               const char* too_long, Each&& each) {
    const size_t n = kinds.size();
    vals.assign(n, JsonScalar{});
    std::vector<std::string> scratch(n);
    std::vector<std::vector<uint8_t>> blobs(n);
    JsonScanner sc(line.text, line.array_begin);
    OUTPOST_RETURN_IF_ERROR(sc.Expect('['));
    int64_t count = 0;
    if (!sc.Consume(']')) {
      do {
        OUTPOST_RETURN_IF_ERROR(sc.Expect('['));
        for (size_t i = 0; i < n; ++i) {
          if (i) OUTPOST_RETURN_IF_ERROR(sc.Expect(','));
          OUTPOST_RETURN_IF_ERROR(sc.Scalar(&vals[i], &scratch[i]));
          OUTPOST_RETURN_IF_ERROR(
              BindScalar(db, stmt, static_cast<int>(i + 1), vals[i], kinds[i], &blobs[i]));
        }
        if (!sc.Consume(']')) return sc.Error(too_long);
        OUTPOST_RETURN_IF_ERROR(each());
        ++count;
      } while (sc.Consume(','));
      OUTPOST_RETURN_IF_ERROR(sc.Expect(']'));
    }
    OUTPOST_RETURN_IF_ERROR(EndOfArray(line, sc));
    sqlite3_clear_bindings(stmt);
    return count;
  }

  // The key of the tuple in `vals` (positions `pk_pos`), as values.
  static Result<std::vector<Value>> TupleKey(const std::vector<JsonScalar>& vals,
                                             const std::vector<TypeKind>& kinds,
                                             const std::vector<size_t>& pk_pos) {
    std::vector<Value> key;
    for (size_t p : pk_pos) {
      OUTPOST_ASSIGN_OR_RETURN(Value v, ScalarToValue(vals[p], kinds[p]));
      key.push_back(std::move(v));
    }
    return key;
  }

  Result<int64_t> ApplyRows(const Line& line, const PageContext& ctx) {
    OUTPOST_ASSIGN_OR_RETURN(Upsert * u, GetUpsert(line.table, line.columns));
    const bool track = ctx.parked || ctx.rebase_tables.count(line.table) > 0;
    std::vector<JsonScalar> vals;
    return ForEachTuple(
        line, u->stmt, u->kinds, vals, "a row has more values than columns", [&]() -> Status {
          int rc = sqlite3_step(u->stmt);
          if (rc == SQLITE_CONSTRAINT_UNIQUE) {
            sqlite3_reset(u->stmt);
            OUTPOST_ASSIGN_OR_RETURN(bool cleared, ClearUniqueConflicts(*u, vals));
            if (cleared) rc = sqlite3_step(u->stmt);
          }
          if (rc != SQLITE_DONE) {
            Status error = SqliteError(db, rc);  // before the reset, which may change the message
            sqlite3_reset(u->stmt);
            return error.WithContext("applying a row of \"" + line.table + "\"");
          }
          sqlite3_reset(u->stmt);
          if (!track) return Status::Ok();
          OUTPOST_ASSIGN_OR_RETURN(auto key, TupleKey(vals, u->kinds, u->pk_pos));
          return AfterServerRow(ctx, *u->table, key);
        });
  }

  Result<int64_t> ApplyDeletes(const Line& line, const PageContext& ctx) {
    const Table* t = schema() ? schema()->FindTable(line.table) : nullptr;
    if (!t) return SchemaMismatch("unknown table \"" + line.table + "\"");
    OUTPOST_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, GetDelete(*t));
    std::vector<TypeKind> kinds;
    std::vector<size_t> positions;
    for (const auto& k : t->primary_key) {
      positions.push_back(kinds.size());
      kinds.push_back(t->FindColumn(k)->type.kind);
    }
    std::vector<JsonScalar> vals;
    return ForEachTuple(
        line, stmt, kinds, vals, "a key has more values than the primary key", [&]() -> Status {
          int rc = sqlite3_step(stmt);
          sqlite3_reset(stmt);
          if (rc != SQLITE_DONE) {
            return SqliteError(db, rc).WithContext("deleting a row of \"" + line.table + "\"");
          }
          OUTPOST_ASSIGN_OR_RETURN(auto key, TupleKey(vals, kinds, positions));
          return AfterServerRow(ctx, *t, key);
        });
  }

  // --- Indexes set aside during a bootstrap -----------------------------------------------------
  //
  // A bootstrap arrives in the server's order (physical order for big tables), which is random for
  // the key and for secondary indexes: once an index outgrows the page cache every row costs
  // random page reads and writes per index (a 1M-row table loaded 5x slower). So once this
  // bootstrap has brought `set_aside_index_rows` rows of a table, the table's key index
  // (KeyIndexName), its non-unique indexes and its plain unique indexes (column lists, no WHERE)
  // are set aside: dropped, their SQL kept in _outpost_meta. The last bootstrap page rebuilds
  // them by sorting, key indexes first, each after removing the rows it would refuse:
  //  - for a key: rows sent twice (a table the server restarted after a rewrite), the later copy
  //    (higher rowid) kept;
  //  - for another unique index: rows colliding on it, as ClearUniqueConflicts resolves them when
  //    the index is in place. A server row beats a row the app wrote meanwhile (its key in the
  //    outbox: the reapplication of the outbox that follows the rebuild brings it back, and it
  //    is refused there as any offline write colliding with a server row), and among server rows
  //    the later one (higher rowid) wins. An earlier server row can only collide with a later
  //    one if it changed after its page was read, so after the bootstrap began: the first
  //    incremental pull sends its current version again.
  // Unique indexes on expressions or with a WHERE stay in place. Set-aside and rebuild share
  // their page's transaction, so a crash leaves either the indexes or their record.
  //
  // Meanwhile such a table has no key: bootstrap rows are plain INSERTs, the app's lookups by key
  // scan the table, and writes to the table or to tables whose foreign keys reference it fail
  // ("foreign key mismatch") until the bootstrap ends.

  Result<json> SetAsideRecord() {
    OUTPOST_ASSIGN_OR_RETURN(auto recorded, store->GetMeta(kMetaSetAsideIndexes));
    if (!recorded) return json::array();
    json set_aside = json::parse(*recorded, nullptr, false);
    bool ok = set_aside.is_array();
    for (const auto& ix : set_aside) {
      ok = ok && ix.is_object() && ix.contains("table") && ix["table"].is_string() &&
           ix.contains("name") && ix["name"].is_string() && ix.contains("sql") &&
           ix["sql"].is_string() && ix.contains("key") && ix["key"].is_boolean();
    }
    if (!ok) {
      return Status(Code::kCorruption, "_outpost_meta." + std::string(kMetaSetAsideIndexes) +
                                           " is not an array of {table, name, sql, key}");
    }
    return set_aside;
  }

  // Forgets the prepared upserts of `table` (their ON CONFLICT target comes and goes).
  void ForgetUpserts(const std::string& table) {
    for (auto it = upserts.begin(); it != upserts.end();) {
      if (it->second.table->name == table) {
        sqlite3_finalize(it->second.stmt);
        it = upserts.erase(it);
      } else {
        ++it;
      }
    }
  }

  static constexpr int64_t kRebuildCacheKib = 4096;  // page cache (and sort run) while rebuilding
  static constexpr int kRebuildSortThreads = 2;      // SQLite sorter helper threads

  Status SetAsideIndexes(const Table& t) {
    if (keyless_tables.count(t.name)) return Status::Ok();
    OUTPOST_ASSIGN_OR_RETURN(json set_aside, SetAsideRecord());
    const std::string key_index = KeyIndexName(t);
    // A plain unique index has neither a WHERE nor expression keys (pragma_index_info: cid -2).
    OUTPOST_ASSIGN_OR_RETURN(
        auto r,
        store->Execute("SELECT il.name, m.sql FROM pragma_index_list(?1) AS il JOIN sqlite_schema "
                       "AS m ON m.type = 'index' AND m.name = il.name WHERE m.sql IS NOT NULL AND "
                       "(il.\"unique\" = 0 OR il.name = ?2 OR (il.partial = 0 AND NOT EXISTS "
                       "(SELECT 1 FROM pragma_index_info(il.name) WHERE cid < 0)))",
                       json::array({t.name, key_index})));
    bool has_key = false;
    for (const auto& row : r.rows) {
      const std::string name = row[0].get<std::string>();
      has_key = has_key || name == key_index;
      set_aside.push_back(
          {{"table", t.name}, {"name", name}, {"sql", row[1]}, {"key", name == key_index}});
    }
    // Without its key index the table is not touched (a mirror from before key indexes).
    if (!has_key) return Status::Ok();
    ForgetUpserts(t.name);
    for (const auto& row : r.rows) {
      OUTPOST_RETURN_IF_ERROR(
          store->Execute("DROP INDEX " + QuoteIdent(row[0].get<std::string>())).status());
    }
    OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaSetAsideIndexes, set_aside.dump()));
    keyless_tables.insert(t.name);
    return Status::Ok();
  }

  // Rebuilds what SetAsideIndexes dropped, key indexes first. An index whose table left the
  // schema, or that a schema migration has re-created, is skipped.
  Status RestoreIndexes() {
    OUTPOST_ASSIGN_OR_RETURN(json set_aside, SetAsideRecord());
    if (set_aside.empty()) return Status::Ok();
    // An index build reads its table once in order and appends to the new index: it needs few
    // cached pages. It sorts in runs the size of the page cache, each on top of the cache, and
    // small runs sort faster (they fit the CPU caches; a 1M-row key index builds about 2x faster
    // with 4 MiB runs than with 16 MiB ones). With helper threads (native builds; the browser's
    // has none and ignores the pragma) runs are sorted and merged while the table is read.
    OUTPOST_ASSIGN_OR_RETURN(auto cache, store->Execute("PRAGMA cache_size"));
    const int64_t cache_size = cache.rows[0][0].get<int64_t>();
    OUTPOST_ASSIGN_OR_RETURN(auto threads, store->Execute("PRAGMA threads"));
    const int64_t helper_threads = threads.rows[0][0].get<int64_t>();
    OUTPOST_RETURN_IF_ERROR(
        store->Execute("PRAGMA cache_size = -" + std::to_string(kRebuildCacheKib)).status());
    OUTPOST_RETURN_IF_ERROR(
        store->Execute("PRAGMA threads = " + std::to_string(kRebuildSortThreads)).status());
    Status s = RebuildSetAside(set_aside);
    Status restored = store
                          ->Execute("PRAGMA cache_size = " + std::to_string(cache_size) +
                                    "; PRAGMA threads = " + std::to_string(helper_threads))
                          .status();
    OUTPOST_RETURN_IF_ERROR(s);
    OUTPOST_RETURN_IF_ERROR(restored);
    return store->DeleteMeta(kMetaSetAsideIndexes);
  }

  // Deletes the rows of `t` that collide on the unique column list `columns`, keeping one per
  // value (see above): a row of the server's before one whose key the outbox holds, then the
  // highest rowid. NULLs never collide (SQLite's and PostgreSQL's unique semantics); the values
  // are grouped with the columns' collations, as the index compares them.
  Status RemoveUniqueCollisions(const Table& t, const std::vector<std::string>& columns) {
    std::vector<std::string> cols, not_null, key;
    for (const auto& c : columns) {
      cols.push_back(QuoteIdent(c));
      not_null.push_back(QuoteIdent(c) + " IS NOT NULL");
    }
    for (const auto& k : t.primary_key) key.push_back(QuoteIdent(k));
    const std::string q = QuoteIdent(t.name);
    return store
        ->Execute("DELETE FROM " + q +
                      " WHERE _rowid_ IN (SELECT id FROM (SELECT _rowid_ AS id, "
                      "row_number() OVER (PARTITION BY " +
                      Join(cols, ", ") +
                      " ORDER BY NOT EXISTS (SELECT 1 FROM _outpost_outbox o WHERE o.tbl = ? "
                      "AND o.pk = outpost_pk_json(" +
                      Join(key, ", ") + ")) DESC, _rowid_ DESC) AS n FROM " + q + " WHERE " +
                      Join(not_null, " AND ") + ") WHERE n > 1)",
                  json::array({t.name}))
        .status();
  }

  Status RebuildSetAside(const json& set_aside) {
    for (bool keys : {true, false}) {
      for (const auto& ix : set_aside) {
        if (ix["key"].get<bool>() != keys) continue;
        const std::string table = ix["table"].get<std::string>();
        OUTPOST_ASSIGN_OR_RETURN(
            auto present,
            store->Execute("SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                           "name = ?), (SELECT count(*) FROM sqlite_schema WHERE name = ?)",
                           json::array({table, ix["name"]})));
        if (present.rows[0][0].get<int64_t>() == 0 || present.rows[0][1].get<int64_t>() != 0) {
          continue;
        }
        const std::string sql = ix["sql"].get<std::string>();
        auto built = store->Execute(sql);
        const Table* t = schema()->FindTable(table);
        if (!built.ok() && keys && built.status().code() == Code::kConstraint && t) {
          // Rows sent twice: the later copy (higher rowid) is the one to keep.
          OUTPOST_RETURN_IF_ERROR(store
                                      ->Execute("DELETE FROM " + QuoteIdent(table) +
                                                " WHERE _rowid_ NOT IN (SELECT max(_rowid_) FROM " +
                                                QuoteIdent(table) + " GROUP BY " + KeyColumns(*t) +
                                                ")")
                                      .status());
          built = store->Execute(sql);
        } else if (!built.ok() && !keys && built.status().code() == Code::kConstraint && t) {
          for (const auto& [name, cols] : PlainUniqueSets(*t)) {
            if (name != ix["name"]) continue;
            OUTPOST_RETURN_IF_ERROR(RemoveUniqueCollisions(*t, cols));
            built = store->Execute(sql);
          }
        }
        OUTPOST_RETURN_IF_ERROR(
            built.status().WithContext("rebuilding index " + ix["name"].get<std::string>()));
      }
    }
    for (const auto& table : keyless_tables) ForgetUpserts(table);
    keyless_tables.clear();
    return Status::Ok();
  }

  Status ApplyPage(const std::string& new_cursor, bool cursor_bootstrap) {
    if (!schema() || needs_schema) {
      return Status(Code::kSchemaMismatch, "no schema mirrored: fetch /v1/schema first");
    }
    const bool bootstrapping = page_reset || !bootstrapped;
    const bool finishing = bootstrapping && !cursor_bootstrap;
    EngineOptions options;
    options.check_constraints = false;  // PostgreSQL checked these rows
    // Not fsynced: a page lost to an OS crash takes its cursor with it (same transaction), so it
    // is pulled again. The app's own writes stay durable, and their fsync also covers every
    // earlier commit in the WAL.
    options.durable = false;
    if (bootstrapping) {
      // Parents come before children and nothing is deleted: no checks. Rows may reference rows
      // outside the client's view (another tenant's user): they are kept as the server sent
      // them, with a dangling reference.
      options.foreign_keys = false;
    } else {
      options.defer_foreign_keys = true;
      options.park_fk_violations = true;
    }
    if (bootstrapping && !store->bulk_loading()) {
      // Pages written once instead of twice (Store::BeginBulkLoad); ended with the bootstrap, a
      // cut pull (FinishPull) or the round (RecordSyncResult). Refused (another connection has
      // the file open): WAL it is.
      OUTPOST_RETURN_IF_ERROR(store->BeginBulkLoad().status());
    }
    int64_t rows = 0, dels = 0;
    Status s = store->RunAsEngine(options, [&]() -> Status {
      if (page_reset) {
        bootstrap_table_rows.clear();
        const auto& tables = schema()->tables;
        for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
          OUTPOST_RETURN_IF_ERROR(store->Execute("DELETE FROM " + QuoteIdent(it->name)).status());
        }
        OUTPOST_RETURN_IF_ERROR(store->ClearParked());
      }
      // Confirmed writes below the new watermark are in the rows served from now on.
      if (auto w = CursorWatermark(new_cursor)) {
        OUTPOST_RETURN_IF_ERROR(store->DropConfirmedBefore(*w).status());
      }
      PageContext ctx;
      OUTPOST_ASSIGN_OR_RETURN(auto counts, store->CountOutbox());
      if (counts.unconfirmed_mutations + counts.confirmed_mutations > 0) {
        OUTPOST_ASSIGN_OR_RETURN(auto r,
                                 store->Execute("SELECT DISTINCT tbl FROM _outpost_outbox"));
        for (const auto& row : r.rows) ctx.rebase_tables.insert(row[0].get<std::string>());
      }
      OUTPOST_ASSIGN_OR_RETURN(int64_t parked, store->ParkedCount());
      ctx.parked = parked > 0;
      for (const auto& line : page) {
        if (line.kind == Line::Kind::kRows) {
          if (bootstrapping && bootstrap_table_rows[line.table] >= set_aside_index_rows) {
            if (const Table* t = schema()->FindTable(line.table)) {
              OUTPOST_RETURN_IF_ERROR(SetAsideIndexes(*t));
            }
          }
          OUTPOST_ASSIGN_OR_RETURN(int64_t n, ApplyRows(line, ctx));
          if (bootstrapping) bootstrap_table_rows[line.table] += n;
          rows += n;
        } else {
          OUTPOST_ASSIGN_OR_RETURN(int64_t n, ApplyDeletes(line, ctx));
          dels += n;
        }
      }
      if (finishing) {
        OUTPOST_RETURN_IF_ERROR(RestoreIndexes());
        // Offline writes the server has not seen yet (they were wiped by the reset).
        OUTPOST_ASSIGN_OR_RETURN(auto all, store->OutboxMutations());
        for (const auto& m : all) OUTPOST_RETURN_IF_ERROR(Reapply(m));
      }
      OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaCursor, new_cursor));
      return store->SetMeta(kMetaBootstrapped, bootstrapping && !finishing ? "0" : "1");
    });
    if (!s.ok()) return s;
    if (finishing) OUTPOST_RETURN_IF_ERROR(store->EndBulkLoad());
    cursor = new_cursor;
    if (page_reset) bootstrap_rows = 0;
    if (bootstrapping) bootstrap_rows += rows;
    bootstrapped = !bootstrapping || finishing;
    if (finishing) ++bootstraps;
    rows_received += rows;
    deletes_received += dels;
    return Status::Ok();
  }

  // --- Push answers ----------------------------------------------------------------------------

  json WireValue(const Table* t, const std::string& col, const json& v) {
    if (t && v.is_number_integer()) {
      const Column* c = t->FindColumn(col);
      if (c && c->type.kind == TypeKind::kBoolean) {
        int64_t i = v.get<int64_t>();
        if (i == 0 || i == 1) return i == 1;
      }
    }
    return v;
  }

  json WireObject(const Table* t, const json& obj) {
    json out = json::object();
    for (const auto& [k, v] : obj.items()) out[k] = WireValue(t, k, v);
    return out;
  }

  json WireMutation(const Mutation& m) {
    const Table* t = schema() ? schema()->FindTable(m.table) : nullptr;
    static const char* kOps[] = {"insert", "update", "delete"};
    const char* op = m.op == Mutation::Op::kInsert   ? kOps[0]
                     : m.op == Mutation::Op::kUpdate ? kOps[1]
                                                     : kOps[2];
    json pk = json::array();
    for (size_t i = 0; i < m.pk.size(); ++i) {
      std::string col = t && i < t->primary_key.size() ? t->primary_key[i] : "";
      pk.push_back(WireValue(t, col, m.pk[i]));
    }
    json out{{"op", op}, {"table", m.table}, {"pk", pk}, {"hlc", std::to_string(m.hlc)}};
    if (m.op != Mutation::Op::kDelete) out["new"] = WireObject(t, m.new_values);
    if (m.op != Mutation::Op::kInsert) out["old"] = WireObject(t, m.old_values);
    return out;
  }

  // The positions of `fk`'s columns in `t`'s primary key, when `fk` references `t` by key
  // columns only (its whole key, or a unique subset of it); empty otherwise.
  static std::vector<size_t> KeyPositions(const Table& t, const ForeignKey& fk) {
    std::vector<size_t> positions;
    if (fk.ref_table != t.name || fk.ref_columns.size() != fk.columns.size()) return {};
    for (const auto& rc : fk.ref_columns) {
      auto k = std::find(t.primary_key.begin(), t.primary_key.end(), rc);
      if (k == t.primary_key.end()) return {};
      positions.push_back(static_cast<size_t>(k - t.primary_key.begin()));
    }
    return positions;
  }

  // A remap {"table", "from": key, "to": key}: the server replaced the temporary values of the
  // key's server-assigned columns (Table::IsServerKeyColumn); the key's other columns are the same
  // in both. Renames the row, the foreign keys that reference it and every outbox entry naming it.
  Status ApplyRemap(const json& remap, std::vector<KeyRemap>* out) {
    std::string table = StringField(remap, "table");
    const Table* t = schema() ? schema()->FindTable(table) : nullptr;
    const size_t arity = t ? t->primary_key.size() : 0;
    bool usable = t && remap.contains("from") && remap.contains("to") && remap["from"].is_array() &&
                  remap["to"].is_array() && remap["from"].size() == arity &&
                  remap["to"].size() == arity;
    // The positions renamed: temporary values (negative) of server-assigned columns.
    std::vector<bool> renamed(arity, false);
    bool any = false;
    for (size_t i = 0; usable && i < arity; ++i) {
      const json& f = remap["from"][i];
      const json& to = remap["to"][i];
      if (f == to) continue;
      usable = t->IsServerKeyColumn(t->primary_key[i]) && f.is_number_integer() &&
               f.get<int64_t>() < 0 && to.is_number_integer();
      renamed[i] = any = true;
    }
    if (!usable || !any) {
      return Status(Code::kMalformedRequest, "push answer: unusable remap " + remap.dump());
    }
    const json& from = remap["from"];
    const json& to = remap["to"];
    // Children first (their foreign keys are deferred), then the row itself.
    for (const auto& child : schema()->tables) {
      for (const auto& fk : child.foreign_keys) {
        std::vector<size_t> pos = KeyPositions(*t, fk);
        if (std::none_of(pos.begin(), pos.end(), [&](size_t p) { return renamed[p]; })) continue;
        std::vector<std::string> sets, conds;
        json params = json::array();
        for (size_t k = 0; k < pos.size(); ++k) {
          if (!renamed[pos[k]]) continue;
          sets.push_back(QuoteIdent(fk.columns[k]) + " = ?");
          params.push_back(to[pos[k]]);
        }
        for (size_t k = 0; k < pos.size(); ++k) {
          conds.push_back(QuoteIdent(fk.columns[k]) + " = ?");
          params.push_back(from[pos[k]]);
        }
        OUTPOST_RETURN_IF_ERROR(store
                                    ->Execute("UPDATE " + QuoteIdent(child.name) + " SET " +
                                                  Join(sets, ", ") + " WHERE " +
                                                  Join(conds, " AND "),
                                              params)
                                    .status());
      }
    }
    const std::string where = " WHERE " + PkWhere(*t);
    OUTPOST_ASSIGN_OR_RETURN(auto exists,
                             store->Execute("SELECT 1 FROM " + QuoteIdent(t->name) + where, to));
    if (exists.rows.empty()) {
      std::vector<std::string> sets;
      json params = json::array();
      for (size_t i = 0; i < arity; ++i) {
        if (!renamed[i]) continue;
        sets.push_back(QuoteIdent(t->primary_key[i]) + " = ?");
        params.push_back(to[i]);
      }
      for (const auto& v : from) params.push_back(v);
      OUTPOST_RETURN_IF_ERROR(
          store
              ->Execute("UPDATE " + QuoteIdent(t->name) + " SET " + Join(sets, ", ") + where,
                        params)
              .status());
    } else {
      // The server row already arrived by a pull: the temporary copy goes.
      OUTPOST_RETURN_IF_ERROR(
          store->Execute("DELETE FROM " + QuoteIdent(t->name) + where, from).status());
    }
    // Every outbox entry naming a temporary value, in its key or a foreign key column. The
    // temporary values are unique in the store, so a match is always this row.
    OUTPOST_ASSIGN_OR_RETURN(auto all, store->OutboxMutations());
    for (auto& m : all) {
      const Table* mt = schema()->FindTable(m.table);
      if (!mt) continue;
      bool changed = false;
      // Column `col` of `mt` that holds key position `p` of the remapped row.
      auto fix = [&](const std::string& col, size_t p) {
        for (json* obj : {&m.new_values, &m.old_values}) {
          auto it = obj->find(col);
          if (it != obj->end() && *it == from[p]) {
            *it = to[p];
            changed = true;
          }
        }
        for (size_t i = 0; i < mt->primary_key.size() && i < m.pk.size(); ++i) {
          if (mt->primary_key[i] == col && m.pk[i] == from[p]) {
            m.pk[i] = to[p];
            changed = true;
          }
        }
      };
      if (mt->name == t->name) {
        for (size_t i = 0; i < arity; ++i) {
          if (renamed[i]) fix(t->primary_key[i], i);
        }
      }
      for (const auto& fk : mt->foreign_keys) {
        std::vector<size_t> pos = KeyPositions(*t, fk);
        for (size_t k = 0; k < pos.size(); ++k) {
          if (renamed[pos[k]]) fix(fk.columns[k], pos[k]);
        }
      }
      if (changed) OUTPOST_RETURN_IF_ERROR(store->RewriteMutation(m));
    }
    out->push_back(KeyRemap{t->name, from, to});
    return Status::Ok();
  }

  Status HandleRejection(int64_t tx_id, const json& error, int64_t now_micros) {
    OUTPOST_ASSIGN_OR_RETURN(auto all, store->OutboxMutations());
    json mutations = json::array();
    std::vector<Mutation> refused;
    for (auto& m : all) {
      if (m.tx_id != tx_id) continue;
      mutations.push_back(WireMutation(m));
      refused.push_back(std::move(m));
    }
    if (mutations.empty()) return Status::Ok();  // handled by an earlier answer
    OUTPOST_RETURN_IF_ERROR(store->RemoveTransaction(tx_id));
    json pk = error.is_object() && error.contains("pk") ? error["pk"] : json(nullptr);
    std::string code = StringField(error, "code");
    OUTPOST_RETURN_IF_ERROR(
        store
            ->Execute(
                "INSERT INTO _outpost_rejections "
                "(tx_id, code, message, rule, tbl, pk, mutations, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                json::array({tx_id, code.empty() ? "rejected" : code, StringField(error, "message"),
                             StringField(error, "rule"), StringField(error, "table"), pk.dump(),
                             mutations.dump(), IsoUtc(now_micros)}))
            .status());
    // Server state for every row the transaction touched, then what is still pending on top.
    std::set<std::pair<std::string, std::string>> restored;  // (table, PkJson)
    if (error.is_object() && error.contains("rows") && error["rows"].is_array()) {
      for (const auto& r : error["rows"]) {
        const Table* t = schema()->FindTable(StringField(r, "table"));
        if (!t || !r.contains("pk") || !r["pk"].is_array()) continue;
        std::vector<Value> key;
        for (const auto& k : r["pk"]) {
          OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(k));
          key.push_back(std::move(v));
        }
        json local_pk = json::array();
        for (const auto& v : key) local_pk.push_back(ValueJson(v));
        if (!r.contains("row") || r["row"].is_null()) {
          OUTPOST_RETURN_IF_ERROR(DeleteJsonKey(*t, local_pk));
        } else if (r["row"].is_object()) {
          OUTPOST_RETURN_IF_ERROR(UpsertJson(*t, r["row"], /*guarded=*/false));
        }
        OUTPOST_RETURN_IF_ERROR(Rebase(t->name, PkJson(key)));
        restored.emplace(t->name, PkJson(key));
      }
    }
    // Rows the answer did not list: undo the refused mutations from their recorded bases, newest
    // first (insert -> delete, update -> old values, delete -> the old row), then rebase.
    std::set<std::pair<std::string, std::string>> undone;
    for (auto it = refused.rbegin(); it != refused.rend(); ++it) {
      const Mutation& m = *it;
      const Table* t = schema()->FindTable(m.table);
      if (!t || !m.pk.is_array() || m.pk.size() != t->primary_key.size()) continue;
      std::vector<Value> key;
      for (const auto& k : m.pk) {
        OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(k));
        key.push_back(std::move(v));
      }
      std::string pk_json = PkJson(key);
      if (restored.count({t->name, pk_json})) continue;
      Mutation undo = m;
      undo.new_values = m.old_values;
      undo.old_values = json::object();
      switch (m.op) {
        case Mutation::Op::kInsert: undo.op = Mutation::Op::kDelete; break;
        case Mutation::Op::kUpdate: undo.op = Mutation::Op::kUpdate; break;
        case Mutation::Op::kDelete: undo.op = Mutation::Op::kInsert; break;
      }
      OUTPOST_RETURN_IF_ERROR(Reapply(undo));
      undone.emplace(t->name, pk_json);
    }
    for (const auto& [table, pk_json] : undone) OUTPOST_RETURN_IF_ERROR(Rebase(table, pk_json));
    return Status::Ok();
  }
};

// --- SyncSession ---------------------------------------------------------------------------------

SyncSession::SyncSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncSession::~SyncSession() = default;

Result<std::unique_ptr<SyncSession>> SyncSession::Open(Store* store,
                                                       const SessionOptions& options) {
  if (!store) return Status(Code::kInvalidArgument, "SyncSession::Open needs a store");
  auto impl = std::make_unique<Impl>();
  impl->set_aside_index_rows = std::max<int64_t>(0, options.set_aside_index_rows);
  impl->store = store;
  impl->db = store->connection();
  OUTPOST_RETURN_IF_ERROR(store->RunAsEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(store->Execute(kRejectionsDdl).status());
    OUTPOST_ASSIGN_OR_RETURN(auto id, store->GetMeta(kMetaClientId));
    if (id) {
      impl->client_id = *id;
    } else {
      impl->client_id = store->NewUuid();
      OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaClientId, impl->client_id));
    }
    OUTPOST_ASSIGN_OR_RETURN(auto cursor, store->GetMeta(kMetaCursor));
    OUTPOST_ASSIGN_OR_RETURN(auto boot, store->GetMeta(kMetaBootstrapped));
    impl->cursor = cursor.value_or("");
    impl->bootstrapped = boot && *boot == "1";
    OUTPOST_ASSIGN_OR_RETURN(json set_aside, impl->SetAsideRecord());
    for (const auto& ix : set_aside) {
      if (ix["key"].get<bool>()) impl->keyless_tables.insert(ix["table"].get<std::string>());
    }
    return Status::Ok();
  }));
  impl->needs_schema = store->schema() == nullptr;
  return std::unique_ptr<SyncSession>(new SyncSession(std::move(impl)));
}

const std::string& SyncSession::client_id() const {
  return impl_->client_id;
}
Store* SyncSession::store() const {
  return impl_->store;
}
bool SyncSession::needs_schema() const {
  return impl_->needs_schema || impl_->store->schema() == nullptr;
}
bool SyncSession::bootstrapped() const {
  return impl_->bootstrapped;
}
int64_t SyncSession::bootstrap_rows() const {
  return impl_->bootstrap_rows;
}
std::optional<int64_t> SyncSession::bootstrap_total() const {
  return impl_->bootstrap_total;
}
int64_t SyncSession::rows_received() const {
  return impl_->rows_received;
}
int64_t SyncSession::deletes_received() const {
  return impl_->deletes_received;
}
int64_t SyncSession::bootstraps_completed() const {
  return impl_->bootstraps;
}
int64_t SyncSession::pushed_transactions() const {
  return impl_->pushed;
}
int64_t SyncSession::rejected_transactions() const {
  return impl_->rejected;
}

HttpRequest SyncSession::SchemaRequest() const {
  return HttpRequest{"GET", "/v1/schema", ""};
}

Result<MirrorReport> SyncSession::HandleSchema(std::string_view body) {
  OUTPOST_ASSIGN_OR_RETURN(Schema schema, SchemaFromJson(body));
  std::string before = impl_->store->schema() ? SchemaVersion(*impl_->store->schema()) : "";
  impl_->ClearStatements();
  OUTPOST_ASSIGN_OR_RETURN(MirrorReport report, impl_->store->ApplySchema(schema));
  if (!before.empty() && before != report.version && !impl_->cursor.empty()) {
    OUTPOST_RETURN_IF_ERROR(impl_->ForgetCursor());
  }
  impl_->needs_schema = false;
  return report;
}

namespace {
std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}
}  // namespace

HttpRequest SyncSession::PullRequest(int wait_seconds, int limit) const {
  std::string version =
      impl_->store->schema() ? SchemaVersion(*impl_->store->schema()) : std::string();
  std::string target = "/v1/pull?schema=" + QueryEscape(version);
  if (!impl_->cursor.empty()) target += "&cursor=" + QueryEscape(impl_->cursor);
  if (limit > 0) target += "&limit=" + std::to_string(limit);
  if (wait_seconds > 0 && impl_->bootstrapped && !impl_->cursor.empty()) {
    target += "&wait=" + std::to_string(wait_seconds);
  }
  return HttpRequest{"GET", target, ""};
}

Status SyncSession::HandlePullLine(std::string_view raw) {
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n' || raw.back() == ' ')) {
    raw.remove_suffix(1);
  }
  if (raw.empty()) return Status::Ok();
  Impl::Line line;
  line.text.assign(raw);
  JsonScanner sc(line.text);
  std::string type, cursor, scratch;
  bool bootstrap = false, more = false, has_cursor = false;
  std::optional<int64_t> total;
  OUTPOST_RETURN_IF_ERROR(sc.Expect('{'));
  if (!sc.Consume('}')) {
    do {
      OUTPOST_ASSIGN_OR_RETURN(std::string_view key_view, sc.String(&scratch));
      std::string key(key_view);
      OUTPOST_RETURN_IF_ERROR(sc.Expect(':'));
      if (key == "type" || key == "table" || key == "cursor") {
        OUTPOST_ASSIGN_OR_RETURN(std::string_view v, sc.String(&scratch));
        if (key == "type") type = v;
        if (key == "table") line.table = v;
        if (key == "cursor") {
          cursor = v;
          has_cursor = true;
        }
      } else if (key == "columns") {
        OUTPOST_RETURN_IF_ERROR(sc.Expect('['));
        if (!sc.Consume(']')) {
          do {
            OUTPOST_ASSIGN_OR_RETURN(std::string_view c, sc.String(&scratch));
            line.columns.emplace_back(c);
          } while (sc.Consume(','));
          OUTPOST_RETURN_IF_ERROR(sc.Expect(']'));
        }
      } else if (key == "rows" || key == "keys") {
        sc.Peek();
        line.array_begin = sc.pos();
        // The server writes the array last, after type, table and columns: it is not scanned
        // twice (this is most of a bootstrap's parsing). Applying it scans it and checks that the
        // object's closing brace follows (Line::array_is_last).
        const bool known = (type == "rows" && !line.columns.empty()) || type == "deletes";
        if (known && !line.table.empty() && line.text.back() == '}') {
          line.array_is_last = true;
          break;
        }
        OUTPOST_RETURN_IF_ERROR(sc.SkipValue().status());
      } else if (key == "bootstrap" || key == "more" || key == "total") {
        JsonScalar v;
        OUTPOST_RETURN_IF_ERROR(sc.Scalar(&v, &scratch));
        if (key == "total" && v.kind == JsonScalar::Kind::kInt) total = v.i;
        if (key == "bootstrap") bootstrap = v.kind == JsonScalar::Kind::kBool && v.i == 1;
        if (key == "more") more = v.kind == JsonScalar::Kind::kBool && v.i == 1;
      } else {
        OUTPOST_RETURN_IF_ERROR(sc.SkipValue().status());
      }
    } while (sc.Consume(','));
    if (!line.array_is_last) OUTPOST_RETURN_IF_ERROR(sc.Expect('}'));
  }
  if (!line.array_is_last && !sc.AtEnd()) return sc.Error("text after the JSON object");

  if (type == "rows" || type == "deletes") {
    if (line.table.empty() || line.array_begin == 0 || (type == "rows" && line.columns.empty())) {
      return Status(Code::kMalformedRequest, "pull answer: incomplete \"" + type + "\" line");
    }
    line.kind = type == "rows" ? Impl::Line::Kind::kRows : Impl::Line::Kind::kDeletes;
    impl_->page.push_back(std::move(line));
    return Status::Ok();
  }
  if (type == "reset") {
    // Everything before it is superseded by the snapshot that follows.
    impl_->page.clear();
    impl_->page_reset = true;
    return Status::Ok();
  }
  if (type == "cursor") {
    if (!has_cursor || cursor.empty()) {
      return Status(Code::kMalformedRequest, "pull answer: cursor line without a cursor");
    }
    if (total && (impl_->page_reset || !impl_->bootstrapped)) impl_->bootstrap_total = total;
    Status s = impl_->ApplyPage(cursor, bootstrap);
    impl_->page.clear();
    impl_->page_reset = false;
    if (!s.ok()) return s;
    impl_->saw_cursor = true;
    impl_->more = more;
    return Status::Ok();
  }
  return Status::Ok();  // unknown line types are for newer clients
}

Result<bool> SyncSession::FinishPull() {
  bool partial = !impl_->page.empty() || impl_->page_reset;
  bool saw = impl_->saw_cursor;
  bool more = impl_->more;
  AbortPull();
  if (partial || !saw || !more) {
    // The pull is over (or failed): a bootstrap that is not finished continues in WAL mode at its
    // next pull, rather than leaving other connections without WAL in between.
    OUTPOST_RETURN_IF_ERROR(impl_->store->EndBulkLoad());
  }
  if (partial) {
    return Status(Code::kUnavailable, "pull answer ended before its cursor line");
  }
  if (!saw) return Status(Code::kUnavailable, "pull answer had no cursor line");
  if (!more) {
    // Caught up: a parent still missing is outside the client's view; keep its children.
    OUTPOST_RETURN_IF_ERROR(impl_->store->UnparkAll().status());
  }
  return more;
}

void SyncSession::AbortPull() {
  impl_->page.clear();
  impl_->page_reset = false;
  impl_->saw_cursor = false;
  impl_->more = false;
}

Result<std::optional<HttpRequest>> SyncSession::PushRequest(size_t max_transactions) {
  if (needs_schema()) {
    return Status(Code::kSchemaMismatch, "no current schema: fetch /v1/schema first");
  }
  OUTPOST_ASSIGN_OR_RETURN(auto txs, impl_->store->PendingTransactions(max_transactions));
  if (txs.empty()) return std::optional<HttpRequest>();
  std::string body = "{\"schema\":" + json(SchemaVersion(*impl_->store->schema())).dump() +
                     ",\"client_id\":" + json(impl_->client_id).dump() + ",\"transactions\":[";
  size_t n = 0, mutations = 0;
  for (const auto& tx : txs) {
    json muts = json::array();
    for (const auto& m : tx.mutations) muts.push_back(impl_->WireMutation(m));
    std::string text = json{{"tx_id", tx.tx_id}, {"mutations", std::move(muts)}}.dump();
    mutations += tx.mutations.size();
    if (n > 0 && (body.size() + text.size() + 3 > kMaxPushBody || mutations > kMaxPushMutations)) {
      break;
    }
    if (n) body.push_back(',');
    body += text;
    ++n;
  }
  body += "]}";
  return std::optional<HttpRequest>(HttpRequest{"POST", "/v1/push", std::move(body)});
}

Status SyncSession::HandlePushResponse(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("results") ||
      !doc["results"].is_array()) {
    return Status(Code::kMalformedRequest, "push answer is not {\"results\": [...]}");
  }
  std::vector<KeyRemap> new_remaps;
  int64_t applied = 0, rejected = 0;
  int64_t now = impl_->store->env()->NowMicros();
  EngineOptions options;
  options.defer_foreign_keys = true;
  options.park_fk_violations = true;
  options.check_constraints = false;  // restored rows are the server's
  // Not fsynced: if an OS crash loses this answer, the transactions are still in the outbox and
  // are pushed again; the server answers a replay with the result it recorded (exactly once).
  options.durable = false;
  Status s = impl_->store->RunAsEngine(options, [&]() -> Status {
    for (const auto& r : doc["results"]) {
      if (!r.is_object() || !r.contains("tx_id")) {
        return Status(Code::kMalformedRequest, "push answer: a result without tx_id");
      }
      OUTPOST_ASSIGN_OR_RETURN(int64_t tx_id, ParseInt64(r["tx_id"], "tx_id"));
      std::string status = StringField(r, "status");
      if (status == "applied") {
        if (!r.contains("checkpoint")) {
          return Status(Code::kMalformedRequest, "push answer: applied without checkpoint");
        }
        OUTPOST_ASSIGN_OR_RETURN(int64_t checkpoint, ParseInt64(r["checkpoint"], "checkpoint"));
        Status m = impl_->store->MarkConfirmed(tx_id, checkpoint);
        if (m.code() == Code::kNotFound) continue;  // an answer seen before
        OUTPOST_RETURN_IF_ERROR(m);
        if (r.contains("remaps") && r["remaps"].is_array()) {
          for (const auto& remap : r["remaps"]) {
            OUTPOST_RETURN_IF_ERROR(impl_->ApplyRemap(remap, &new_remaps));
          }
        }
        ++applied;
      } else if (status == "rejected") {
        OUTPOST_RETURN_IF_ERROR(
            impl_->HandleRejection(tx_id, r.contains("error") ? r["error"] : json(), now));
        ++rejected;
      } else {
        return Status(Code::kMalformedRequest, "push answer: unknown status \"" + status + "\"");
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  impl_->pushed += applied;
  impl_->rejected += rejected;
  for (auto& r : new_remaps) impl_->remaps.push_back(std::move(r));
  return Status::Ok();
}

Status SyncSession::HandleErrorResponse(int http_status, std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  std::string code, message;
  if (!doc.is_discarded() && doc.is_object() && doc.contains("error")) {
    code = StringField(doc["error"], "code");
    message = StringField(doc["error"], "message");
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  if (http_status == 410 || code == "cursor_expired") return impl_->ForgetCursor();
  if (http_status == 409 || code == "schema_mismatch") {
    impl_->needs_schema = true;
    return Status::Ok();
  }
  Code c = Code::kInternal;
  bool known = false;
  for (int i = 1; i <= static_cast<int>(Code::kUnavailable); ++i) {
    if (!code.empty() && CodeName(static_cast<Code>(i)) == code) {
      c = static_cast<Code>(i);
      known = true;
    }
  }
  if (!known) {
    if (http_status == 401) c = Code::kUnauthorized;
    if (http_status == 403) c = Code::kForbidden;
    if (http_status == 404) c = Code::kNotFound;
    if (http_status == 413) c = Code::kPayloadTooLarge;
    if (http_status == 400) c = Code::kMalformedRequest;
    if (http_status == 502 || http_status == 503 || http_status == 504) c = Code::kUnavailable;
  }
  return Status(c, "server answered " + std::to_string(http_status) + ": " + message);
}

SyncStatus SyncSession::status() {
  SyncStatus st;
  if (auto c = impl_->store->CountOutbox(); c.ok()) {
    st.pending_mutations = c->unconfirmed_mutations;
    st.pending_transactions = c->unconfirmed_transactions;
    st.awaiting_checkpoint = c->confirmed_transactions;
  }
  st.bootstrapped = impl_->bootstrapped;
  st.cursor = impl_->cursor;
  if (auto v = impl_->store->GetMeta(kMetaLastSync); v.ok()) st.last_sync = *v;
  if (auto v = impl_->store->GetMeta(kMetaLastError); v.ok()) st.last_error = *v;
  if (auto r = impl_->store->Execute("SELECT count(*) FROM _outpost_rejections"); r.ok()) {
    st.rejections = r->rows[0][0].get<int64_t>();
  }
  return st;
}

Result<std::vector<Rejection>> SyncSession::Rejections() {
  OUTPOST_ASSIGN_OR_RETURN(
      auto r, impl_->store->Execute("SELECT id, tx_id, code, message, rule, tbl, pk, "
                                    "mutations, at FROM _outpost_rejections ORDER BY id"));
  std::vector<Rejection> out;
  for (const auto& row : r.rows) {
    Rejection j;
    j.id = row[0].get<int64_t>();
    j.tx_id = row[1].get<int64_t>();
    j.code = row[2].get<std::string>();
    j.message = row[3].get<std::string>();
    j.rule = row[4].get<std::string>();
    j.table = row[5].get<std::string>();
    j.pk = json::parse(row[6].get<std::string>(), nullptr, false);
    j.mutations = json::parse(row[7].get<std::string>(), nullptr, false);
    if (j.pk.is_discarded() || j.mutations.is_discarded()) {
      return Status(Code::kCorruption, "rejection " + std::to_string(j.id) + " is unreadable");
    }
    j.at = row[8].get<std::string>();
    out.push_back(std::move(j));
  }
  return out;
}

Status SyncSession::DismissRejection(int64_t id) {
  int64_t changes = 0;
  OUTPOST_RETURN_IF_ERROR(impl_->store->RunAsEngine([&]() -> Status {
    OUTPOST_ASSIGN_OR_RETURN(
        auto r,
        impl_->store->Execute("DELETE FROM _outpost_rejections WHERE id = ?", json::array({id})));
    changes = r.changes;
    return Status::Ok();
  }));
  if (changes == 0) return Status(Code::kNotFound, "no rejection " + std::to_string(id));
  return Status::Ok();
}

std::vector<KeyRemap> SyncSession::TakeRemaps() {
  std::vector<KeyRemap> out;
  out.swap(impl_->remaps);
  return out;
}

Status SyncSession::RecordSyncResult(const Status& result) {
  Store* store = impl_->store;
  OUTPOST_RETURN_IF_ERROR(store->EndBulkLoad());
  EngineOptions options;
  options.durable = false;  // bookkeeping: losing it to an OS crash only dates the status back
  return store->RunAsEngine(options, [&]() -> Status {
    if (result.ok()) {
      OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaLastSync, IsoUtc(store->env()->NowMicros())));
      return store->DeleteMeta(kMetaLastError);
    }
    return store->SetMeta(kMetaLastError, result.ToString());
  });
}

}  // namespace outpost
