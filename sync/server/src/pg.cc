#include "pg.h"

namespace outpost::server {

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (!c) return Status(Code::kPostgres, "cannot allocate a PostgreSQL connection");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status(Code::kPostgres, "cannot connect to PostgreSQL: " + msg);
  }
  auto conn = std::unique_ptr<PgConnection>(new PgConnection(c));
  // Fixed session settings: the text forms Outpost converts (value.h) depend on them. JIT is off:
  // its compile time dominates the short, repeated queries of the sync server.
  auto r = conn->Exec(
      "SELECT set_config('DateStyle', 'ISO, YMD', false), set_config('TimeZone', 'UTC', false),"
      " set_config('IntervalStyle', 'postgres', false), set_config('bytea_output', 'hex', false),"
      " set_config('extra_float_digits', '1', false), set_config('client_encoding', 'UTF8', "
      "false), set_config('jit', 'off', false)");
  if (!r.ok()) return r.status();
  return conn;
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

namespace {
std::vector<const char*> ParamValues(const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}
}  // namespace

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params) {
  std::vector<const char*> values = ParamValues(params);
  std::string text(sql);
  PGresult* r = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  return Check(r);
}

Status PgConnection::ExecScript(const std::string& sql) {
  return Check(PQexec(conn_, sql.c_str())).status();
}

Result<PgResult> PgConnection::Check(PGresult* r) {
  PgResult result(r);
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return result;
  auto field = [&](int code) {
    const char* v = r ? PQresultErrorField(r, code) : nullptr;
    return v ? std::string(v) : std::string();
  };
  auto trimmed = [](std::string m) {
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
  };
  last_error_ =
      PgError{field(PG_DIAG_SQLSTATE), field(PG_DIAG_CONSTRAINT_NAME), field(PG_DIAG_TABLE_NAME),
              field(PG_DIAG_COLUMN_NAME), field(PG_DIAG_MESSAGE_PRIMARY)};
  std::string msg = trimmed(r ? PQresultErrorMessage(r) : "");
  if (msg.empty()) msg = trimmed(PQerrorMessage(conn_));
  if (last_error_.message.empty()) last_error_.message = msg;
  const std::string& s = last_error_.sqlstate;
  // A lost connection, a server shutting down or a cancelled statement is not the request's
  // fault: retry later.
  if (PQstatus(conn_) != CONNECTION_OK || s.rfind("08", 0) == 0 || s.rfind("57", 0) == 0) {
    return Status(Code::kUnavailable, "database unavailable: " + msg);
  }
  return Status(Code::kPostgres, msg);
}

Result<std::string> PgConnection::Prepared(const std::string& sql, size_t param_count) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "outpost_" + std::to_string(prepared_.size() + 1);
    OUTPOST_RETURN_IF_ERROR(
        Check(PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(param_count), nullptr))
            .status());
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return it->second;
}

Result<PgResult> PgConnection::ExecCached(const std::string& sql, const PgParams& params,
                                          ResultFormat format) {
  OUTPOST_ASSIGN_OR_RETURN(std::string name, Prepared(sql, params.size()));
  std::vector<const char*> values = ParamValues(params);
  return Check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(),
                              nullptr, nullptr, static_cast<int>(format)));
}

Status PgConnection::SendCached(const std::string& sql, const PgParams& params,
                                ResultFormat format) {
  OUTPOST_ASSIGN_OR_RETURN(std::string name, Prepared(sql, params.size()));
  std::vector<const char*> values = ParamValues(params);
  if (!PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), values.data(),
                           nullptr, nullptr, static_cast<int>(format))) {
    return Check(nullptr).status();
  }
  return Status::Ok();
}

Result<PgResult> PgConnection::Receive() {
  // The statement's result, then NULL once it is complete.
  PGresult* first = PQgetResult(conn_);
  Result<PgResult> result = Check(first);
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  return result;
}

}  // namespace outpost::server
