// Parked rows: server rows whose parent has not arrived (EngineOptions::park_fk_violations),
// set aside in _outpost_parked and retried at every parking commit.
#include <algorithm>
#include <tuple>

#include "store_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

constexpr int kMaxCascadeDepth = 4;  // ON DELETE CASCADE chains followed this deep when parking

void CascadeParkingSqlAt(const Schema& schema, const Table& t, const std::string& where, int depth,
                         std::vector<std::string>* out) {
  if (depth >= kMaxCascadeDepth) return;
  for (size_t id = 0; id < schema.tables.size(); ++id) {
    const Table& child = schema.tables[id];
    if (&child == &t) continue;  // self-references: not followed
    for (const auto& fk : child.foreign_keys) {
      const bool cascade = fk.on_delete == FkAction::kCascade;
      const bool sets = fk.on_delete == FkAction::kSetNull || fk.on_delete == FkAction::kSetDefault;
      if (fk.ref_table != t.name || !(cascade || sets)) continue;
      std::string fk_cols, ref_cols, cols, key;
      for (const auto& c : fk.columns) fk_cols += (fk_cols.empty() ? "" : ", ") + QuoteIdent(c);
      for (const auto& c : fk.ref_columns) ref_cols += (ref_cols.empty() ? "" : ", ") + QuoteIdent(c);
      for (const auto& c : child.columns) cols += ", " + QuoteIdent(c.name);
      for (const auto& k : child.primary_key) key += (key.empty() ? "" : ", ") + QuoteIdent(k);
      std::string child_where = "(" + fk_cols + ") IN (SELECT " + ref_cols + " FROM " +
                                QuoteIdent(t.name) + " WHERE " + where + ")";
      out->push_back("INSERT OR REPLACE INTO _outpost_parked (tbl, pk, data) SELECT " +
                     QuoteLiteral(child.name) + ", outpost_pk_json(" + key +
                     "), outpost_insert_json(" + std::to_string(id) + cols + ") FROM " +
                     QuoteIdent(child.name) + " WHERE " + child_where);
      CascadeParkingSqlAt(schema, child, child_where, depth + 1, out);
      // SET NULL / SET DEFAULT would rewrite the child's reference; parked and removed first, it
      // keeps it (and comes back with it).
      if (sets) out->push_back("DELETE FROM " + QuoteIdent(child.name) + " WHERE " + child_where);
    }
  }
}

}  // namespace

void CascadeParkingSql(const Schema& schema, const Table& t, const std::string& where,
                       std::vector<std::string>* out) {
  CascadeParkingSqlAt(schema, t, where, 0, out);
}

Result<int64_t> Store::ParkedCount() {
  Stmt q(impl_->db, "SELECT count(*) FROM _outpost_parked");
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? sqlite3_column_int64(q.get(), 0) : 0;
}

Status Store::Impl::DropParked(std::string_view table, std::string_view pk_json) {
  Stmt q(db, "DELETE FROM _outpost_parked WHERE tbl = ? AND pk = ?");
  OUTPOST_RETURN_IF_ERROR(q.status());
  q.BindText(1, table);
  q.BindText(2, pk_json);
  return q.Run();
}

Status Store::Impl::ClearParked(std::string_view table) {
  if (table.empty()) return Exec("DELETE FROM _outpost_parked");
  Stmt q(db, "DELETE FROM _outpost_parked WHERE tbl = ?");
  OUTPOST_RETURN_IF_ERROR(q.status());
  q.BindText(1, table);
  return q.Run();
}

Result<int64_t> Store::UnparkAll() {
  OUTPOST_ASSIGN_OR_RETURN(int64_t n, ParkedCount());
  if (n == 0) return n;
  EngineOptions options;
  options.foreign_keys = false;
  options.check_constraints = false;
  OUTPOST_RETURN_IF_ERROR(RunAsEngine(options, [&] { return impl_->RetryParked(); }));
  return n;
}

Result<int64_t> Store::Impl::ParkFkViolations() {
  if (!schema) return int64_t{0};
  int64_t parked = 0;
  // Removing a row can orphan its own children when foreign keys are off: repeat until clean.
  for (int round = 0; round < 64; ++round) {
    std::vector<std::pair<std::string, int64_t>> violators;
    {
      Stmt fk(db, "PRAGMA foreign_key_check");
      OUTPOST_RETURN_IF_ERROR(fk.status());
      while (true) {
        OUTPOST_ASSIGN_OR_RETURN(bool row, fk.Step());
        if (!row) break;
        if (sqlite3_column_type(fk.get(), 1) == SQLITE_NULL) {
          return Status(Code::kInternal,
                        "foreign key violation in \"" + fk.Text(0) + "\", which has no rowid");
        }
        violators.emplace_back(fk.Text(0), sqlite3_column_int64(fk.get(), 1));
      }
    }
    if (violators.empty()) return parked;
    std::sort(violators.begin(), violators.end());
    violators.erase(std::unique(violators.begin(), violators.end()), violators.end());
    for (const auto& [name, rowid] : violators) {
      size_t id = 0;
      while (id < schema->tables.size() && schema->tables[id].name != name) ++id;
      if (id == schema->tables.size()) {
        return Status(Code::kInternal, "foreign key violation in unmirrored table " + name);
      }
      const Table& t = schema->tables[id];
      std::string pk_cols, cols;
      for (const auto& k : t.primary_key) pk_cols += (pk_cols.empty() ? "" : ", ") + QuoteIdent(k);
      for (const auto& c : t.columns) cols += ", " + QuoteIdent(c.name);
      // Its ON DELETE CASCADE children first: parking the row must not drop them for good.
      std::vector<std::string> children;
      CascadeParkingSql(*schema, t, "rowid = ?", &children);
      for (const auto& sql : children) {
        Stmt child(db, sql);
        OUTPOST_RETURN_IF_ERROR(child.status());
        child.BindInt(1, rowid);
        OUTPOST_RETURN_IF_ERROR(child.Run());
      }
      Stmt park(db, "INSERT OR REPLACE INTO _outpost_parked (tbl, pk, data) SELECT " +
                        QuoteLiteral(t.name) + ", outpost_pk_json(" + pk_cols +
                        "), outpost_insert_json(" + std::to_string(id) + cols + ") FROM " +
                        QuoteIdent(t.name) + " WHERE rowid = ?");
      OUTPOST_RETURN_IF_ERROR(park.status());
      park.BindInt(1, rowid);
      OUTPOST_RETURN_IF_ERROR(park.Run());
      Stmt del(db, "DELETE FROM " + QuoteIdent(t.name) + " WHERE rowid = ?");
      OUTPOST_RETURN_IF_ERROR(del.status());
      del.BindInt(1, rowid);
      OUTPOST_RETURN_IF_ERROR(del.Run());
      ++parked;
    }
  }
  return Status(Code::kInternal, "foreign key violations keep appearing while parking rows");
}

Status Store::Impl::RetryParked() {
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  {
    Stmt q(db, "SELECT tbl, pk, data FROM _outpost_parked");
    OUTPOST_RETURN_IF_ERROR(q.status());
    while (true) {
      OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      rows.emplace_back(q.Text(0), q.Text(1), q.Text(2));
    }
  }
  if (rows.empty()) return Status::Ok();
  OUTPOST_RETURN_IF_ERROR(Exec("DELETE FROM _outpost_parked"));
  for (const auto& [name, pk, text] : rows) {
    const Table* t = schema ? schema->FindTable(name) : nullptr;
    if (!t) continue;  // the table left the schema
    json data = json::parse(text, nullptr, false);
    if (data.is_discarded() || !data.contains("new") || !data["new"].is_object()) {
      return Status(Code::kCorruption, "parked row of " + name + " " + pk + " is unreadable");
    }
    std::string cols, marks;
    std::vector<Value> values;
    for (const auto& c : t->columns) {
      auto it = data["new"].find(c.name);
      if (it == data["new"].end()) continue;
      OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(*it));
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(c.name);
      marks += marks.empty() ? "?" : ", ?";
      values.push_back(std::move(v));
    }
    // A row whose key was taken again meanwhile (a newer server row) is stale: dropped.
    Stmt ins(db, "INSERT INTO " + QuoteIdent(name) + " (" + cols + ") VALUES (" + marks +
                     ") ON CONFLICT DO NOTHING");
    OUTPOST_RETURN_IF_ERROR(ins.status());
    for (size_t i = 0; i < values.size(); ++i) {
      OUTPOST_RETURN_IF_ERROR(
          BindView(db, ins.get(), static_cast<int>(i + 1), ValueView::Of(values[i]), true));
    }
    OUTPOST_RETURN_IF_ERROR(ins.Run());
  }
  return Status::Ok();
}

}  // namespace outpost
