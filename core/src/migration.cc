// Store::ApplySchema: creating the mirror of a schema, or migrating it to a new one.
//
// Each mirrored table has one definition: its CREATE TABLE, its indexes and its capture triggers,
// recorded in _outpost_tables. A table whose definition changed is rebuilt with SQLite's
// documented procedure (new table, copy of the common columns, swap) with foreign keys off; the
// whole migration is one transaction, checked with foreign_key_check before it commits.
#include <algorithm>
#include <map>

#include "store_impl.h"

namespace outpost {

namespace {

// What a table should be: its statements in order (table, indexes, triggers) and their text as
// recorded in _outpost_tables. The capture triggers are part of it because they depend on the
// column list and on the table's position in the schema.
struct TableDefinition {
  size_t position = 0;  // in the schema and in MirrorDdl::tables
  std::vector<std::string> statements;
  std::string text;
};

std::map<std::string, TableDefinition> WantedDefinitions(const Schema& schema,
                                                         const MirrorDdl& ddl) {
  std::map<std::string, TableDefinition> wanted;
  for (size_t i = 0; i < ddl.tables.size(); ++i) {
    const auto& td = ddl.tables[i];
    TableDefinition def;
    def.position = i;
    def.statements.push_back(td.create_table);
    def.statements.insert(def.statements.end(), td.create_indexes.begin(), td.create_indexes.end());
    auto triggers = CaptureTriggerSql(schema.tables[i], static_cast<int>(i));
    def.statements.insert(def.statements.end(), triggers.begin(), triggers.end());
    for (const auto& s : def.statements) def.text += s + ";\n";
    wanted[td.table] = std::move(def);
  }
  return wanted;
}

Result<int64_t> CountFkViolations(sqlite3* db) {
  Stmt fk(db, "SELECT count(*) FROM pragma_foreign_key_check");
  OUTPOST_RETURN_IF_ERROR(fk.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, fk.Step());
  return row ? fk.Int(0) : 0;
}

Result<std::map<std::string, std::string>> ExistingDefinitions(sqlite3* db) {
  std::map<std::string, std::string> existing;
  Stmt q(db, "SELECT name, ddl FROM _outpost_tables");
  OUTPOST_RETURN_IF_ERROR(q.status());
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    existing[q.Text(0)] = q.Text(1);
  }
  return existing;
}

// Drops the tables the new schema no longer has; refuses when one holds unsynced changes.
Status DropRemovedTables(Store::Impl& impl, const std::map<std::string, std::string>& existing,
                         const std::map<std::string, TableDefinition>& wanted,
                         MirrorReport* report) {
  for (const auto& [name, old_text] : existing) {
    if (wanted.count(name)) continue;
    int64_t pending = 0;
    {
      Stmt q(impl.db, "SELECT count(*) FROM _outpost_outbox WHERE tbl = ?");
      OUTPOST_RETURN_IF_ERROR(q.status());
      q.BindText(1, name);
      OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
      pending = row ? q.Int(0) : 0;
    }  // finalised: DROP TABLE needs no open statements
    if (pending > 0) {
      return Status(Code::kConflict, "the new schema drops table \"" + name + "\", which has " +
                                         std::to_string(pending) + " unsynced changes");
    }
    OUTPOST_RETURN_IF_ERROR(impl.Exec("DROP TABLE IF EXISTS " + QuoteIdent(name)));
    OUTPOST_RETURN_IF_ERROR(impl.ClearParked(name));
    Stmt del(impl.db, "DELETE FROM _outpost_tables WHERE name = ?");
    OUTPOST_RETURN_IF_ERROR(del.status());
    del.BindText(1, name);
    OUTPOST_RETURN_IF_ERROR(del.Run());
    report->dropped.push_back(name);
  }
  return Status::Ok();
}

// `ddl`'s CREATE TABLE under another name.
std::string CreateTableNamed(const TableDdl& ddl, const std::string& name) {
  std::string prefix = "CREATE TABLE " + QuoteIdent(ddl.table) + " (";
  return "CREATE TABLE " + QuoteIdent(name) + " (" + ddl.create_table.substr(prefix.size());
}

// Rebuilds a changed table keeping its rows (columns matched by name): new table under a
// temporary name, copy of the common columns, swap, then its indexes and triggers.
Status RebuildTable(Store::Impl& impl, const TableDdl& td, const Table& table,
                    const TableDefinition& def) {
  const std::string tmp = "_outpost_rebuild";
  OUTPOST_RETURN_IF_ERROR(impl.Exec(CreateTableNamed(td, tmp)));
  std::vector<std::string> old_cols;
  {
    Stmt q(impl.db, "SELECT name FROM pragma_table_info(?)");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindText(1, td.table);
    while (true) {
      OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      old_cols.push_back(q.Text(0));
    }
  }
  std::string cols;
  for (const auto& c : table.columns) {
    if (std::find(old_cols.begin(), old_cols.end(), c.name) == old_cols.end()) continue;
    if (!cols.empty()) cols += ", ";
    cols += QuoteIdent(c.name);
  }
  if (!cols.empty()) {
    OUTPOST_RETURN_IF_ERROR(impl.Exec("INSERT INTO " + QuoteIdent(tmp) + " (" + cols + ") SELECT " +
                                      cols + " FROM " + QuoteIdent(td.table))
                                .WithContext("migrating the rows of \"" + td.table + "\""));
  }
  OUTPOST_RETURN_IF_ERROR(impl.Exec("DROP TABLE " + QuoteIdent(td.table)));
  OUTPOST_RETURN_IF_ERROR(
      impl.Exec("ALTER TABLE " + QuoteIdent(tmp) + " RENAME TO " + QuoteIdent(td.table)));
  for (size_t k = 1; k < def.statements.size(); ++k) {
    OUTPOST_RETURN_IF_ERROR(
        impl.Exec(def.statements[k]).WithContext("migrating \"" + td.table + "\""));
  }
  return Status::Ok();
}

// Creates the tables that are new and rebuilds those whose definition changed, recording each
// definition.
Status CreateOrRebuildTables(Store::Impl& impl, const Schema& schema, const MirrorDdl& ddl,
                             const std::map<std::string, std::string>& existing,
                             const std::map<std::string, TableDefinition>& wanted,
                             MirrorReport* report) {
  for (const auto& td : ddl.tables) {
    const TableDefinition& def = wanted.at(td.table);
    auto old = existing.find(td.table);
    if (old != existing.end() && old->second == def.text) continue;
    if (old == existing.end()) {
      for (const auto& s : def.statements) {
        OUTPOST_RETURN_IF_ERROR(impl.Exec(s).WithContext("creating \"" + td.table + "\""));
      }
      report->created.push_back(td.table);
    } else {
      OUTPOST_RETURN_IF_ERROR(RebuildTable(impl, td, schema.tables[def.position], def));
      report->migrated.push_back(td.table);
    }
    Stmt up(impl.db,
            "INSERT INTO _outpost_tables (name, ddl) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET ddl = excluded.ddl");
    OUTPOST_RETURN_IF_ERROR(up.status());
    up.BindText(1, td.table);
    up.BindText(2, def.text);
    OUTPOST_RETURN_IF_ERROR(up.Run());
  }
  return Status::Ok();
}

// Server rows may reference rows outside the client's view (Store::UnparkAll): such dangling
// references existed before and do not fail the migration; new ones do.
Status CheckNoNewFkViolations(sqlite3* db, int64_t violations_before) {
  OUTPOST_ASSIGN_OR_RETURN(int64_t after, CountFkViolations(db));
  if (after <= violations_before) return Status::Ok();
  Stmt fk(db, "PRAGMA foreign_key_check");
  OUTPOST_RETURN_IF_ERROR(fk.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, fk.Step());
  if (!row) return Status::Ok();
  return Status(Code::kConstraint, "after migration, rows of \"" + fk.Text(0) +
                                       "\" violate a foreign key to \"" + fk.Text(2) + "\"");
}

}  // namespace

Result<MirrorReport> Store::ApplySchema(const Schema& schema) {
  OUTPOST_RETURN_IF_ERROR(ValidateSchema(schema));
  if (!sqlite3_get_autocommit(impl_->db)) {
    return Status(Code::kInvalidArgument, "ApplySchema inside an open transaction");
  }
  MirrorReport report;
  report.version = SchemaVersion(schema);
  MirrorDdl ddl = GenerateMirrorDdl(schema);
  report.not_mirrored = ddl.not_mirrored;
  if (impl_->schema && SchemaVersion(*impl_->schema) == report.version) return report;
  const std::map<std::string, TableDefinition> wanted = WantedDefinitions(schema, ddl);
  // Prepared statements of the engine and of Execute's cache name the old tables.
  impl_->ClearStatementCache();
  impl_->mirror_writer->Reset();

  // Foreign keys must be off while tables are rebuilt (SQLite's documented ALTER procedure); the
  // result is checked with foreign_key_check before commit.
  OUTPOST_RETURN_IF_ERROR(impl_->Exec("PRAGMA foreign_keys = OFF"));
  Result<int64_t> violations_before = CountFkViolations(impl_->db);
  const bool saved_capturing = impl_->capturing;
  impl_->capturing = false;
  auto migrate = [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(violations_before.status());
    OUTPOST_RETURN_IF_ERROR(impl_->Exec("BEGIN IMMEDIATE"));
    OUTPOST_ASSIGN_OR_RETURN(auto existing, ExistingDefinitions(impl_->db));
    OUTPOST_RETURN_IF_ERROR(DropRemovedTables(*impl_, existing, wanted, &report));
    OUTPOST_RETURN_IF_ERROR(CreateOrRebuildTables(*impl_, schema, ddl, existing, wanted, &report));
    OUTPOST_RETURN_IF_ERROR(CheckNoNewFkViolations(impl_->db, *violations_before));
    OUTPOST_RETURN_IF_ERROR(impl_->SetMeta("schema", SchemaToJson(schema)));
    OUTPOST_RETURN_IF_ERROR(impl_->SetMeta("schema_version", report.version));
    return impl_->Exec("COMMIT");
  };
  Status s = migrate();
  if (!s.ok() && !sqlite3_get_autocommit(impl_->db)) (void)impl_->Exec("ROLLBACK");
  impl_->capturing = saved_capturing;
  Status fk_on = impl_->Exec("PRAGMA foreign_keys = ON");
  OUTPOST_RETURN_IF_ERROR(s);
  OUTPOST_RETURN_IF_ERROR(fk_on);
  impl_->schema = schema;
  OUTPOST_RETURN_IF_ERROR(impl_->LoadCaptureState());
  // Created, rebuilt and dropped tables are changes for watched queries too.
  for (const auto* list : {&report.created, &report.migrated}) {
    for (const auto& t : *list) impl_->committed.push_back(t);
  }
  impl_->NotifyChanges();
  return report;
}

}  // namespace outpost
