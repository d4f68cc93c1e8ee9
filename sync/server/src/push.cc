// POST /v1/push: applying a batch of client transactions, each exactly once. The contract is
// docs/protocol.md ("POST /v1/push", "Conflict rules", "Temporary keys"). The pieces:
//   push_request.h  the request checked against the model;
//   write_guard.h   what the token may write;
//   temp_keys.h     temporary keys of server-assigned key columns;
//   conflict.h      the conflict rule of each column an update writes;
//   push_record.h   the exactly-once record;
// and this file, which applies each mutation and turns PostgreSQL's answers into results.
#include "push.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "conflict.h"
#include "outpost/dependencies.h"
#include "outpost/value.h"
#include "push_record.h"
#include "rows.h"
#include "temp_keys.h"
#include "write_guard.h"

namespace outpost::server {
namespace {

using nlohmann::json;

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
  std::vector<protocol::Notice> notices;
  std::vector<protocol::KeyRemap> remaps;
  KeyMap pending_keys;              // its own inserts' keys, until it commits
  std::vector<TouchedRow> touched;  // in first-touch order
  std::set<TouchedRow> touched_set;
  const SyncedTable* current_table = nullptr;  // the mutation being applied
  json current_pk;
  bool clamp_noticed = false;  // clock_clamped already reported for the current mutation

  void Touch(const SyncedTable& t, const json& pk) {
    TouchedRow r{&t, pk};
    if (touched_set.insert(r).second) touched.push_back(r);
  }
  void Notice(std::string code, const SyncedTable& t, const json& pk,
              std::vector<std::string> columns = {}) {
    notices.push_back(protocol::Notice{std::move(code), t.name(), pk, std::move(columns)});
  }
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
  return protocol::ParseDecimalU64(*it).value_or(0);
}

// True when the JSON text `text` has a string holding U+0000 (the escape \u0000).
bool JsonTextHasNul(std::string_view text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\0') return true;
    if (text[i] == '"') {
      in_string = !in_string;
    } else if (in_string && text[i] == '\\' && i + 1 < text.size()) {
      if (text.compare(i + 1, 5, "u0000") == 0) return true;
      ++i;  // the escaped character
    }
  }
  return false;
}

// The column among `fields` whose text value holds U+0000, or nullptr. PostgreSQL cannot store
// the character in text, and libpq would silently cut the parameter at it.
const Column* ColumnWithNul(const std::vector<Field>& fields) {
  for (const auto& f : fields) {
    if (f.value.is_string()) {
      const auto& s = f.value.get_ref<const std::string&>();
      if (s.find('\0') != std::string::npos) return f.column;
      if ((f.column->type.kind == TypeKind::kJson || f.column->type.kind == TypeKind::kArray) &&
          JsonTextHasNul(s)) {
        return f.column;
      }
    } else if (f.value.is_structured() && JsonTextHasNul(f.value.dump())) {
      return f.column;
    }
  }
  return nullptr;
}

// The rejection a PostgreSQL error stands for (the mutation being applied is the culprit), or
// nullopt when the error is not the client's fault.
Outcome RejectionOf(const PgError& err, const ServerModel& model, const TxState& st) {
  const std::string& s = err.sqlstate;
  const SyncedTable* table = st.current_table;
  json pk = st.current_pk;
  if (!table && !err.table.empty()) {
    table = model.Find(err.table);
    pk = nullptr;
  }
  // A foreign key of the written row pointing at no row: answered like a reference to a row
  // out of scope (write_guard.h), so that the two cannot be told apart.
  if (s == "23503" && table && err.table == table->full->name) {
    for (const auto& fk : table->full->foreign_keys) {
      if (fk.name == err.constraint) return ReferenceRejection(fk.name, table, pk);
    }
  }
  if (s.rfind("23", 0) == 0 || s == "P0001") {
    std::string rule = !err.constraint.empty() ? err.constraint : err.column;
    return Reject("constraint_violation", err.message, rule, table, pk);
  }
  if (s.rfind("22", 0) == 0 || s.rfind("54", 0) == 0 || s == "428C9") {
    return Reject("invalid_value", err.message, err.column, table, pk);
  }
  if (s == "42501") return Reject("permission_denied", err.message, "postgres", table, pk);
  return std::nullopt;
}

class Pusher {
 public:
  Pusher(PgConnection& conn, const ServerModel& model, const Principal& who,
         const std::string& client_id)
      : conn_(conn),
        model_(model),
        who_(who),
        guard_(conn, model, who),
        keys_(model),
        record_(conn, who, client_id) {}

  // The result of `tx`: recorded earlier, applied now, or rejected now.
  Result<protocol::TxResult> HandleTx(const ClientTx& tx);

 private:
  void RollbackQuietly();
  Result<std::optional<protocol::TxResult>> TryApply(const ClientTx& tx, Outcome* rejection,
                                                     TxState* st);
  Result<std::optional<protocol::TxResult>> RecordRejection(const ClientTx& tx,
                                                            const Rejection& rej,
                                                            const TxState& st);
  Result<Outcome> Apply(const Mutation& m, TxState* st);
  Result<Outcome> ApplyInsert(const Mutation& m, const json& pk, TxState* st);
  Result<Outcome> ApplyUpdate(const Mutation& m, const json& pk, std::vector<Field> new_values,
                              const std::vector<Field>* old_values, TxState* st);
  Result<Outcome> ApplyDelete(const Mutation& m, const json& pk, TxState* st);
  uint64_t Clock(const Mutation& m, TxState* st) const;
  Status SetClock(uint64_t clock);
  Result<std::vector<protocol::RowState>> FetchTouchedRows(const TxState& st);

  // The rejected transaction of this request (or of a replayed rejection) that `tx` depends on,
  // as a rejection naming it (outpost/dependencies.h), or nullopt.
  Outcome DependencyOf(const ClientTx& tx) const;
  void NoteRejected(const ClientTx& tx);

  const Principal& who() const { return who_; }

  PgConnection& conn_;
  const ServerModel& model_;
  const Principal& who_;
  WriteGuard guard_;
  TemporaryKeys keys_;
  PushRecord record_;
  // Rows of the transactions of this request answered "rejected" so far, in the client's naming
  // (temporary keys untranslated: a rejected insert's never get a server value).
  protocol::RejectedRows rejected_;
};

Outcome Pusher::DependencyOf(const ClientTx& tx) const {
  if (rejected_.empty()) return std::nullopt;
  for (const auto& m : tx.mutations) {
    json new_values = json::object();
    for (const auto& f : m.new_values) new_values[f.column->name] = f.value;
    int64_t earlier = rejected_.DependsOn(m.op, *m.table->view, m.pk, new_values);
    if (earlier == 0) continue;
    Rejection r = Reject(protocol::kDependentCode, protocol::DependentMessage(earlier), "",
                         m.table, m.pk);
    r.depends_on = earlier;
    return r;
  }
  return std::nullopt;
}

void Pusher::NoteRejected(const ClientTx& tx) {
  for (const auto& m : tx.mutations) rejected_.Add(tx.tx_id, m.op, *m.table->view, m.pk);
}

void Pusher::RollbackQuietly() {
  if (!conn_.healthy() || PQtransactionStatus(conn_.raw()) == PQTRANS_IDLE) return;
  // A failed ROLLBACK leaves nothing to undo that the connection's end would not undo.
  (void)conn_.Exec("ROLLBACK");
}

// The mutation's clock, clamped to the server's time (reported once per mutation).
uint64_t Pusher::Clock(const Mutation& m, TxState* st) const {
  uint64_t now = ServerHlc();
  if (m.hlc <= now) return m.hlc;
  if (!st->clamp_noticed) {
    st->clamp_noticed = true;
    st->Notice("clock_clamped", *m.table, st->current_pk);
  }
  return now;
}

// The clock the capture triggers record for the columns the next statement writes.
Status Pusher::SetClock(uint64_t clock) {
  return conn_.Exec("SELECT set_config('outpost.hlc', $1, true)", {std::to_string(clock)}).status();
}

Result<Outcome> Pusher::Apply(const Mutation& m, TxState* st) {
  const SyncedTable& t = *m.table;
  // A temporary key being inserted is the one name that must not be translated.
  json pk = m.op == MutationOp::kInsert ? keys_.InsertPk(m, st->pending_keys)
                                        : keys_.TranslatePk(m, st->pending_keys);
  st->current_table = &t;
  st->current_pk = pk;
  st->clamp_noticed = false;
  st->Touch(t, pk);
  if (Outcome role = guard_.CheckRole(t, pk)) return role;
  {
    std::vector<Field> key_fields;
    for (size_t i = 0; i < t.view->primary_key.size(); ++i) {
      key_fields.push_back(Field{t.view->FindColumn(t.view->primary_key[i]), m.pk[i]});
    }
    const Column* nul = ColumnWithNul(key_fields);
    if (!nul) nul = ColumnWithNul(m.new_values);
    if (!nul) nul = ColumnWithNul(m.old_values);
    if (nul) {
      return Outcome(Reject("invalid_value",
                            "\"" + nul->name + "\" of \"" + t.name() +
                                "\": text cannot hold U+0000 (PostgreSQL cannot store it)",
                            nul->name, &t, pk));
    }
  }
  switch (m.op) {
    case MutationOp::kInsert: return ApplyInsert(m, pk, st);
    case MutationOp::kUpdate: {
      std::vector<Field> nv = keys_.TranslateFields(t, m.new_values, st->pending_keys);
      std::vector<Field> ov = keys_.TranslateFields(t, m.old_values, st->pending_keys);
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
      if (Outcome own = guard_.CheckOwnership(t, pk, &kept, false)) return own;
      OUTPOST_ASSIGN_OR_RETURN(Outcome cascade, guard_.CheckCascades(t, pk, &kept));
      if (cascade) return cascade;
      OUTPOST_ASSIGN_OR_RETURN(Outcome cols, guard_.CheckUpdateColumns(t, pk, kept, &ov));
      if (cols) return cols;
      return ApplyUpdate(m, pk, std::move(kept), &ov, st);
    }
    case MutationOp::kDelete: return ApplyDelete(m, pk, st);
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
    if (!TemporaryKeys::IsTemporaryKey(t, pk, i)) {
      return Outcome(
          Reject("permission_denied",
                 "\"" + t.name() + "\"." + key[i] +
                     " is assigned by the server: insert with a temporary (negative) key",
                 "server_key", &t, pk));
    }
    temp = true;
  }
  std::vector<Field> values;
  for (const auto& f : keys_.TranslateFields(t, m.new_values, st->pending_keys)) {
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
  if (Outcome cols = guard_.CheckInsertColumns(t, pk, &values)) return cols;
  if (Outcome own = guard_.CheckOwnership(t, pk, &values, true)) return own;

  OUTPOST_RETURN_IF_ERROR(SetClock(Clock(m, st)));
  PgParams params;
  std::string cols, vals, key_cols;
  for (const auto& f : values) {
    OUTPOST_ASSIGN_OR_RETURN(auto text, JsonToPgText(f.column->type, f.value));
    if (!cols.empty()) {
      cols += ", ";
      vals += ", ";
    }
    cols += QuoteIdent(f.column->name);
    vals += AddParam(&params, std::move(text));
  }
  for (const auto& k : key) key_cols += (key_cols.empty() ? "" : ", ") + QuoteIdent(k);
  std::string sql = "INSERT INTO " + t.qname +
                    (cols.empty() ? " DEFAULT VALUES" : " (" + cols + ") VALUES (" + vals + ")");
  if (!temp) sql += " ON CONFLICT (" + key_cols + ") DO NOTHING";
  sql += " RETURNING " + key_cols;
  OUTPOST_ASSIGN_OR_RETURN(PgResult ins, conn_.Exec(sql, params));
  json row_pk = pk;
  if (temp) {
    if (ins.rows() != 1) {
      return Status(Code::kInternal, "an insert into \"" + t.name() + "\" returned no key");
    }
    row_pk = json::array();
    for (size_t i = 0; i < key.size(); ++i) {
      OUTPOST_ASSIGN_OR_RETURN(
          json v, PgTextToJson(t.view->FindColumn(key[i])->type, ins.get(0, static_cast<int>(i))));
      if (TemporaryKeys::IsTemporaryKey(t, pk, i) && v.is_number_integer()) {
        st->pending_keys[{t.name(), pk[i].get<int64_t>()}] = v.get<int64_t>();
      }
      row_pk.push_back(std::move(v));
    }
    st->remaps.push_back(protocol::KeyRemap{t.name(), pk, row_pk});
    st->current_pk = row_pk;
  } else if (ins.rows() == 0) {
    // The key exists. Merge into it when the table says so and the row is the token's.
    OUTPOST_ASSIGN_OR_RETURN(Outcome outside, guard_.CheckInScope(t, pk));
    if (outside) {
      // Another tenant's row (or one outside the row filter): answered as the insert of a fresh
      // key would be (its references first), else as any row outside the scope, saying nothing
      // about the row that holds the key.
      OUTPOST_ASSIGN_OR_RETURN(Outcome reference, guard_.CheckReferences(t, pk, values));
      if (reference) return reference;
      return Outcome(Reject("permission_denied", kOutOfScopeMessage, "scope", &t, pk));
    }
    if (!t.rule().conflict.merge_on_insert_conflict) {
      return Outcome(Reject("row_exists", "a row with this key already exists", "", &t, pk));
    }
    std::vector<Field> merged;
    for (const auto& f : values) {
      if (std::find(key.begin(), key.end(), f.column->name) == key.end()) merged.push_back(f);
    }
    // A merge is an update of the existing row: judged by the role's update permissions.
    OUTPOST_ASSIGN_OR_RETURN(Outcome cols, guard_.CheckUpdateColumns(t, pk, merged, nullptr));
    if (cols) return cols;
    OUTPOST_ASSIGN_OR_RETURN(Outcome up, ApplyUpdate(m, pk, std::move(merged), nullptr, st));
    if (up) return up;
    st->Notice("merged", t, pk);
    return Outcome();
  }
  return guard_.CheckInScope(t, row_pk, &values);
}

// Updates the row `pk` with `new_values` (tenant, key and generated columns already handled),
// each column by its conflict rule (conflict.h) against the server's current row, read and
// locked in one query. Without `old_values` (a merged insert) no column has a base.
Result<Outcome> Pusher::ApplyUpdate(const Mutation& m, const json& pk,
                                    std::vector<Field> new_values,
                                    const std::vector<Field>* old_values, TxState* st) {
  const SyncedTable& t = *m.table;
  // The row lock first, in a statement of its own. A statement that waits for a lock reads the
  // locked row again once it has it, but everything else (the clocks below) from the snapshot
  // it took before waiting: a concurrent push of this row would commit its values and clocks
  // unseen, and the last-writer rule would compare against stale clocks. The next statement
  // takes a new snapshot, which has them.
  {
    PgParams lock_params;
    OUTPOST_ASSIGN_OR_RETURN(std::string lock_pk, model_.PkParam(t, pk, &lock_params));
    auto lock_scope = model_.ScopePredicate(t, "r", who(), &lock_params);
    if (!lock_scope.ok()) {
      return Outcome(Reject("permission_denied", lock_scope.status().message(), "scope", &t, pk));
    }
    OUTPOST_RETURN_IF_ERROR(conn_
                                .Exec("SELECT 1 FROM " + t.qname + " r WHERE " +
                                          model_.PkMatchExpression(t, "r", lock_pk) + " AND " +
                                          *lock_scope + " FOR UPDATE OF r",
                                      lock_params)
                                .status());
  }
  PgParams params;
  OUTPOST_ASSIGN_OR_RETURN(std::string pkp, model_.PkParam(t, pk, &params));
  // Per column: the base comparison (server value IS NOT DISTINCT FROM base, in the type's
  // canonical text form) and whether the server value is NULL.
  std::string select = "SELECT (SELECT c.clocks::text FROM _outpost.clocks c WHERE c.tbl = " +
                       AddParam(&params, t.name()) +
                       " AND c.pk = " + model_.PkJsonExpression(t, "r") + ")";
  std::vector<std::optional<std::string>> new_text, old_text;
  for (const auto& f : new_values) {
    const std::string& type = model_.PgType(t, f.column->name);
    std::string col = "r." + QuoteIdent(f.column->name);
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
  auto scope = model_.ScopePredicate(t, "r", who(), &params);
  if (!scope.ok()) {
    return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
  }
  OUTPOST_ASSIGN_OR_RETURN(PgResult cur, conn_.Exec(select + " FROM " + t.qname + " r WHERE " +
                                                        model_.PkMatchExpression(t, "r", pkp) +
                                                        " AND " + *scope + " FOR UPDATE OF r",
                                                    params));
  if (cur.rows() == 0) {
    // Absent or another tenant's: delete wins, and nothing tells the two apart.
    st->Notice("row_deleted", t, pk);
    return Outcome();
  }
  json clocks = cur.is_null(0, 0) ? json() : json::parse(cur.get(0, 0), nullptr, false);
  const uint64_t clock = Clock(m, st);
  PgParams up;
  std::string sets;
  std::vector<std::string> superseded;  // columns whose client value lost to the server's
  for (size_t i = 0; i < new_values.size(); ++i) {
    const Field& f = new_values[i];
    const int col = 1 + 2 * static_cast<int>(i);
    const std::string& name = f.column->name;
    ColumnConflict c;
    auto policy = t.rule().conflict.columns.find(name);
    c.policy = policy != t.rule().conflict.columns.end() ? policy->second
                                                         : t.rule().conflict.default_policy;
    c.has_base = old_values != nullptr;
    c.base_matches = cur.get(0, col) == "t";
    c.delta_applies = IsNumericKind(f.column->type.kind) && new_text[i] && old_text[i] &&
                      cur.get(0, col + 1) != "t";
    c.client_clock = clock;
    c.server_clock = ClockOf(clocks, name);
    const std::string& type = model_.PgType(t, name);
    std::string value;
    switch (ResolveColumn(c)) {
      case ColumnAction::kKeepServer:
        // Without a base match the server's value is another write's, kept over this one.
        if (!c.base_matches) superseded.push_back(name);
        continue;
      case ColumnAction::kReject:
        return Outcome(Reject("conflict",
                              "\"" + name + "\" changed on the server since the client's base",
                              name, &t, pk));
      case ColumnAction::kAddDelta:
        value = "r." + QuoteIdent(name) + " + (" + AddParam(&up, new_text[i]) + "::" + type +
                " - " + AddParam(&up, old_text[i]) + "::" + type + ")";
        break;
      case ColumnAction::kWrite: value = AddParam(&up, new_text[i]); break;
    }
    sets += (sets.empty() ? "" : ", ") + QuoteIdent(name) + " = " + value;
  }
  if (!superseded.empty()) st->Notice("superseded", t, pk, std::move(superseded));
  if (sets.empty()) return Outcome();
  OUTPOST_RETURN_IF_ERROR(SetClock(clock));
  OUTPOST_ASSIGN_OR_RETURN(std::string upk, model_.PkParam(t, pk, &up));
  OUTPOST_RETURN_IF_ERROR(conn_
                              .Exec("UPDATE " + t.qname + " AS r SET " + sets + " WHERE " +
                                        model_.PkMatchExpression(t, "r", upk),
                                    up)
                              .status());
  return guard_.CheckInScope(t, pk, &new_values);
}

Result<Outcome> Pusher::ApplyDelete(const Mutation& m, const json& pk, TxState* st) {
  const SyncedTable& t = *m.table;
  OUTPOST_RETURN_IF_ERROR(SetClock(Clock(m, st)));
  PgParams params;
  OUTPOST_ASSIGN_OR_RETURN(std::string pkp, model_.PkParam(t, pk, &params));
  auto scope = model_.ScopePredicate(t, "r", who(), &params);
  if (!scope.ok()) {
    return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
  }
  OUTPOST_ASSIGN_OR_RETURN(Outcome cascade, guard_.CheckCascades(t, pk, nullptr));
  if (cascade) return cascade;
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, conn_.Exec("DELETE FROM " + t.qname + " AS r WHERE " +
                                                      model_.PkMatchExpression(t, "r", pkp) +
                                                      " AND " + *scope + " RETURNING 1",
                                                  params));
  if (r.rows() == 0) st->Notice("row_deleted", t, pk);
  return Outcome();
}

// The `rows` of a rejection: for every row the transaction touched, in first-touch order, the
// client view of its current server value, or null when absent or outside the token's scope.
Result<std::vector<protocol::RowState>> Pusher::FetchTouchedRows(const TxState& st) {
  std::map<const SyncedTable*, std::vector<size_t>> by_table;  // positions in st.touched
  for (size_t i = 0; i < st.touched.size(); ++i) by_table[st.touched[i].table].push_back(i);
  std::vector<json> rows(st.touched.size());
  for (const auto& [table, positions] : by_table) {
    std::vector<json> pks;
    for (size_t i : positions) pks.push_back(st.touched[i].pk);
    auto fetched = FetchRows(conn_, model_, *table, who(), pks);
    if (!fetched.ok()) {
      // A row filter claim the token lacks: none of these rows is the token's to see.
      if (fetched.status().code() == Code::kPermissionDenied) continue;
      return fetched.status();
    }
    for (size_t k = 0; k < positions.size(); ++k) rows[positions[k]] = std::move((*fetched)[k]);
  }
  std::vector<protocol::RowState> out;
  for (size_t i = 0; i < st.touched.size(); ++i) {
    out.push_back(
        protocol::RowState{st.touched[i].table->name(), st.touched[i].pk, std::move(rows[i])});
  }
  return out;
}

// One attempt at applying `tx` in a PostgreSQL transaction. Returns the result when it applied,
// nullopt with `*rejection` set when it must be rejected, nullopt alone when a concurrent request
// recorded it first or the attempt should be retried (deadlock, serialisation failure).
Result<std::optional<protocol::TxResult>> Pusher::TryApply(const ClientTx& tx, Outcome* rejection,
                                                           TxState* st) {
  OUTPOST_RETURN_IF_ERROR(conn_.Exec("BEGIN").status());
  auto claimed = record_.Claim(tx.tx_id);
  if (!claimed.ok() || !*claimed) {
    RollbackQuietly();
    if (!claimed.ok()) return claimed.status();
    return std::optional<protocol::TxResult>();
  }
  protocol::TxResult result;
  result.tx_id = tx.tx_id;
  result.applied = true;
  result.checkpoint = **claimed;
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
      return std::optional<protocol::TxResult>();
    }
  }
  if (failure.ok()) {
    st->current_table = nullptr;
    st->current_pk = nullptr;
    // Deferred constraints are checked here, while the failure is still attributable.
    failure = conn_.Exec("SET CONSTRAINTS ALL IMMEDIATE").status();
  }
  result.remaps = st->remaps;
  result.notices = st->notices;
  if (failure.ok()) failure = record_.Complete(result);
  if (failure.ok()) failure = conn_.Exec("COMMIT").status();
  if (failure.ok()) return std::optional<protocol::TxResult>(std::move(result));
  const PgError cause = conn_.last_error();
  RollbackQuietly();
  if (failure.code() != Code::kPostgres) return failure;
  const std::string& s = cause.sqlstate;
  if (s == "40001" || s == "40P01" || s == "55P03") {
    return std::optional<protocol::TxResult>();  // retry
  }
  *rejection = RejectionOf(cause, model_, *st);
  if (!*rejection) {
    return Status(Code::kInternal, "applying tx " + std::to_string(tx.tx_id) + ": " +
                                       failure.message() + " (SQLSTATE " + s + ")");
  }
  return std::optional<protocol::TxResult>();
}

// Records a rejection in a transaction of its own, with the server's current rows of everything
// the transaction touched. nullopt when a concurrent request recorded the transaction first.
Result<std::optional<protocol::TxResult>> Pusher::RecordRejection(const ClientTx& tx,
                                                                  const Rejection& rej,
                                                                  const TxState& st) {
  OUTPOST_RETURN_IF_ERROR(conn_.Exec("BEGIN").status());
  auto run = [&]() -> Result<std::optional<protocol::TxResult>> {
    protocol::TxResult result;
    result.tx_id = tx.tx_id;
    result.applied = false;
    OUTPOST_ASSIGN_OR_RETURN(result.checkpoint, record_.CurrentXid());
    OUTPOST_ASSIGN_OR_RETURN(result.error.rows, FetchTouchedRows(st));
    result.error.code = rej.code;
    result.error.message = rej.message;
    result.error.rule = rej.rule;
    result.error.table = rej.table ? rej.table->name() : "";
    result.error.pk = rej.pk;
    result.error.depends_on = rej.depends_on;
    OUTPOST_ASSIGN_OR_RETURN(bool inserted, record_.InsertRejection(result));
    if (!inserted) return std::optional<protocol::TxResult>();
    OUTPOST_RETURN_IF_ERROR(conn_.Exec("COMMIT").status());
    return std::optional<protocol::TxResult>(std::move(result));
  };
  auto out = run();
  RollbackQuietly();
  if (!out.ok() && out.status().code() == Code::kPostgres) {
    return Status(Code::kInternal, "recording the rejection of tx " + std::to_string(tx.tx_id) +
                                       ": " + out.status().message());
  }
  return out;
}

Result<protocol::TxResult> Pusher::HandleTx(const ClientTx& tx) {
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    OUTPOST_ASSIGN_OR_RETURN(std::optional<protocol::TxResult> recorded, record_.Lookup(tx.tx_id));
    if (recorded) {
      keys_.Absorb(*recorded);
      if (!recorded->applied) NoteRejected(tx);
      return std::move(*recorded);
    }
    TxState st;
    Outcome rejection = DependencyOf(tx);
    if (!rejection) {
      OUTPOST_ASSIGN_OR_RETURN(std::optional<protocol::TxResult> applied,
                               TryApply(tx, &rejection, &st));
      if (applied) {
        keys_.Commit(st.pending_keys);
        return std::move(*applied);
      }
    }
    if (!rejection) continue;  // recorded concurrently, or a deadlock: look again
    // The client restores server state for every row of the transaction, also the rows of the
    // mutations after the one that failed (docs/protocol.md: `rows`).
    for (const auto& m : tx.mutations) {
      st.Touch(*m.table, m.op == MutationOp::kInsert ? keys_.InsertPk(m, st.pending_keys)
                                                     : keys_.TranslatePk(m, st.pending_keys));
    }
    OUTPOST_ASSIGN_OR_RETURN(std::optional<protocol::TxResult> rejected,
                             RecordRejection(tx, *rejection, st));
    if (rejected) {
      NoteRejected(tx);
      return std::move(*rejected);
    }
  }
  return Status(Code::kUnavailable, "tx " + std::to_string(tx.tx_id) +
                                        " kept conflicting with concurrent transactions; retry");
}

}  // namespace

Result<std::vector<protocol::TxResult>> HandlePush(PgConnection& conn, const ServerModel& model,
                                                   const Principal& who, std::string_view body) {
  OUTPOST_ASSIGN_OR_RETURN(PushBatch batch, ParsePushRequest(model, body));
  if (!conn.healthy()) return Status(Code::kUnavailable, "the database connection is lost");
  if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) {
    return Status(Code::kInternal, "HandlePush needs an idle connection");
  }
  Pusher pusher(conn, model, who, batch.client_id);
  std::vector<protocol::TxResult> results;
  for (const auto& tx : batch.txs) {
    OUTPOST_ASSIGN_OR_RETURN(protocol::TxResult r, pusher.HandleTx(tx));
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace outpost::server
