// A thin RAII layer over libpq for the sync server. Parameterised queries only: values always
// travel as separate parameters, never spliced into SQL text.
//
// Threading: a PgConnection is used by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "outpost/sql_quote.h"
#include "outpost/status.h"

namespace outpost::server {

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  int columns() const { return PQnfields(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view get(int row, int col) const {
    return std::string_view(PQgetvalue(r_.get(), row, col),
                            static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::optional<std::string> get_opt(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::string(get(row, col));
  }
  std::string column_name(int col) const { return PQfname(r_.get(), col); }
  PGresult* raw() const { return r_.get(); }

 private:
  std::shared_ptr<PGresult> r_;
};

using PgParams = std::vector<std::optional<std::string>>;

// The form PostgreSQL sends result values in (libpq's resultFormat): text (its output functions)
// or binary (its send functions).
enum class ResultFormat { kText = 0, kBinary = 1 };

// What PostgreSQL said about the last statement that failed on a connection (its error fields).
struct PgError {
  std::string sqlstate;    // e.g. "23505"; "" when the connection itself failed
  std::string constraint;  // the constraint that failed, when one did
  std::string table;
  std::string column;
  std::string message;  // the primary message, one line
};

class PgConnection {
 public:
  // `url`: a libpq connection string or postgresql:// URI.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& url);
  ~PgConnection();

  // Runs one statement with text parameters ($1, $2, ...). A NULL optional is SQL NULL.
  // Errors: kUnavailable when the connection is lost, the server is shutting down or the
  // statement was cancelled (SQLSTATE 08xxx, 57xxx), kPostgres otherwise (last_error() tells
  // which). Every failure, whatever its code, sets last_error().
  Result<PgResult> Exec(std::string_view sql, const PgParams& params = {});
  // Runs `sql`, which may hold several statements, without parameters (the simple query
  // protocol): for DDL scripts Outpost writes itself. Errors as Exec.
  Status ExecScript(const std::string& sql);
  // As Exec, but the statement is prepared once per connection (keyed by its text) and executed
  // as a prepared statement afterwards: for statements run many times (pull pages).
  // `format`: kBinary asks for every result column in PostgreSQL's binary form (rows.h,
  // RowFormat); PgResult::get then returns those bytes.
  Result<PgResult> ExecCached(const std::string& sql, const PgParams& params = {},
                              ResultFormat format = ResultFormat::kText);
  // ExecCached in two halves, so that PostgreSQL runs the statement while the caller does other
  // work: SendCached sends it and returns; Receive waits for its result. While a statement is in
  // flight nothing else may run on the connection (PgPool closes a connection returned with one).
  Status SendCached(const std::string& sql, const PgParams& params = {},
                    ResultFormat format = ResultFormat::kText);
  Result<PgResult> Receive();
  // The error fields of the last failed statement, and its SQLSTATE ("" when it had none, e.g.
  // the connection was lost).
  const PgError& last_error() const { return last_error_; }
  const std::string& last_sqlstate() const { return last_error_.sqlstate; }
  // True while the connection to the server is usable.
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  PGconn* raw() const { return conn_; }

 private:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  Result<PgResult> Check(PGresult* r);
  // The name of `sql` prepared on this connection (preparing it the first time).
  Result<std::string> Prepared(const std::string& sql, size_t param_count);
  PGconn* conn_;
  PgError last_error_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

}  // namespace outpost::server
