// Small helpers over SQLite's C API, private to core: errors as Status, a scoped statement, and
// local values (outpost/value.h) to and from SQLite values without copying.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "outpost/status.h"
#include "outpost/value.h"

namespace outpost {

// Maps a SQLite result code and message to a Status: kConstraint, kBusy, kIoError, kCorruption,
// kInternal (misuse, out of memory), kSqlError for the rest.
Status SqliteStatus(int rc, std::string_view message);
// The Status of the last error on `db`.
inline Status SqliteError(sqlite3* db, int rc) {
  return SqliteStatus(rc, sqlite3_errmsg(db));
}

// A prepared statement for core's own queries, finalized when it goes out of scope. Check
// status() before use.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status status() const { return rc_ == SQLITE_OK ? Status::Ok() : SqliteError(db_, rc_); }
  sqlite3_stmt* get() const { return stmt_; }
  // SQLITE_ROW -> true, SQLITE_DONE -> false.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc);
  }
  // Runs to its first row or its end (for statements whose rows do not matter).
  Status Run() {
    OUTPOST_RETURN_IF_ERROR(status());
    return Step().status();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  void BindText(int index, std::string_view text) {
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  void BindInt(int index, int64_t v) { sqlite3_bind_int64(stmt_, index, v); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Binds `v` to parameter `index`. `copy`: SQLite copies text and blobs (SQLITE_TRANSIENT);
// otherwise they must stay valid until the statement is stepped (SQLITE_STATIC). An empty BLOB is
// bound as a zero-length blob, not NULL.
inline Status BindView(sqlite3* db, sqlite3_stmt* stmt, int index, const ValueView& v, bool copy) {
  int rc = SQLITE_OK;
  auto lifetime = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
  switch (v.kind) {
    case ValueView::Kind::kNull: rc = sqlite3_bind_null(stmt, index); break;
    case ValueView::Kind::kInteger: rc = sqlite3_bind_int64(stmt, index, v.integer); break;
    case ValueView::Kind::kReal: rc = sqlite3_bind_double(stmt, index, v.real); break;
    case ValueView::Kind::kText:
      rc = sqlite3_bind_text64(stmt, index, v.bytes.data(), v.bytes.size(), lifetime, SQLITE_UTF8);
      break;
    case ValueView::Kind::kBlob:
      rc = v.bytes.empty()
               ? sqlite3_bind_zeroblob(stmt, index, 0)
               : sqlite3_bind_blob64(stmt, index, v.bytes.data(), v.bytes.size(), lifetime);
      break;
  }
  return rc == SQLITE_OK ? Status::Ok() : SqliteError(db, rc);
}

// A view of `v`, valid until `v` changes (the SQL function or trigger returns).
inline ValueView ViewOf(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return ValueView::MakeInteger(sqlite3_value_int64(v));
    case SQLITE_FLOAT: return ValueView::MakeReal(sqlite3_value_double(v));
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
      return ValueView::MakeText(std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(v))));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_value_blob(v));
      return ValueView::MakeBlob(std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(v))));
    }
    default: return ValueView::MakeNull();
  }
}

// A view of column `col` of the current row of `stmt`, valid until the statement steps again.
inline ValueView ViewOfColumn(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: return ValueView::MakeInteger(sqlite3_column_int64(stmt, col));
    case SQLITE_FLOAT: return ValueView::MakeReal(sqlite3_column_double(stmt, col));
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return ValueView::MakeText(
          std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt, col))));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      return ValueView::MakeBlob(
          std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt, col))));
    }
    default: return ValueView::MakeNull();
  }
}

}  // namespace outpost
