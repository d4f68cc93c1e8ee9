// POST /v1/push: validation, exactly-once recording, conflict resolution and temporary keys.
// The contract is docs/protocol.md; this file follows it section by section.
#include "push.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "outpost/value.h"
#include "rows.h"

namespace outpost::server {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// The validated request
// ---------------------------------------------------------------------------------------------

enum class Op { kInsert, kUpdate, kDelete };

struct Field {
  const Column* column = nullptr;  // a column of the client view
  json value;                      // client JSON, already checked to convert to the column type
};

struct Mutation {
  Op op = Op::kInsert;
  const SyncedTable* table = nullptr;
  json pk;           // array in primary key order, canonical client JSON values
  uint64_t hlc = 0;  // as sent (clamped when applied)
  std::vector<Field> new_values;
  std::vector<Field> old_values;
};

struct ClientTx {
  int64_t tx_id = 0;
  std::vector<Mutation> mutations;
};

struct Request {
  std::string client_id;  // canonical lowercase UUID
  std::vector<ClientTx> txs;
};

Status Malformed(const std::string& where, const std::string& what) {
  return Status(Code::kMalformedRequest, where.empty() ? what : where + ": " + what);
}

bool ParseHlc(const json& j, uint64_t* out) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Canonical client JSON of a value for `type` (lowercase UUIDs, 0/1 booleans as true/false).
Result<json> Canonical(const ColumnType& type, const json& j) {
  OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(type, j));
  return ValueToJson(type, v);
}

Status ParseFields(const SyncedTable& table, const json& obj, const std::string& where,
                   std::vector<Field>* out) {
  if (!obj.is_object()) return Malformed(where, "must be an object of column values");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const Column* c = table.view->FindColumn(it.key());
    if (!c) {
      return Status(Code::kUnknownColumn,
                    where + ": table \"" + table.name() + "\" has no column \"" + it.key() + "\"");
    }
    auto canon = Canonical(c->type, it.value());
    if (!canon.ok()) {
      return Status(Code::kInvalidValue,
                    where + ".\"" + it.key() + "\": " + canon.status().message());
    }
    out->push_back(Field{c, std::move(canon).value()});
  }
  return Status::Ok();
}

const Field* FindField(const std::vector<Field>& fields, std::string_view column) {
  for (const auto& f : fields) {
    if (f.column->name == column) return &f;
  }
  return nullptr;
}

Result<Mutation> ParseMutation(const ServerModel& model, const json& jm, const std::string& where) {
  if (!jm.is_object()) return Malformed(where, "a mutation must be an object");
  Mutation m;
  auto op = jm.find("op");
  if (op == jm.end() || !op->is_string()) return Malformed(where, "\"op\" must be a string");
  if (*op == "insert") {
    m.op = Op::kInsert;
  } else if (*op == "update") {
    m.op = Op::kUpdate;
  } else if (*op == "delete") {
    m.op = Op::kDelete;
  } else {
    return Malformed(where, "\"op\" must be insert, update or delete");
  }
  auto table = jm.find("table");
  if (table == jm.end() || !table->is_string())
    return Malformed(where, "\"table\" must be a string");
  m.table = model.Find(table->get<std::string>());
  if (!m.table) {
    return Status(Code::kUnknownTable,
                  where + ": no table \"" + table->get<std::string>() + "\" in the client view");
  }
  const auto& key = m.table->view->primary_key;
  auto pk = jm.find("pk");
  if (pk == jm.end() || !pk->is_array() || pk->size() != key.size()) {
    return Malformed(where, "\"pk\" must be an array of the " + std::to_string(key.size()) +
                                " primary key value(s) of \"" + m.table->name() + "\"");
  }
  m.pk = json::array();
  for (size_t i = 0; i < key.size(); ++i) {
    const Column* c = m.table->view->FindColumn(key[i]);
    auto canon = Canonical(c->type, (*pk)[i]);
    if (!canon.ok() || canon->is_null()) {
      return Status(Code::kInvalidValue,
                    where + ": pk value " + (*pk)[i].dump() + " for \"" + key[i] + "\": " +
                        (canon.ok() ? "a key value cannot be null" : canon.status().message()));
    }
    m.pk.push_back(std::move(canon).value());
  }
  auto hlc = jm.find("hlc");
  if (hlc == jm.end() || !ParseHlc(*hlc, &m.hlc)) {
    return Malformed(where, "\"hlc\" must be a decimal string of a 64-bit clock");
  }
  auto nv = jm.find("new");
  auto ov = jm.find("old");
  bool has_new = nv != jm.end() && !nv->is_null();
  bool has_old = ov != jm.end() && !ov->is_null();
  switch (m.op) {
    case Op::kInsert:
      if (!has_new) return Malformed(where, "an insert needs \"new\"");
      if (has_old) return Malformed(where, "an insert has no \"old\"");
      break;
    case Op::kUpdate:
      if (!has_new || !has_old) return Malformed(where, "an update needs \"new\" and \"old\"");
      break;
    case Op::kDelete:
      if (has_new) return Malformed(where, "a delete has no \"new\"");
      break;
  }
  if (has_new) OUTPOST_RETURN_IF_ERROR(ParseFields(*m.table, *nv, where + ".new", &m.new_values));
  if (has_old) OUTPOST_RETURN_IF_ERROR(ParseFields(*m.table, *ov, where + ".old", &m.old_values));
  if (m.op == Op::kUpdate) {
    for (const auto& f : m.new_values) {
      if (!FindField(m.old_values, f.column->name)) {
        return Malformed(where, "column \"" + f.column->name +
                                    "\" is in \"new\" but its base value is missing from \"old\"");
      }
    }
  }
  if (m.op == Op::kInsert) {
    for (size_t i = 0; i < key.size(); ++i) {
      const Field* f = FindField(m.new_values, key[i]);
      if (f && f->value != m.pk[i]) {
        return Malformed(where, "\"new\" and \"pk\" disagree on \"" + key[i] + "\"");
      }
    }
  }
  return m;
}

Result<Request> ParseRequest(const ServerModel& model, std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Malformed("", "the body is not a JSON object");
  }
  auto schema = doc.find("schema");
  if (schema == doc.end() || !schema->is_string()) {
    return Malformed("", "\"schema\" must be a string");
  }
  if (*schema != model.version()) {
    return Status(Code::kSchemaMismatch, "the request's schema " + schema->get<std::string>() +
                                             " is not the server's " + model.version());
  }
  Request req;
  auto client = doc.find("client_id");
  ColumnType uuid;
  uuid.kind = TypeKind::kUuid;
  uuid.pg_type = "uuid";
  auto canon = client == doc.end() ? Result<json>(Status(Code::kMalformedRequest, "missing"))
                                   : Canonical(uuid, *client);
  if (!canon.ok() || !canon->is_string()) {
    return Malformed("", "\"client_id\" must be a UUID string");
  }
  req.client_id = canon->get<std::string>();
  auto txs = doc.find("transactions");
  if (txs == doc.end() || !txs->is_array()) {
    return Malformed("", "\"transactions\" must be an array");
  }
  if (txs->size() > kMaxPushTransactions) {
    return Malformed(
        "", "more than " + std::to_string(kMaxPushTransactions) + " transactions in one push");
  }
  std::set<int64_t> seen;
  size_t total = 0;
  for (size_t i = 0; i < txs->size(); ++i) {
    const json& jt = (*txs)[i];
    std::string where = "transactions[" + std::to_string(i) + "]";
    if (!jt.is_object()) return Malformed(where, "a transaction must be an object");
    auto id = jt.find("tx_id");
    if (id == jt.end() || !id->is_number_integer() ||
        (id->is_number_unsigned() && id->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      return Malformed(where, "\"tx_id\" must be a 64-bit integer");
    }
    ClientTx tx;
    tx.tx_id = id->get<int64_t>();
    if (!seen.insert(tx.tx_id).second) {
      return Malformed(where, "tx_id " + std::to_string(tx.tx_id) + " appears twice");
    }
    auto muts = jt.find("mutations");
    if (muts == jt.end() || !muts->is_array()) {
      return Malformed(where, "\"mutations\" must be an array");
    }
    total += muts->size();
    if (total > kMaxPushMutations) {
      return Malformed("",
                       "more than " + std::to_string(kMaxPushMutations) + " mutations in one push");
    }
    for (size_t k = 0; k < muts->size(); ++k) {
      OUTPOST_ASSIGN_OR_RETURN(
          Mutation m,
          ParseMutation(model, (*muts)[k], where + ".mutations[" + std::to_string(k) + "]"));
      tx.mutations.push_back(std::move(m));
    }
    req.txs.push_back(std::move(tx));
  }
  return req;
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

// A transaction's rejection (a result, not an error of the request).
struct Rejection {
  std::string code;  // constraint_violation, permission_denied, conflict, row_exists, ...
  std::string message;
  std::string rule;  // the constraint, rule or column that failed ("" when none applies)
  const SyncedTable* table = nullptr;
  json pk;
};
using Outcome = std::optional<Rejection>;  // nullopt: the mutation applied (possibly with notices)

// The details of the last PostgreSQL error.
struct PgError {
  std::string sqlstate;
  std::string constraint;
  std::string table;
  std::string column;
  std::string message;
};

struct TouchedRow {
  const SyncedTable* table;
  json pk;
  bool operator<(const TouchedRow& o) const {
    if (table->index != o.table->index) return table->index < o.table->index;
    return pk < o.pk;
  }
};

// What one client transaction did so far, discarded when it rolls back.
struct TxState {
  json notices = json::array();
  json remaps = json::array();
  std::map<std::pair<std::string, int64_t>, int64_t> local_keys;  // (table, temp) -> server key
  std::vector<TouchedRow> touched;                                // in first-touch order
  std::set<TouchedRow> touched_set;
  const SyncedTable* current_table = nullptr;  // the mutation being applied
  json current_pk;
  bool clamp_noticed = false;  // clock_clamped already reported for the current mutation
};

uint64_t ServerHlc() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<uint64_t>(ms) << 16;
}

bool IsNumericKind(TypeKind k) {
  return k == TypeKind::kInteger || k == TypeKind::kNumeric || k == TypeKind::kReal;
}

// Reads a clock from `_outpost.clocks` JSON (a number or a decimal string); 0 when absent.
uint64_t ClockOf(const json& clocks, const std::string& column) {
  if (!clocks.is_object()) return 0;
  auto it = clocks.find(column);
  if (it == clocks.end()) it = clocks.find("*");
  if (it == clocks.end()) return 0;
  if (it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0)) {
    return it->get<uint64_t>();
  }
  uint64_t v = 0;
  return ParseHlc(*it, &v) ? v : 0;
}

class Pusher {
 public:
  Pusher(PgConnection& conn, const ServerModel& model, const Principal& who, std::string client_id)
      : conn_(conn), model_(model), who_(who), client_id_(std::move(client_id)) {}

  Result<json> HandleTx(const ClientTx& tx);

 private:
  Result<PgResult> Q(const std::string& sql, const PgParams& params = {});
  void RollbackQuietly();
  PgParams RecordKey(int64_t tx_id) const {
    return {who_.tenant, who_.user, client_id_, std::to_string(tx_id)};
  }
  Result<std::optional<json>> LookupRecord(int64_t tx_id);
  void AbsorbRemaps(const json& result, std::map<std::pair<std::string, int64_t>, int64_t>* into);
  Result<std::optional<json>> TryApply(const ClientTx& tx, std::optional<Rejection>* rejection,
                                       TxState* st);
  Result<std::optional<json>> RecordRejection(const ClientTx& tx, const Rejection& rej,
                                              const TxState& st);
  Result<Outcome> Apply(const Mutation& m, TxState* st);
  Result<Outcome> ApplyInsert(const Mutation& m, const json& pk, TxState* st);
  Result<Outcome> ApplyUpdate(const Mutation& m, const json& pk, std::vector<Field> new_values,
                              const std::vector<Field>* old_values, TxState* st);
  Result<Outcome> ApplyDelete(const Mutation& m, const json& pk, TxState* st);
  // The row must be in the token's scope, and every foreign key among `written` columns must
  // point at a row the token can see (or be NULL).
  Result<Outcome> CheckInScope(const SyncedTable& t, const json& pk,
                               const std::vector<Field>* written = nullptr);
  Result<std::optional<Rejection>> CheckOwnership(const SyncedTable& t, const json& pk,
                                                  std::vector<Field>* values, bool fill);
  uint64_t Clock(const Mutation& m, TxState* st) const;
  Status SetClock(uint64_t clock);
  Result<json> FetchTouchedRows(const TxState& st);

  // Temporary keys.
  const SyncedTable* KeyTarget(const SyncedTable& t, std::string_view column) const;
  json Translate(const SyncedTable& target, const json& v, const TxState& st) const;
  json TranslatePk(const Mutation& m, const TxState& st) const;
  // The key an insert writes: translated as TranslatePk, but for the table's own temporary keys
  // (server-assigned columns holding negative values), which the insert replaces.
  json InsertPk(const Mutation& m, const TxState& st) const;
  // True when `pk[i]` is a temporary value of the server-assigned key column i of `t`.
  static bool IsTemporaryKey(const SyncedTable& t, const json& pk, size_t i);
  std::vector<Field> TranslateFields(const SyncedTable& t, const std::vector<Field>& in,
                                     const TxState& st) const;

  Result<std::string> PkParam(const SyncedTable& t, const json& pk, PgParams* params) const;
  std::optional<Rejection> FromPgError(const TxState& st) const;
  static Rejection Reject(std::string code, std::string message, std::string rule,
                          const SyncedTable* table, json pk) {
    return Rejection{std::move(code), std::move(message), std::move(rule), table, std::move(pk)};
  }
  void Touch(TxState* st, const SyncedTable& t, const json& pk) const {
    TouchedRow r{&t, pk};
    if (st->touched_set.insert(r).second) st->touched.push_back(r);
  }

  PgConnection& conn_;
  const ServerModel& model_;
  const Principal& who_;
  std::string client_id_;
  PgError err_;
  std::map<std::pair<std::string, int64_t>, int64_t> keys_;  // committed remaps of this request
};

Result<PgResult> Pusher::Q(const std::string& sql, const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGconn* c = conn_.raw();
  PGresult* r = PQexecParams(c, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  PgResult result(r);
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return result;
  auto field = [&](int code) {
    const char* v = r ? PQresultErrorField(r, code) : nullptr;
    return v ? std::string(v) : std::string();
  };
  err_ = PgError{field(PG_DIAG_SQLSTATE), field(PG_DIAG_CONSTRAINT_NAME), field(PG_DIAG_TABLE_NAME),
                 field(PG_DIAG_COLUMN_NAME), field(PG_DIAG_MESSAGE_PRIMARY)};
  if (err_.message.empty()) {
    err_.message = PQerrorMessage(c);
    while (!err_.message.empty() && (err_.message.back() == '\n' || err_.message.back() == ' ')) {
      err_.message.pop_back();
    }
  }
  const std::string& s = err_.sqlstate;
  if (PQstatus(c) == CONNECTION_BAD || s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0 ||
      s == "57014") {
    return Status(Code::kUnavailable, "database unavailable: " + err_.message);
  }
  return Status(Code::kPostgres, err_.message + " (SQLSTATE " + s + ")");
}

void Pusher::RollbackQuietly() {
  if (PQstatus(conn_.raw()) == CONNECTION_BAD) return;
  if (PQtransactionStatus(conn_.raw()) == PQTRANS_IDLE) return;
  // A failed ROLLBACK leaves nothing to undo that the connection's end would not undo.
  (void)Q("ROLLBACK");
}

Result<std::optional<json>> Pusher::LookupRecord(int64_t tx_id) {
  OUTPOST_ASSIGN_OR_RETURN(
      PgResult r, Q("SELECT result::text FROM _outpost.pushes WHERE tenant = $1 AND user_id = $2"
                    " AND client_id = $3 AND tx_id = $4",
                    RecordKey(tx_id)));
  if (r.rows() == 0) return std::optional<json>();
  json result = json::parse(r.get(0, 0), nullptr, false);
  if (result.is_discarded() || !result.is_object() || !result.contains("status")) {
    return Status(Code::kInternal,
                  "unreadable _outpost.pushes record for tx " + std::to_string(tx_id));
  }
  return std::optional<json>(std::move(result));
}

void Pusher::AbsorbRemaps(const json& result,
                          std::map<std::pair<std::string, int64_t>, int64_t>* into) {
  auto remaps = result.find("remaps");
  if (remaps == result.end() || !remaps->is_array()) return;
  for (const auto& r : *remaps) {
    if (!r.is_object() || !r.contains("table") || !r["table"].is_string()) continue;
    const json& from = r.value("from", json());
    const json& to = r.value("to", json());
    if (!from.is_array() || !to.is_array() || from.size() != to.size()) continue;
    // The key's server-assigned columns are the positions whose temporary value was replaced.
    for (size_t i = 0; i < from.size(); ++i) {
      if (from[i].is_number_integer() && from[i].get<int64_t>() < 0 && to[i].is_number_integer() &&
          from[i] != to[i]) {
        (*into)[{r["table"].get<std::string>(), from[i].get<int64_t>()}] = to[i].get<int64_t>();
      }
    }
  }
}

const SyncedTable* Pusher::KeyTarget(const SyncedTable& t, std::string_view column) const {
  if (t.view->IsServerKeyColumn(column)) return &t;
  for (const auto& fk : t.full->foreign_keys) {
    const SyncedTable* target = model_.Find(fk.ref_table);
    if (!target) continue;
    for (size_t k = 0; k < fk.columns.size() && k < fk.ref_columns.size(); ++k) {
      if (fk.columns[k] == column && target->view->IsServerKeyColumn(fk.ref_columns[k])) {
        return target;
      }
    }
  }
  return nullptr;
}

bool Pusher::IsTemporaryKey(const SyncedTable& t, const json& pk, size_t i) {
  const auto& key = t.view->primary_key;
  return i < key.size() && i < pk.size() && t.view->IsServerKeyColumn(key[i]) &&
         pk[i].is_number_integer() && pk[i].get<int64_t>() < 0;
}

json Pusher::InsertPk(const Mutation& m, const TxState& st) const {
  json pk = TranslatePk(m, st);
  for (size_t i = 0; i < pk.size(); ++i) {
    if (IsTemporaryKey(*m.table, m.pk, i)) pk[i] = m.pk[i];
  }
  return pk;
}

json Pusher::Translate(const SyncedTable& target, const json& v, const TxState& st) const {
  if (!v.is_number_integer() || v.get<int64_t>() >= 0) return v;
  std::pair<std::string, int64_t> key{target.name(), v.get<int64_t>()};
  auto it = st.local_keys.find(key);
  if (it != st.local_keys.end()) return json(it->second);
  auto jt = keys_.find(key);
  if (jt != keys_.end()) return json(jt->second);
  return v;
}

json Pusher::TranslatePk(const Mutation& m, const TxState& st) const {
  json pk = m.pk;
  const auto& key = m.table->view->primary_key;
  for (size_t i = 0; i < key.size(); ++i) {
    if (const SyncedTable* target = KeyTarget(*m.table, key[i])) {
      pk[i] = Translate(*target, pk[i], st);
    }
  }
  return pk;
}

std::vector<Field> Pusher::TranslateFields(const SyncedTable& t, const std::vector<Field>& in,
                                           const TxState& st) const {
  std::vector<Field> out = in;
  for (auto& f : out) {
    if (const SyncedTable* target = KeyTarget(t, f.column->name)) {
      f.value = Translate(*target, f.value, st);
    }
  }
  return out;
}

Result<std::string> Pusher::PkParam(const SyncedTable& t, const json& pk, PgParams* params) const {
  json texts = json::array();
  const auto& key = t.view->primary_key;
  for (size_t i = 0; i < key.size(); ++i) {
    OUTPOST_ASSIGN_OR_RETURN(auto text, JsonToPgText(t.view->FindColumn(key[i])->type, pk[i]));
    texts.push_back(text ? json(*text) : json(nullptr));
  }
  return "(" + AddParam(params, texts.dump()) + "::jsonb)";
}

std::optional<Rejection> Pusher::FromPgError(const TxState& st) const {
  const std::string& s = err_.sqlstate;
  const SyncedTable* table = st.current_table;
  json pk = st.current_pk;
  if (!table && !err_.table.empty()) {
    table = model_.Find(err_.table);
    pk = nullptr;
  }
  if (s.rfind("23", 0) == 0 || s == "P0001") {
    std::string rule = !err_.constraint.empty() ? err_.constraint : err_.column;
    return Reject("constraint_violation", err_.message, rule, table, pk);
  }
  if (s.rfind("22", 0) == 0 || s.rfind("54", 0) == 0 || s == "428C9") {
    return Reject("invalid_value", err_.message, err_.column, table, pk);
  }
  if (s == "42501") return Reject("permission_denied", err_.message, "postgres", table, pk);
  return std::nullopt;
}

// The mutation's clock, clamped to the server's time (reported once per mutation).
uint64_t Pusher::Clock(const Mutation& m, TxState* st) const {
  uint64_t now = ServerHlc();
  if (m.hlc <= now) return m.hlc;
  if (!st->clamp_noticed) {
    st->clamp_noticed = true;
    st->notices.push_back(
        json{{"code", "clock_clamped"}, {"table", m.table->name()}, {"pk", st->current_pk}});
  }
  return now;
}

// The clock the capture triggers record for the columns the next statement writes.
Status Pusher::SetClock(uint64_t clock) {
  return Q("SELECT set_config('outpost.hlc', $1, true)", {std::to_string(clock)}).status();
}

Result<Outcome> Pusher::CheckInScope(const SyncedTable& t, const json& pk,
                                     const std::vector<Field>* written) {
  // One query for the row's own scope and every reference the client wrote (one round trip
  // instead of one per check: they sit on the push's latency path). Column i of its single row
  // answers checks[i]; the first failing check, in order, is the rejection.
  struct Check {
    const ForeignKey* fk = nullptr;  // nullptr: the row's own scope
  };
  std::vector<Check> checks;
  std::optional<Outcome> unbuildable;  // a check whose predicate could not be built (in order)
  PgParams params;
  std::string sql = "SELECT ";
  {
    OUTPOST_ASSIGN_OR_RETURN(std::string pkp, PkParam(t, pk, &params));
    auto scope = model_.ScopePredicate(t, "r", who_, &params);
    if (!scope.ok())
      return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
    sql += "EXISTS (SELECT 1 FROM " + t.qname + " r WHERE " +
           model_.PkMatchExpression(t, "r", pkp) + " AND " + *scope + ")";
    checks.push_back(Check{});
  }
  // References written by the client: a row may only point at rows its token can see, so a
  // tenant cannot attach rows to (or probe for) another tenant's users, codes or parents.
  static const std::vector<ForeignKey> kNone;
  for (const auto& fk : written ? t.full->foreign_keys : kNone) {
    bool touched = false;
    for (const auto& c : fk.columns) touched = touched || FindField(*written, c) != nullptr;
    const SyncedTable* target = model_.Find(fk.ref_table);
    if (!touched || !target) continue;
    ScopeKind kind = target->rule().scope.kind;
    if ((kind == ScopeKind::kGlobal || kind == ScopeKind::kAll) &&
        !model_.Filtered(*target, who_)) {
      continue;
    }
    OUTPOST_ASSIGN_OR_RETURN(std::string fpk, PkParam(t, pk, &params));
    auto target_scope = model_.ScopePredicate(*target, "p", who_, &params);
    if (!target_scope.ok()) {
      unbuildable =
          Outcome(Reject("permission_denied", target_scope.status().message(), fk.name, &t, pk));
      break;
    }
    std::string nulls, match;
    for (size_t i = 0; i < fk.columns.size(); ++i) {
      nulls += (i ? " OR r." : "r.") + PgQuoteIdent(fk.columns[i]) + " IS NULL";
      match += (i ? " AND p." : "p.") + PgQuoteIdent(fk.ref_columns[i]) + " = r." +
               PgQuoteIdent(fk.columns[i]);
    }
    sql += ", EXISTS (SELECT 1 FROM " + t.qname + " r WHERE " +
           model_.PkMatchExpression(t, "r", fpk) + " AND (" + nulls + " OR EXISTS (SELECT 1 FROM " +
           target->qname + " p WHERE " + match + " AND " + *target_scope + ")))";
    checks.push_back(Check{&fk});
  }
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, Q(sql, params));
  if (r.rows() != 1 || r.columns() != static_cast<int>(checks.size())) {
    return Status(Code::kInternal, "scope check answered the wrong shape");
  }
  for (size_t i = 0; i < checks.size(); ++i) {
    if (r.get(0, static_cast<int>(i)) == "t") continue;
    if (!checks[i].fk) {
      return Outcome(Reject("permission_denied",
                            "the row would be outside the token's scope (another tenant's parent "
                            "row, or a row filter value that is not the token's)",
                            "scope", &t, pk));
    }
    const ForeignKey& fk = *checks[i].fk;
    return Outcome(Reject("permission_denied",
                          "\"" + fk.name + "\" points at a row outside the token's scope", fk.name,
                          &t, pk));
  }
  if (unbuildable) return *unbuildable;
  return Outcome();
}

// Tenant and row filter columns: a value given must be the token's; with `fill`, an absent one is
// set from the token (inserts).
Result<std::optional<Rejection>> Pusher::CheckOwnership(const SyncedTable& t, const json& pk,
                                                        std::vector<Field>* values, bool fill) {
  struct Owner {
    std::string column;
    std::string value;  // the token's, as PostgreSQL text
    const char* rule;
  };
  std::vector<Owner> owners;
  const Scope& s = t.rule().scope;
  if (s.kind == ScopeKind::kTenantColumn || s.kind == ScopeKind::kTenantKey) {
    owners.push_back(Owner{s.column, who_.tenant, "tenant"});
  }
  if (model_.Filtered(t, who_)) {
    const RowFilter& f = *t.rule().filter;
    auto claim = who_.claims.find(f.claim);
    if (claim == who_.claims.end() || claim->is_null() || claim->is_structured()) {
      return Outcome(Reject("permission_denied",
                            "the token has no \"" + f.claim + "\" claim for the row filter",
                            "filter", &t, pk));
    }
    owners.push_back(
        Owner{f.column, claim->is_string() ? claim->get<std::string>() : claim->dump(), "filter"});
  }
  for (const auto& o : owners) {
    const Column* c = t.view->FindColumn(o.column);
    if (!c) continue;  // excluded column: the scope check after the write decides
    // The token's value in canonical client JSON (it may not be a value of the column's type).
    auto mine = PgTextToJson(c->type, o.value);
    Field* given = nullptr;
    for (auto& f : *values) {
      if (f.column == c) given = &f;
    }
    if (given) {
      if (!mine.ok() || given->value != *mine) {
        return Outcome(
            Reject("permission_denied",
                   "\"" + o.column + "\" of \"" + t.name() + "\" must be the token's " + o.rule,
                   o.rule, &t, pk));
      }
    } else if (fill) {
      if (!mine.ok()) {
        return Outcome(
            Reject("permission_denied",
                   "the token's " + std::string(o.rule) + " is not a value of \"" + o.column + "\"",
                   o.rule, &t, pk));
      }
      values->push_back(Field{c, *mine});
    }
  }
  return Outcome();
}

Result<Outcome> Pusher::Apply(const Mutation& m, TxState* st) {
  const SyncedTable& t = *m.table;
  // A temporary key being inserted is the one name that must not be translated.
  json pk = m.op == Op::kInsert ? InsertPk(m, *st) : TranslatePk(m, *st);
  st->current_table = &t;
  st->current_pk = pk;
  st->clamp_noticed = false;
  Touch(st, t, pk);
  if (!t.rule().may_write(who_.role)) {
    return Outcome(Reject("permission_denied",
                          "role \"" + who_.role + "\" may not write \"" + t.name() + "\"", "write",
                          &t, pk));
  }
  switch (m.op) {
    case Op::kInsert: return ApplyInsert(m, pk, st);
    case Op::kUpdate: {
      std::vector<Field> nv = TranslateFields(t, m.new_values, *st);
      std::vector<Field> ov = TranslateFields(t, m.old_values, *st);
      // Primary key columns: naming the row's own key is harmless; changing it is refused.
      std::vector<Field> kept;
      const auto& key = t.view->primary_key;
      for (auto& f : nv) {
        auto k = std::find(key.begin(), key.end(), f.column->name);
        if (k != key.end()) {
          if (f.value != pk[static_cast<size_t>(k - key.begin())]) {
            return Outcome(Reject("permission_denied",
                                  "a primary key cannot be changed (\"" + f.column->name + "\")",
                                  "primary_key", &t, pk));
          }
          continue;
        }
        if (f.column->generated) continue;
        kept.push_back(std::move(f));
      }
      OUTPOST_ASSIGN_OR_RETURN(Outcome own, CheckOwnership(t, pk, &kept, false));
      if (own) return own;
      return ApplyUpdate(m, pk, std::move(kept), &ov, st);
    }
    case Op::kDelete: return ApplyDelete(m, pk, st);
  }
  return Status(Code::kInternal, "unknown op");
}

Result<Outcome> Pusher::ApplyInsert(const Mutation& m, const json& pk, TxState* st) {
  const SyncedTable& t = *m.table;
  const auto& key = t.view->primary_key;
  // Every server-assigned key column holds a temporary value: the server assigns them all.
  bool temp = false;
  for (size_t i = 0; i < key.size(); ++i) {
    if (!t.view->IsServerKeyColumn(key[i])) continue;
    if (!IsTemporaryKey(t, pk, i)) {
      return Outcome(
          Reject("permission_denied",
                 "\"" + t.name() + "\"." + key[i] +
                     " is assigned by the server: insert with a temporary (negative) key",
                 "server_key", &t, pk));
    }
    temp = true;
  }
  std::vector<Field> values;
  for (const auto& f : TranslateFields(t, m.new_values, *st)) {
    if (f.column->generated || t.view->IsServerKeyColumn(f.column->name)) continue;
    // A temporary value of another server-assigned column: the server assigns it.
    if (f.column->serial && f.value.is_number_integer() && f.value.get<int64_t>() < 0) continue;
    values.push_back(f);
  }
  // The key's other columns are written as the key names them.
  for (size_t i = 0; i < key.size(); ++i) {
    if (t.view->IsServerKeyColumn(key[i]) || FindField(values, key[i])) continue;
    values.push_back(Field{t.view->FindColumn(key[i]), pk[i]});
  }
  OUTPOST_ASSIGN_OR_RETURN(Outcome own, CheckOwnership(t, pk, &values, true));
  if (own) return own;

  OUTPOST_RETURN_IF_ERROR(SetClock(Clock(m, st)));
  PgParams params;
  std::string cols, vals, key_cols;
  for (const auto& f : values) {
    OUTPOST_ASSIGN_OR_RETURN(auto text, JsonToPgText(f.column->type, f.value));
    if (!cols.empty()) {
      cols += ", ";
      vals += ", ";
    }
    cols += PgQuoteIdent(f.column->name);
    vals += AddParam(&params, std::move(text));
  }
  for (const auto& k : key) key_cols += (key_cols.empty() ? "" : ", ") + PgQuoteIdent(k);
  std::string sql = "INSERT INTO " + t.qname +
                    (cols.empty() ? " DEFAULT VALUES" : " (" + cols + ") VALUES (" + vals + ")");
  if (!temp) sql += " ON CONFLICT (" + key_cols + ") DO NOTHING";
  sql += " RETURNING " + key_cols;
  OUTPOST_ASSIGN_OR_RETURN(PgResult ins, Q(sql, params));
  json row_pk = pk;
  if (temp) {
    if (ins.rows() != 1) {
      return Status(Code::kInternal, "an insert into \"" + t.name() + "\" returned no key");
    }
    row_pk = json::array();
    for (size_t i = 0; i < key.size(); ++i) {
      OUTPOST_ASSIGN_OR_RETURN(
          json v, PgTextToJson(t.view->FindColumn(key[i])->type, ins.get(0, static_cast<int>(i))));
      if (IsTemporaryKey(t, pk, i) && v.is_number_integer()) {
        st->local_keys[{t.name(), pk[i].get<int64_t>()}] = v.get<int64_t>();
      }
      row_pk.push_back(std::move(v));
    }
    st->remaps.push_back(json{{"table", t.name()}, {"from", pk}, {"to", row_pk}});
    st->current_pk = row_pk;
  } else if (ins.rows() == 0) {
    // The key exists. Merge into it when the table says so and the row is the token's.
    OUTPOST_ASSIGN_OR_RETURN(Outcome outside, CheckInScope(t, pk));
    if (outside || !t.rule().conflict.merge_on_insert_conflict) {
      return Outcome(Reject("row_exists", "a row with this key already exists", "", &t, pk));
    }
    std::vector<Field> merged;
    for (const auto& f : values) {
      if (std::find(t.view->primary_key.begin(), t.view->primary_key.end(), f.column->name) ==
          t.view->primary_key.end()) {
        merged.push_back(f);
      }
    }
    OUTPOST_ASSIGN_OR_RETURN(Outcome up, ApplyUpdate(m, pk, std::move(merged), nullptr, st));
    if (up) return up;
    st->notices.push_back(json{{"code", "merged"}, {"table", t.name()}, {"pk", pk}});
    return Outcome();
  }
  return CheckInScope(t, row_pk, &values);
}

// Updates the row `pk` with `new_values` (tenant, key and generated columns already handled),
// resolving each column against the server value (docs/protocol.md, "Conflict rules"). Without
// `old_values` (a merged insert) no column has a base: every differing column goes to its policy.
Result<Outcome> Pusher::ApplyUpdate(const Mutation& m, const json& pk,
                                    std::vector<Field> new_values,
                                    const std::vector<Field>* old_values, TxState* st) {
  const SyncedTable& t = *m.table;
  PgParams params;
  OUTPOST_ASSIGN_OR_RETURN(std::string pkp, PkParam(t, pk, &params));
  // Per column: the base comparison (server value IS NOT DISTINCT FROM base, in the type's
  // canonical text form) and whether the server value is NULL.
  std::string select = "SELECT (SELECT c.clocks::text FROM _outpost.clocks c WHERE c.tbl = " +
                       AddParam(&params, t.name()) +
                       " AND c.pk = " + model_.PkJsonExpression(t, "r") + ")";
  std::vector<std::optional<std::string>> new_text, old_text;
  for (const auto& f : new_values) {
    const std::string& type = model_.PgType(t, f.column->name);
    std::string col = "r." + PgQuoteIdent(f.column->name);
    OUTPOST_ASSIGN_OR_RETURN(auto nt, JsonToPgText(f.column->type, f.value));
    std::optional<std::string> ot;
    if (old_values) {
      const Field* o = FindField(*old_values, f.column->name);
      OUTPOST_ASSIGN_OR_RETURN(ot, JsonToPgText(f.column->type, o->value));
    }
    // Against the base (update) or against the new value itself (merge: already equal).
    std::string cmp = AddParam(&params, old_values ? ot : nt);
    select += ", " + col + "::text IS NOT DISTINCT FROM (" + cmp + "::" + type + ")::text, " + col +
              " IS NULL";
    new_text.push_back(std::move(nt));
    old_text.push_back(std::move(ot));
  }
  auto scope = model_.ScopePredicate(t, "r", who_, &params);
  if (!scope.ok()) {
    return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
  }
  OUTPOST_ASSIGN_OR_RETURN(PgResult cur, Q(select + " FROM " + t.qname + " r WHERE " +
                                               model_.PkMatchExpression(t, "r", pkp) + " AND " +
                                               *scope + " FOR UPDATE OF r",
                                           params));
  if (cur.rows() == 0) {
    // Absent or another tenant's: delete wins, and nothing tells the two apart.
    st->notices.push_back(json{{"code", "row_deleted"}, {"table", t.name()}, {"pk", pk}});
    return Outcome();
  }
  json clocks = cur.is_null(0, 0) ? json() : json::parse(cur.get(0, 0), nullptr, false);
  uint64_t clock = Clock(m, st);
  PgParams up;
  std::string sets;
  for (size_t i = 0; i < new_values.size(); ++i) {
    const Field& f = new_values[i];
    int col = 1 + 2 * static_cast<int>(i);
    bool base_equal = cur.get(0, col) == "t";
    bool server_null = cur.get(0, col + 1) == "t";
    if (!old_values && base_equal) continue;  // merge: the server already has this value
    const std::string& name = f.column->name;
    const std::string& type = model_.PgType(t, name);
    std::string target = PgQuoteIdent(name);
    std::string value;
    if (base_equal) {
      value = AddParam(&up, new_text[i]);
    } else {
      auto policy_it = t.rule().conflict.columns.find(name);
      ConflictPolicy policy = policy_it != t.rule().conflict.columns.end()
                                  ? policy_it->second
                                  : t.rule().conflict.default_policy;
      if (policy == ConflictPolicy::kAdditive &&
          !(old_values && IsNumericKind(f.column->type.kind) && new_text[i] && old_text[i] &&
            !server_null)) {
        policy = ConflictPolicy::kLastWriterWins;  // no delta to apply
      }
      switch (policy) {
        case ConflictPolicy::kServerWins: continue;
        case ConflictPolicy::kReject:
          return Outcome(Reject("conflict",
                                "\"" + name + "\" changed on the server since the client's base",
                                name, &t, pk));
        case ConflictPolicy::kAdditive:
          value = "r." + target + " + (" + AddParam(&up, new_text[i]) + "::" + type + " - " +
                  AddParam(&up, old_text[i]) + "::" + type + ")";
          break;
        case ConflictPolicy::kLastWriterWins: {
          if (clock < ClockOf(clocks, name)) continue;  // the server's write is newer
          value = AddParam(&up, new_text[i]);
          break;
        }
      }
    }
    sets += (sets.empty() ? "" : ", ") + target + " = " + value;
  }
  if (sets.empty()) return Outcome();
  OUTPOST_RETURN_IF_ERROR(SetClock(clock));
  OUTPOST_ASSIGN_OR_RETURN(std::string upk, PkParam(t, pk, &up));
  OUTPOST_RETURN_IF_ERROR(Q("UPDATE " + t.qname + " AS r SET " + sets + " WHERE " +
                                model_.PkMatchExpression(t, "r", upk),
                            up)
                              .status());
  return CheckInScope(t, pk, &new_values);
}

Result<Outcome> Pusher::ApplyDelete(const Mutation& m, const json& pk, TxState* st) {
  const SyncedTable& t = *m.table;
  OUTPOST_RETURN_IF_ERROR(SetClock(Clock(m, st)));
  PgParams params;
  OUTPOST_ASSIGN_OR_RETURN(std::string pkp, PkParam(t, pk, &params));
  auto scope = model_.ScopePredicate(t, "r", who_, &params);
  if (!scope.ok()) {
    return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
  }
  OUTPOST_ASSIGN_OR_RETURN(
      PgResult r, Q("DELETE FROM " + t.qname + " AS r WHERE " +
                        model_.PkMatchExpression(t, "r", pkp) + " AND " + *scope + " RETURNING 1",
                    params));
  if (r.rows() == 0) {
    st->notices.push_back(json{{"code", "row_deleted"}, {"table", t.name()}, {"pk", pk}});
  }
  return Outcome();
}

// `rows` of a rejection: for every row the transaction touched, in first-touch order, the client
// view of its current server value, or null when absent or outside the token's scope.
Result<json> Pusher::FetchTouchedRows(const TxState& st) {
  std::map<const SyncedTable*, std::vector<size_t>> by_table;  // positions in st.touched
  for (size_t i = 0; i < st.touched.size(); ++i) by_table[st.touched[i].table].push_back(i);
  std::vector<json> rows(st.touched.size());
  for (const auto& [table, positions] : by_table) {
    std::vector<json> pks;
    for (size_t i : positions) pks.push_back(st.touched[i].pk);
    auto fetched = FetchRows(conn_, model_, *table, who_, pks);
    if (!fetched.ok()) {
      // A row filter claim the token lacks: none of these rows is the token's to see.
      if (fetched.status().code() == Code::kPermissionDenied) continue;
      return fetched.status();
    }
    for (size_t k = 0; k < positions.size(); ++k) rows[positions[k]] = std::move((*fetched)[k]);
  }
  json out = json::array();
  for (size_t i = 0; i < st.touched.size(); ++i) {
    out.push_back(json{{"table", st.touched[i].table->name()},
                       {"pk", st.touched[i].pk},
                       {"row", std::move(rows[i])}});
  }
  return out;
}

// One attempt at applying `tx` in a PostgreSQL transaction. Returns the result when it applied,
// nullopt with `*rejection` set when it must be rejected, nullopt alone when a concurrent request
// recorded it first or the attempt should be retried (deadlock, serialisation failure).
Result<std::optional<json>> Pusher::TryApply(const ClientTx& tx,
                                             std::optional<Rejection>* rejection, TxState* st) {
  OUTPOST_RETURN_IF_ERROR(Q("BEGIN").status());
  // Claim the record first: a concurrent push of the same transaction waits here until this one
  // ends, then finds the record.
  PgParams claim = RecordKey(tx.tx_id);
  auto claimed =
      Q("INSERT INTO _outpost.pushes (tenant, user_id, client_id, tx_id, result, xid, at)"
        " VALUES ($1, $2, $3, $4, '{}'::jsonb, pg_current_xact_id(), now())"
        " ON CONFLICT DO NOTHING RETURNING xid::text",
        claim);
  if (!claimed.ok() || claimed->rows() == 0) {
    RollbackQuietly();
    if (!claimed.ok()) return claimed.status();
    return std::optional<json>();
  }
  std::string checkpoint(claimed->get(0, 0));
  Status failure;
  for (const auto& m : tx.mutations) {
    auto outcome = Apply(m, st);
    if (!outcome.ok()) {
      failure = outcome.status();
      break;
    }
    if (*outcome) {
      RollbackQuietly();
      *rejection = std::move(*outcome);
      return std::optional<json>();
    }
  }
  if (failure.ok()) {
    st->current_table = nullptr;
    st->current_pk = nullptr;
    // Deferred constraints are checked here, while the failure is still attributable.
    failure = Q("SET CONSTRAINTS ALL IMMEDIATE").status();
  }
  json result{{"tx_id", tx.tx_id},
              {"status", "applied"},
              {"checkpoint", checkpoint},
              {"remaps", st->remaps},
              {"notices", st->notices}};
  if (failure.ok()) {
    PgParams rec = RecordKey(tx.tx_id);
    rec.push_back(result.dump());
    failure = Q("UPDATE _outpost.pushes SET result = $5::jsonb WHERE tenant = $1 AND user_id = $2"
                " AND client_id = $3 AND tx_id = $4",
                rec)
                  .status();
  }
  if (failure.ok()) failure = Q("COMMIT").status();
  if (failure.ok()) return std::optional<json>(std::move(result));
  PgError cause = err_;
  RollbackQuietly();
  err_ = cause;
  if (failure.code() != Code::kPostgres) return failure;
  const std::string& s = err_.sqlstate;
  if (s == "40001" || s == "40P01" || s == "55P03") return std::optional<json>();  // retry
  *rejection = FromPgError(*st);
  if (!*rejection) {
    return Status(Code::kInternal,
                  "applying tx " + std::to_string(tx.tx_id) + ": " + failure.message());
  }
  return std::optional<json>();
}

// Records a rejection in a transaction of its own, with the server's current rows of everything
// the transaction touched. nullopt when a concurrent request recorded the transaction first.
Result<std::optional<json>> Pusher::RecordRejection(const ClientTx& tx, const Rejection& rej,
                                                    const TxState& st) {
  OUTPOST_RETURN_IF_ERROR(Q("BEGIN").status());
  auto run = [&]() -> Result<std::optional<json>> {
    OUTPOST_ASSIGN_OR_RETURN(PgResult x, Q("SELECT pg_current_xact_id()::text"));
    OUTPOST_ASSIGN_OR_RETURN(json rows, FetchTouchedRows(st));
    json error{{"code", rej.code},
               {"message", rej.message},
               {"table", rej.table ? json(rej.table->name()) : json(nullptr)},
               {"pk", rej.pk},
               {"rows", std::move(rows)}};
    if (!rej.rule.empty()) error["rule"] = rej.rule;
    json result{{"tx_id", tx.tx_id},
                {"status", "rejected"},
                {"checkpoint", std::string(x.get(0, 0))},
                {"error", std::move(error)}};
    PgParams rec = RecordKey(tx.tx_id);
    rec.push_back(result.dump());
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult ins,
        Q("INSERT INTO _outpost.pushes (tenant, user_id, client_id, tx_id, result, xid, at)"
          " VALUES ($1, $2, $3, $4, $5::jsonb, pg_current_xact_id(), now())"
          " ON CONFLICT DO NOTHING RETURNING 1",
          rec));
    if (ins.rows() == 0) return std::optional<json>();
    OUTPOST_RETURN_IF_ERROR(Q("COMMIT").status());
    return std::optional<json>(std::move(result));
  };
  auto out = run();
  RollbackQuietly();
  if (!out.ok() && out.status().code() == Code::kPostgres) {
    return Status(Code::kInternal, "recording the rejection of tx " + std::to_string(tx.tx_id) +
                                       ": " + out.status().message());
  }
  return out;
}

Result<json> Pusher::HandleTx(const ClientTx& tx) {
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    OUTPOST_ASSIGN_OR_RETURN(std::optional<json> recorded, LookupRecord(tx.tx_id));
    if (recorded) {
      AbsorbRemaps(*recorded, &keys_);
      return std::move(*recorded);
    }
    TxState st;
    std::optional<Rejection> rejection;
    OUTPOST_ASSIGN_OR_RETURN(std::optional<json> applied, TryApply(tx, &rejection, &st));
    if (applied) {
      for (const auto& [k, v] : st.local_keys) keys_[k] = v;
      return std::move(*applied);
    }
    if (!rejection) continue;  // recorded concurrently, or a deadlock: look again
    // The client restores server state for every row of the transaction, also the rows of the
    // mutations after the one that failed (docs/protocol.md: `rows`).
    for (const auto& m : tx.mutations) {
      Touch(&st, *m.table, m.op == Op::kInsert ? InsertPk(m, st) : TranslatePk(m, st));
    }
    OUTPOST_ASSIGN_OR_RETURN(std::optional<json> rejected, RecordRejection(tx, *rejection, st));
    if (rejected) return std::move(*rejected);
  }
  return Status(Code::kUnavailable, "tx " + std::to_string(tx.tx_id) +
                                        " kept conflicting with concurrent transactions; retry");
}

}  // namespace

Result<json> HandlePush(PgConnection& conn, const ServerModel& model, const Principal& who,
                        std::string_view body) {
  OUTPOST_ASSIGN_OR_RETURN(Request req, ParseRequest(model, body));
  if (PQstatus(conn.raw()) != CONNECTION_OK) {
    return Status(Code::kUnavailable, "the database connection is lost");
  }
  if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) {
    return Status(Code::kInternal, "HandlePush needs an idle connection");
  }
  Pusher pusher(conn, model, who, req.client_id);
  json results = json::array();
  for (const auto& tx : req.txs) {
    OUTPOST_ASSIGN_OR_RETURN(json r, pusher.HandleTx(tx));
    results.push_back(std::move(r));
  }
  return json{{"results", std::move(results)}};
}

}  // namespace outpost::server
