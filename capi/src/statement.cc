// The C API's prepared statements (outpost.h, outpost_prepare ... outpost_finalize) over
// outpost::Statement. Writes go through the store's connection, so the capture triggers record
// them exactly as they record outpost_execute's.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "capi_internal.h"

using nlohmann::json;
using outpost::Code;
using outpost::Result;
using outpost::Status;
using outpost::ValueView;

namespace outpost::capi {

void FreeStatement(outpost_stmt* stmt) {
  outpost_db* db = stmt->db;
  db->statements.erase(stmt);
  delete stmt;  // finalizes the SQLite statement (when the db was not torn down yet)
  ReleaseIfClosed(db);
}

}  // namespace outpost::capi

using namespace outpost::capi;

namespace {

// Forgets the strings handed out for the current row.
void ForgetRow(outpost_stmt* stmt) {
  stmt->names.clear();
  stmt->json_values.clear();
  stmt->json_ready.clear();
}

// Guard for a call on a statement: refuses a statement that was finalized or whose db was torn
// down, and frees a statement that a callback finalized during the call. `body` returns Status,
// or Result<int> for outpost_step (its OUTPOST_ROW / OUTPOST_DONE).
template <typename Body>
int StmtGuard(outpost_stmt* stmt, Body&& body) {
  if (!stmt || stmt->finalized || !stmt->statement) return OUTPOST_INVALID_ARGUMENT;
  ++stmt->busy;
  int success = OUTPOST_OK;
  int code = Guard(stmt->db, [&]() -> Status {
    if (!stmt->statement) return Status(Code::kInvalidArgument, "the statement's handle is closed");
    auto r = body();
    if constexpr (std::is_same_v<decltype(r), Status>) {
      return r;
    } else {
      if (!r.ok()) return r.status();
      success = *r;
      return Status::Ok();
    }
  });
  if (--stmt->busy == 0 && stmt->finalized) FreeStatement(stmt);
  return code == OUTPOST_OK ? success : code;
}

// The current row's column `column`, or nullptr when there is none.
const outpost::Statement* RowColumn(const outpost_stmt* stmt, int column) {
  if (!stmt || !stmt->statement || !stmt->has_row || column < 0 ||
      column >= stmt->statement->column_count()) {
    return nullptr;
  }
  return stmt->statement.get();
}

Status CheckBindable(outpost_stmt* stmt, int index) {
  if (stmt->stepped) {
    return Status(Code::kInvalidArgument,
                  "the statement has run: outpost_reset it before binding new values");
  }
  const int count = stmt->statement->parameter_count();
  if (index < 1 || index > count) {
    return Status(Code::kInvalidArgument, "parameter " + std::to_string(index) +
                                              " is out of range (the statement has " +
                                              std::to_string(count) + ")");
  }
  return Status::Ok();
}

}  // namespace

extern "C" {

int outpost_prepare(outpost_db* db, const char* sql, outpost_stmt** out_stmt) {
  if (out_stmt) *out_stmt = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!out_stmt) return Status(Code::kInvalidArgument, "no place for the statement");
    if (!sql) return Status(Code::kInvalidArgument, "no SQL given");
    OUTPOST_ASSIGN_OR_RETURN(outpost::Statement statement, db->store->Prepare(sql));
    auto stmt = std::make_unique<outpost_stmt>();
    stmt->db = db;
    stmt->statement = std::make_unique<outpost::Statement>(std::move(statement));
    db->statements.insert(stmt.get());
    *out_stmt = stmt.release();
    return Status::Ok();
  });
}

void outpost_finalize(outpost_stmt* stmt) {
  if (!stmt || stmt->finalized) return;
  stmt->finalized = true;
  if (stmt->busy == 0) FreeStatement(stmt);
}

outpost_db* outpost_stmt_db(const outpost_stmt* stmt) {
  return stmt ? stmt->db : nullptr;
}

int outpost_bind_parameter_count(const outpost_stmt* stmt) {
  return stmt && stmt->statement ? stmt->statement->parameter_count() : 0;
}

int outpost_bind_parameter_index(const outpost_stmt* stmt, const char* name) {
  if (!stmt || !stmt->statement || !name) return 0;
  try {
    return stmt->statement->parameter_index(name);
  } catch (const std::exception&) {
    return 0;  // out of memory copying the name: reported as "no such parameter"
  }
}

int outpost_bind_null(outpost_stmt* stmt, int index) {
  return StmtGuard(stmt, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(CheckBindable(stmt, index));
    return stmt->statement->BindNull(index);
  });
}

int outpost_bind_int64(outpost_stmt* stmt, int index, int64_t value) {
  return StmtGuard(stmt, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(CheckBindable(stmt, index));
    return stmt->statement->BindInt(index, value);
  });
}

int outpost_bind_double(outpost_stmt* stmt, int index, double value) {
  return StmtGuard(stmt, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(CheckBindable(stmt, index));
    if (std::isnan(value)) {
      return Status(Code::kUnsupported, "NaN cannot be stored (SQLite would turn it into NULL)");
    }
    return stmt->statement->BindDouble(index, value);
  });
}

int outpost_bind_text(outpost_stmt* stmt, int index, const char* text, size_t length) {
  return StmtGuard(stmt, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(CheckBindable(stmt, index));
    if (!text) return stmt->statement->BindNull(index);
    std::string_view view(text, length == OUTPOST_NUL_TERMINATED ? std::strlen(text) : length);
    if (!IsUtf8(view)) {
      return Status(Code::kInvalidArgument,
                    "parameter " + std::to_string(index) + " is not valid UTF-8 text");
    }
    return stmt->statement->BindText(index, view);
  });
}

int outpost_bind_blob(outpost_stmt* stmt, int index, const void* data, size_t length) {
  return StmtGuard(stmt, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(CheckBindable(stmt, index));
    if (!data && length > 0) return Status(Code::kInvalidArgument, "a blob of bytes at NULL");
    return stmt->statement->BindBlob(
        index, std::string_view(data ? static_cast<const char*>(data) : "", length));
  });
}

int outpost_bind_json(outpost_stmt* stmt, int index, const char* value_json) {
  return StmtGuard(stmt, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(CheckBindable(stmt, index));
    if (!value_json) return Status(Code::kInvalidArgument, "no JSON value given");
    json j = json::parse(value_json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return Status(Code::kInvalidArgument,
                    "parameter " + std::to_string(index) + " is not a valid JSON value");
    }
    OUTPOST_ASSIGN_OR_RETURN(outpost::Value v, outpost::ValueFromJson(j));
    return stmt->statement->Bind(index, v);
  });
}

int outpost_step(outpost_stmt* stmt) {
  return StmtGuard(stmt, [&]() -> Result<int> {
    ForgetRow(stmt);
    stmt->has_row = false;
    stmt->stepped = true;
    // Watch callbacks for a write that commits here run inside Step (the statement stays valid:
    // finalizing it from a callback is deferred until this call returns).
    Result<bool> row = stmt->statement->Step();
    if (!row.ok()) {
      stmt->stepped = false;  // Step reset the statement; its bindings are kept
      return row.status();
    }
    stmt->has_row = *row;
    return *row ? OUTPOST_ROW : OUTPOST_DONE;
  });
}

int outpost_reset(outpost_stmt* stmt) {
  return StmtGuard(stmt, [&]() -> Status {
    ForgetRow(stmt);
    stmt->has_row = false;
    stmt->stepped = false;
    return stmt->statement->Reset();
  });
}

int outpost_column_count(const outpost_stmt* stmt) {
  return stmt && stmt->statement ? stmt->statement->column_count() : 0;
}

const char* outpost_column_name(outpost_stmt* stmt, int column) {
  if (!stmt || !stmt->statement || column < 0 || column >= stmt->statement->column_count()) {
    return nullptr;
  }
  try {
    if (stmt->names.empty()) {
      const int n = stmt->statement->column_count();
      stmt->names.reserve(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) stmt->names.push_back(stmt->statement->column_name(c));
    }
    return stmt->names[static_cast<size_t>(column)].c_str();
  } catch (const std::exception&) {
    stmt->names.clear();
    return nullptr;  // out of memory
  }
}

int outpost_column_type(const outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return OUTPOST_TYPE_NULL;
  switch (s->column_view(column).kind) {
    case ValueView::Kind::kNull: return OUTPOST_TYPE_NULL;
    case ValueView::Kind::kInteger: return OUTPOST_TYPE_INTEGER;
    case ValueView::Kind::kReal: return OUTPOST_TYPE_REAL;
    case ValueView::Kind::kText: return OUTPOST_TYPE_TEXT;
    case ValueView::Kind::kBlob: return OUTPOST_TYPE_BLOB;
  }
  return OUTPOST_TYPE_NULL;
}

int64_t outpost_column_int64(const outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return 0;
  ValueView v = s->column_view(column);
  if (v.kind == ValueView::Kind::kInteger) return v.integer;
  if (v.kind != ValueView::Kind::kReal || std::isnan(v.real)) return 0;
  // Clamped: converting an out-of-range double to an integer is undefined behaviour.
  if (v.real >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (v.real <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v.real);
}

double outpost_column_double(const outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return 0.0;
  ValueView v = s->column_view(column);
  if (v.kind == ValueView::Kind::kReal) return v.real;
  if (v.kind == ValueView::Kind::kInteger) return static_cast<double>(v.integer);
  return 0.0;
}

const char* outpost_column_text(const outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return nullptr;
  ValueView v = s->column_view(column);
  // SQLite's text of a column is NUL-terminated (Statement::column_view).
  return v.kind == ValueView::Kind::kText ? v.bytes.data() : nullptr;
}

const void* outpost_column_blob(const outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return nullptr;
  ValueView v = s->column_view(column);
  if (v.kind != ValueView::Kind::kText && v.kind != ValueView::Kind::kBlob) return nullptr;
  return v.bytes.empty() ? nullptr : v.bytes.data();
}

size_t outpost_column_bytes(const outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return 0;
  ValueView v = s->column_view(column);
  if (v.kind != ValueView::Kind::kText && v.kind != ValueView::Kind::kBlob) return 0;
  return v.bytes.size();
}

const char* outpost_column_json(outpost_stmt* stmt, int column) {
  const outpost::Statement* s = RowColumn(stmt, column);
  if (!s) return nullptr;
  try {
    const auto n = static_cast<size_t>(s->column_count());
    if (stmt->json_values.size() != n) {
      stmt->json_values.assign(n, std::string());
      stmt->json_ready.assign(n, false);
    }
    const auto c = static_cast<size_t>(column);
    if (!stmt->json_ready[c]) {
      // The same encoder as outpost_execute's rows (docs/types.md).
      outpost::AppendValueJson(s->column_view(column), s->column_boolean(column),
                               &stmt->json_values[c]);
      stmt->json_ready[c] = true;
    }
    return stmt->json_values[c].c_str();
  } catch (const std::exception&) {
    ForgetRow(stmt);
    return nullptr;  // out of memory
  }
}

}  // extern "C"
