// Rebasing: the app's pending mutations re-applied on top of server rows, and the rows of a
// rejected transaction restored to the server's state (MirrorWriter::RestoreRejected).
#include <algorithm>
#include <set>

#include "mirror_writer_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

// The local JSON of a client JSON value (booleans become 0/1): the form rows and keys take in
// SQL parameters and in the outbox.
Result<json> LocalJson(const json& client) {
  OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(client));
  return ValueToJson(ValueView::Of(v));
}

// The outbox form of a key given as client JSON.
Result<std::string> KeyJsonOfClient(const json& pk) {
  std::vector<Value> key;
  for (const auto& k : pk) {
    OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(k));
    key.push_back(std::move(v));
  }
  return PkJson(key);
}

}  // namespace

Status MirrorWriter::Impl::ApplyGuarded(const std::string& sql, const json& params) {
  OUTPOST_RETURN_IF_ERROR(s->Exec("SAVEPOINT outpost_rebase"));
  auto r = store->Execute(sql, params);
  if (r.ok()) return s->Exec("RELEASE outpost_rebase");
  OUTPOST_RETURN_IF_ERROR(s->Exec("ROLLBACK TO outpost_rebase; RELEASE outpost_rebase"));
  if (r.status().code() == Code::kConstraint) return Status::Ok();
  return r.status();
}

Status MirrorWriter::Impl::UpsertJson(const Table& t, const json& values, bool guarded) {
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
  std::string sql = "INSERT INTO " + QuoteIdent(t.name) + " (" + JoinSql(cols, ", ") +
                    ") VALUES (" + JoinSql(marks, ", ") + ") ON CONFLICT (" + KeyColumnsSql(t) +
                    ") DO " + (sets.empty() ? "NOTHING" : "UPDATE SET " + JoinSql(sets, ", "));
  if (guarded) return ApplyGuarded(sql, params);
  return store->Execute(sql, params).status();
}

Status MirrorWriter::Impl::DeleteByKey(const Table& t, const json& pk) {
  if (!pk.is_array() || pk.size() != t.primary_key.size()) {
    return Status(Code::kInvalidArgument, "a key of \"" + t.name + "\" has the wrong arity");
  }
  return store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " + KeyMatchSql(t), pk)
      .status();
}

Status MirrorWriter::Impl::Reapply(const Mutation& m) {
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
      return ApplyGuarded("UPDATE " + QuoteIdent(t->name) + " SET " + JoinSql(sets, ", ") +
                              " WHERE " + KeyMatchSql(*t),
                          params);
    }
    case Mutation::Op::kDelete: {
      if (!m.pk.is_array() || m.pk.size() != t->primary_key.size()) return Status::Ok();
      return ApplyGuarded("DELETE FROM " + QuoteIdent(t->name) + " WHERE " + KeyMatchSql(*t), m.pk);
    }
  }
  return Status::Ok();
}

Status MirrorWriter::Impl::Rebase(const std::string& table, const std::string& pk_json) {
  OUTPOST_ASSIGN_OR_RETURN(auto muts, s->RowMutations(table, pk_json));
  for (const auto& m : muts) OUTPOST_RETURN_IF_ERROR(Reapply(m));
  return Status::Ok();
}

Result<bool> MirrorWriter::Impl::ClearUniqueConflicts(const RowsWriter& w,
                                                      const std::vector<ValueView>& values) {
  const Table& t = *w.table;
  // "k1" IS ? AND "k2" IS ? for the row's key, its values appended to `params`.
  auto key_is = [&](json* params) {
    std::vector<std::string> conds;
    for (size_t k = 0; k < t.primary_key.size(); ++k) {
      conds.push_back(QuoteIdent(t.primary_key[k]) + " IS ?");
      params->push_back(ValueToJson(values[w.key_positions[k]]));
    }
    return JoinSql(conds, " AND ");
  };
  bool any = false;
  if (keyless_tables.count(t.name)) {
    // No key index: an earlier copy of this very row (sent twice) is what collides.
    json params = json::array();
    std::string same = key_is(&params);
    OUTPOST_ASSIGN_OR_RETURN(
        auto r, store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " + same, params));
    any = r.changes > 0;
  }
  for (const auto& [name, cols] : PlainUniqueSets(t)) {
    std::vector<std::string> conds;
    json params = json::array();
    bool complete = true;
    for (const auto& c : cols) {
      auto pos = std::find(w.columns.begin(), w.columns.end(), c);
      if (pos == w.columns.end()) {
        complete = false;
        break;
      }
      conds.push_back(QuoteIdent(c) + " IS ?");
      params.push_back(ValueToJson(values[static_cast<size_t>(pos - w.columns.begin())]));
    }
    if (!complete) continue;
    std::string same = key_is(&params);
    OUTPOST_ASSIGN_OR_RETURN(auto r,
                             store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " +
                                                JoinSql(conds, " AND ") + " AND NOT (" + same + ")",
                                            params));
    any = any || r.changes > 0;
  }
  return any;
}

Result<bool> MirrorWriter::Impl::ClearUniqueConflictsJson(const Table& t, const json& row) {
  bool any = false;
  for (const auto& [name, cols] : PlainUniqueSets(t)) {
    std::vector<std::string> conds;
    json params = json::array();
    bool complete = true;
    for (const auto& c : cols) {
      auto v = row.find(c);
      if (v == row.end() || v->is_null()) {  // NULLs never collide
        complete = false;
        break;
      }
      conds.push_back(QuoteIdent(c) + " IS ?");
      OUTPOST_ASSIGN_OR_RETURN(json local, LocalJson(*v));
      params.push_back(std::move(local));
    }
    if (!complete) continue;
    std::vector<std::string> same;
    for (const auto& k : t.primary_key) {
      auto v = row.find(k);
      if (v == row.end()) return any;  // a row without its key: nothing to compare against
      same.push_back(QuoteIdent(k) + " IS ?");
      OUTPOST_ASSIGN_OR_RETURN(json local, LocalJson(*v));
      params.push_back(std::move(local));
    }
    OUTPOST_ASSIGN_OR_RETURN(
        auto r, store->Execute("DELETE FROM " + QuoteIdent(t.name) + " WHERE " +
                                   JoinSql(conds, " AND ") + " AND NOT (" +
                                   JoinSql(same, " AND ") + ")",
                               params));
    any = any || r.changes > 0;
  }
  return any;
}

Status MirrorWriter::RestoreRejected(const std::vector<Mutation>& refused,
                                     const std::vector<ServerRowState>& server_rows) {
  const Schema* schema = impl_->schema();
  if (!schema) return Status::Ok();
  // Server state for every row the answer lists, then what is still pending on top.
  std::set<std::pair<std::string, std::string>> restored;  // (table, PkJson)
  for (const auto& r : server_rows) {
    const Table* t = schema->FindTable(r.table);
    if (!t || !r.pk.is_array() || r.pk.size() != t->primary_key.size()) continue;
    json local_pk = json::array();
    for (const auto& k : r.pk) {
      OUTPOST_ASSIGN_OR_RETURN(json v, LocalJson(k));
      local_pk.push_back(std::move(v));
    }
    if (r.row.is_object()) {
      // A local row with pending writes may hold the server row's unique values (taken after the
      // refused transaction): the server's row wins, as in a pull (TupleWriter::Write).
      OUTPOST_RETURN_IF_ERROR(impl_->ClearUniqueConflictsJson(*t, r.row).status());
      OUTPOST_RETURN_IF_ERROR(impl_->UpsertJson(*t, r.row, /*guarded=*/false)
                                  .WithContext("restoring \"" + t->name + "\" after a rejection"));
    } else {
      OUTPOST_RETURN_IF_ERROR(impl_->DeleteByKey(*t, local_pk));
    }
    OUTPOST_ASSIGN_OR_RETURN(std::string pk_json, KeyJsonOfClient(r.pk));
    OUTPOST_RETURN_IF_ERROR(impl_->Rebase(t->name, pk_json));
    restored.emplace(t->name, pk_json);
  }
  // Rows the answer did not list: undo the refused mutations from their recorded bases, newest
  // first (insert -> delete, update -> old values, delete -> the old row), then rebase.
  std::set<std::pair<std::string, std::string>> undone;
  for (auto it = refused.rbegin(); it != refused.rend(); ++it) {
    const Mutation& m = *it;
    const Table* t = schema->FindTable(m.table);
    if (!t || !m.pk.is_array() || m.pk.size() != t->primary_key.size()) continue;
    OUTPOST_ASSIGN_OR_RETURN(std::string pk_json, KeyJsonOfClient(m.pk));
    if (restored.count({t->name, pk_json})) continue;
    Mutation undo = m;
    undo.new_values = m.old_values;
    undo.old_values = json::object();
    switch (m.op) {
      case Mutation::Op::kInsert: undo.op = Mutation::Op::kDelete; break;
      case Mutation::Op::kUpdate: undo.op = Mutation::Op::kUpdate; break;
      case Mutation::Op::kDelete: undo.op = Mutation::Op::kInsert; break;
    }
    OUTPOST_RETURN_IF_ERROR(impl_->Reapply(undo));
    undone.emplace(t->name, pk_json);
  }
  for (const auto& [table, pk_json] : undone) {
    OUTPOST_RETURN_IF_ERROR(impl_->Rebase(table, pk_json));
  }
  return Status::Ok();
}

}  // namespace outpost
