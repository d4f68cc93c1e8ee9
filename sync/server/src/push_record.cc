// PushRecord (push_record.h).
#include "push_record.h"

namespace outpost::server {

using nlohmann::json;

namespace {

Result<uint64_t> ParseXid(std::string_view text) {
  auto xid = protocol::ParseDecimalU64(json(std::string(text)));
  if (!xid) return Status(Code::kInternal, "PostgreSQL gave an unreadable xid");
  return *xid;
}

}  // namespace

Result<std::optional<protocol::TxResult>> PushRecord::Lookup(int64_t tx_id) {
  OUTPOST_ASSIGN_OR_RETURN(
      PgResult r,
      conn_.Exec("SELECT result::text FROM _outpost.pushes WHERE tenant = $1 AND user_id = $2"
                 " AND client_id = $3 AND tx_id = $4",
                 Key(tx_id)));
  if (r.rows() == 0) return std::optional<protocol::TxResult>();
  json doc = json::parse(r.get(0, 0), nullptr, /*allow_exceptions=*/false);
  auto result = protocol::TxResultFromJson(doc);
  if (!result.ok()) {
    return Status(Code::kInternal, "unreadable _outpost.pushes record for tx " +
                                       std::to_string(tx_id) + ": " + result.status().message());
  }
  return std::optional<protocol::TxResult>(std::move(result).value());
}

Result<std::optional<uint64_t>> PushRecord::Claim(int64_t tx_id) {
  OUTPOST_ASSIGN_OR_RETURN(
      PgResult claimed,
      conn_.Exec("INSERT INTO _outpost.pushes (tenant, user_id, client_id, tx_id, result, xid, at)"
                 " VALUES ($1, $2, $3, $4, '{}'::jsonb, pg_current_xact_id(), now())"
                 " ON CONFLICT DO NOTHING RETURNING xid::text",
                 Key(tx_id)));
  if (claimed.rows() == 0) return std::optional<uint64_t>();
  OUTPOST_ASSIGN_OR_RETURN(uint64_t xid, ParseXid(claimed.get(0, 0)));
  return std::optional<uint64_t>(xid);
}

Status PushRecord::Complete(const protocol::TxResult& result) {
  PgParams params = Key(result.tx_id);
  params.push_back(
      protocol::TxResultToJson(result).dump(-1, ' ', false, json::error_handler_t::replace));
  return conn_
      .Exec(
          "UPDATE _outpost.pushes SET result = $5::jsonb WHERE tenant = $1 AND user_id = $2"
          " AND client_id = $3 AND tx_id = $4",
          params)
      .status();
}

Result<uint64_t> PushRecord::CurrentXid() {
  OUTPOST_ASSIGN_OR_RETURN(PgResult x, conn_.Exec("SELECT pg_current_xact_id()::text"));
  return ParseXid(x.get(0, 0));
}

Result<bool> PushRecord::InsertRejection(const protocol::TxResult& result) {
  PgParams params = Key(result.tx_id);
  params.push_back(
      protocol::TxResultToJson(result).dump(-1, ' ', false, json::error_handler_t::replace));
  OUTPOST_ASSIGN_OR_RETURN(
      PgResult ins,
      conn_.Exec("INSERT INTO _outpost.pushes (tenant, user_id, client_id, tx_id, result, xid, at)"
                 " VALUES ($1, $2, $3, $4, $5::jsonb, pg_current_xact_id(), now())"
                 " ON CONFLICT DO NOTHING RETURNING 1",
                 params));
  return ins.rows() > 0;
}

}  // namespace outpost::server
