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

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  std::string text(sql);
  PGresult* r = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  return Check(r);
}

Result<PgResult> PgConnection::Check(PGresult* r) {
  PgResult result(r);
  auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    last_sqlstate_ = state ? state : "";
    std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (msg.empty()) msg = PQerrorMessage(conn_);
    // A lost connection (or a server shutting down) is not the request's fault: retry later.
    if (PQstatus(conn_) != CONNECTION_OK || last_sqlstate_.rfind("08", 0) == 0 ||
        last_sqlstate_ == "57P01" || last_sqlstate_ == "57P02" || last_sqlstate_ == "57P03") {
      return Status(Code::kUnavailable, "database unavailable: " + msg);
    }
    return Status(Code::kPostgres, msg);
  }
  return result;
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

namespace {
std::vector<const char*> ParamValues(const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}
}  // namespace

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

std::string PgQuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace outpost::server
