// MirrorWriter: pages of server rows and deletions, and the rebase after each row.
#include <algorithm>

#include "mirror_writer_impl.h"

namespace outpost {

using nlohmann::json;

// --- Shared helpers ------------------------------------------------------------------------------

std::string JoinSql(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

std::string KeyColumnsSql(const Table& t) {
  std::vector<std::string> parts;
  for (const auto& k : t.primary_key) parts.push_back(QuoteIdent(k));
  return JoinSql(parts, ", ");
}

std::string KeyMatchSql(const Table& t) {
  std::vector<std::string> parts;
  for (const auto& k : t.primary_key) parts.push_back(QuoteIdent(k) + " = ?");
  return JoinSql(parts, " AND ");
}

std::vector<std::pair<std::string, std::vector<std::string>>> PlainUniqueSets(const Table& t) {
  std::vector<std::pair<std::string, std::vector<std::string>>> sets;
  for (const auto& uq : t.uniques) sets.emplace_back(uq.name, uq.columns);
  for (const auto& ix : t.indexes) {
    bool plain = ix.unique && !ix.where &&
                 std::none_of(ix.key_is_expression.begin(), ix.key_is_expression.end(),
                              [](bool e) { return e; });
    if (plain) sets.emplace_back(ix.name, ix.keys);
  }
  return sets;
}

std::string KeyJsonOf(const std::vector<ValueView>& values, const std::vector<size_t>& positions) {
  std::string out = "[";
  for (size_t i = 0; i < positions.size(); ++i) {
    if (i) out.push_back(',');
    AppendValueJson(values[positions[i]], /*boolean=*/false, &out);
  }
  out.push_back(']');
  return out;
}

namespace {

Status UnknownTable(std::string_view table) {
  return Status(Code::kSchemaMismatch,
                "pull answer: unknown table \"" + std::string(table) + "\" (fetch /v1/schema)");
}

Result<sqlite3_stmt*> PreparePersistent(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc);
  return stmt;
}

}  // namespace

// --- Tuple writers ------------------------------------------------------------------------------

Status MirrorWriter::Impl::RowsWriter::Write(const std::vector<ValueView>& values) {
  sqlite3* db = owner->s->db;
  for (size_t i = 0; i < values.size(); ++i) {
    // Not copied: the views live until this call returns, and the statement is reset before.
    OUTPOST_RETURN_IF_ERROR(BindView(db, stmt, static_cast<int>(i + 1), values[i], false));
  }
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    sqlite3_reset(stmt);
    OUTPOST_ASSIGN_OR_RETURN(bool cleared, owner->ClearUniqueConflicts(*this, values));
    if (cleared) rc = sqlite3_step(stmt);
  }
  if (rc != SQLITE_DONE) {
    Status error = SqliteError(db, rc);  // before the reset, which may change the message
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return error.WithContext("applying a row of \"" + table->name + "\"");
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (!owner->TracksRows(table->name)) return Status::Ok();
  return owner->AfterServerRow(*table, KeyJsonOf(values, key_positions));
}

Status MirrorWriter::Impl::DeletesWriter::Write(const std::vector<ValueView>& values) {
  sqlite3* db = owner->s->db;
  for (size_t i = 0; i < values.size(); ++i) {
    OUTPOST_RETURN_IF_ERROR(BindView(db, stmt, static_cast<int>(i + 1), values[i], false));
  }
  for (sqlite3_stmt* park : park_children) {
    for (size_t i = 0; i < values.size(); ++i) {
      OUTPOST_RETURN_IF_ERROR(BindView(db, park, static_cast<int>(i + 1), values[i], false));
    }
    int rc = sqlite3_step(park);
    Status error = rc == SQLITE_DONE ? Status::Ok() : SqliteError(db, rc);
    sqlite3_reset(park);
    sqlite3_clear_bindings(park);
    OUTPOST_RETURN_IF_ERROR(error.WithContext("parking the children of \"" + table->name + "\""));
    if (sqlite3_changes64(db) > 0) owner->parked = true;
  }
  int rc = sqlite3_step(stmt);
  Status error = rc == SQLITE_DONE ? Status::Ok() : SqliteError(db, rc);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  OUTPOST_RETURN_IF_ERROR(error.WithContext("deleting a row of \"" + table->name + "\""));
  if (!owner->TracksRows(table->name)) return Status::Ok();
  std::vector<size_t> positions(values.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = i;
  return owner->AfterServerRow(*table, KeyJsonOf(values, positions));
}

// --- MirrorWriter::Impl --------------------------------------------------------------------------

MirrorWriter::Impl::~Impl() = default;

Status MirrorWriter::Impl::AfterServerRow(const Table& t, const std::string& pk_json) {
  if (parked) OUTPOST_RETURN_IF_ERROR(s->DropParked(t.name, pk_json));
  if (rebase_tables.count(t.name)) OUTPOST_RETURN_IF_ERROR(Rebase(t.name, pk_json));
  return Status::Ok();
}

void MirrorWriter::Impl::ForgetRowsWriters(const std::string& table) {
  for (auto it = rows_writers.begin(); it != rows_writers.end();) {
    if (it->second->table->name == table) {
      it = rows_writers.erase(it);
    } else {
      ++it;
    }
  }
}

// --- MirrorWriter --------------------------------------------------------------------------------

MirrorWriter::MirrorWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MirrorWriter::~MirrorWriter() = default;

void MirrorWriter::Reset() {
  impl_->rows_writers.clear();
  impl_->deletes_writers.clear();
}

Status MirrorWriter::BeginPage() {
  impl_->rebase_tables.clear();
  OUTPOST_ASSIGN_OR_RETURN(auto tables, impl_->s->OutboxTables());
  impl_->rebase_tables.insert(tables.begin(), tables.end());
  OUTPOST_ASSIGN_OR_RETURN(int64_t parked, impl_->store->ParkedCount());
  impl_->parked = parked > 0;
  return Status::Ok();
}

Status MirrorWriter::ClearMirror() {
  const Schema* schema = impl_->schema();
  if (!schema) return Status::Ok();
  // Children first, so that no foreign key action runs on the way.
  for (auto it = schema->tables.rbegin(); it != schema->tables.rend(); ++it) {
    OUTPOST_RETURN_IF_ERROR(impl_->s->Exec("DELETE FROM " + QuoteIdent(it->name)));
  }
  impl_->parked = false;
  return impl_->s->ClearParked();
}

Result<TupleWriter*> MirrorWriter::Rows(std::string_view table,
                                        const std::vector<std::string>& columns) {
  std::string key(table);
  for (const auto& c : columns) key += '\x1f' + c;
  auto it = impl_->rows_writers.find(key);
  if (it != impl_->rows_writers.end()) return it->second.get();
  const Table* t = impl_->schema() ? impl_->schema()->FindTable(table) : nullptr;
  if (!t) return UnknownTable(table);
  auto w = std::make_unique<Impl::RowsWriter>(impl_.get(), t, columns);
  std::vector<std::string> quoted, marks, sets;
  for (const auto& c : columns) {
    const Column* col = t->FindColumn(c);
    if (!col) {
      return Status(Code::kSchemaMismatch,
                    "pull answer: unknown column \"" + t->name + "." + c + "\" (fetch /v1/schema)");
    }
    w->column_kinds.push_back(col->type.kind);
    quoted.push_back(QuoteIdent(c));
    marks.push_back("?");
    bool in_pk = std::find(t->primary_key.begin(), t->primary_key.end(), c) != t->primary_key.end();
    if (!in_pk) sets.push_back(QuoteIdent(c) + " = excluded." + QuoteIdent(c));
  }
  for (const auto& k : t->primary_key) {
    auto pos = std::find(columns.begin(), columns.end(), k);
    if (pos == columns.end()) {
      return Status(Code::kMalformedAnswer,
                    "pull answer: rows of \"" + t->name + "\" lack key column \"" + k + "\"");
    }
    w->key_positions.push_back(static_cast<size_t>(pos - columns.begin()));
  }
  std::string sql = "INSERT INTO " + QuoteIdent(t->name) + " (" + JoinSql(quoted, ", ") +
                    ") VALUES (" + JoinSql(marks, ", ") + ")";
  if (!impl_->keyless_tables.count(t->name)) {
    sql += " ON CONFLICT (" + KeyColumnsSql(*t) + ") DO " +
           (sets.empty() ? "NOTHING" : "UPDATE SET " + JoinSql(sets, ", "));
  }
  OUTPOST_ASSIGN_OR_RETURN(w->stmt, PreparePersistent(impl_->s->db, sql));
  return (impl_->rows_writers[key] = std::move(w)).get();
}

Result<TupleWriter*> MirrorWriter::Deletes(std::string_view table) {
  std::string key(table);
  auto it = impl_->deletes_writers.find(key);
  if (it != impl_->deletes_writers.end()) return it->second.get();
  const Table* t = impl_->schema() ? impl_->schema()->FindTable(table) : nullptr;
  if (!t) return UnknownTable(table);
  auto w = std::make_unique<Impl::DeletesWriter>(impl_.get(), t);
  for (const auto& k : t->primary_key) w->key_kinds.push_back(t->FindColumn(k)->type.kind);
  OUTPOST_ASSIGN_OR_RETURN(
      w->stmt, PreparePersistent(impl_->s->db, "DELETE FROM " + QuoteIdent(t->name) + " WHERE " +
                                                   KeyMatchSql(*t)));
  std::vector<std::string> parking;
  CascadeParkingSql(*impl_->schema(), *t, KeyMatchSql(*t), &parking);
  for (const auto& sql : parking) {
    OUTPOST_ASSIGN_OR_RETURN(sqlite3_stmt * park, PreparePersistent(impl_->s->db, sql));
    w->park_children.push_back(park);
  }
  return (impl_->deletes_writers[key] = std::move(w)).get();
}

Status MirrorWriter::ReapplyOutbox() {
  OUTPOST_ASSIGN_OR_RETURN(auto all, impl_->store->OutboxMutations());
  for (const auto& m : all) OUTPOST_RETURN_IF_ERROR(impl_->Reapply(m));
  return Status::Ok();
}

}  // namespace outpost
