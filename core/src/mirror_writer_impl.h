// The inside of a MirrorWriter (outpost/mirror_writer.h). Private to core.
//
// Files: mirror_writer.cc (pages: tuple writers, rebase after each row, reset), rebase.cc
// (re-applying outbox mutations, restoring rejected rows), key_remap.cc, index_set_aside.cc.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "outpost/mirror_writer.h"
#include "store_impl.h"

namespace outpost {

class MirrorWriter::Impl {
 public:
  Impl(Store* store, Store::Impl* store_impl) : store(store), s(store_impl) {}
  ~Impl();

  Store* store;    // the owning store (its public API: Execute, outbox, meta)
  Store::Impl* s;  // its internals (connection, schema, outbox and parking helpers)

  const Schema* schema() const { return s->schema_or_null(); }
  // Reads what survives a restart: which tables have their indexes set aside.
  Status Load();

  // --- mirror_writer.cc
  // ---------------------------------------------------------------------------
  class RowsWriter;     // upserts of server rows
  class DeletesWriter;  // deletions by key
  // Prepared statements, per table and column list, for the current schema.
  std::map<std::string, std::unique_ptr<RowsWriter>> rows_writers;
  std::map<std::string, std::unique_ptr<DeletesWriter>> deletes_writers;
  // Forgets the rows writers of `table` (their ON CONFLICT target comes and goes with its key).
  void ForgetRowsWriters(const std::string& table);

  // The current page: tables whose rows are rebased as they are written, and whether any row is
  // parked (then a row written again is no longer parked).
  std::set<std::string> rebase_tables;
  bool parked = false;
  bool TracksRows(const std::string& table) const {
    return parked || rebase_tables.count(table) > 0;
  }
  // After a server row (or deletion) of `t` with key `pk_json` was applied.
  Status AfterServerRow(const Table& t, const std::string& pk_json);

  // --- rebase.cc
  // ---------------------------------------------------------------------------------- Runs `sql`
  // under a savepoint: a mutation that no longer fits (a constraint fails against the new server
  // state) is skipped; the server will refuse it on push and the rejection restores server state.
  Status ApplyGuarded(const std::string& sql, const nlohmann::json& params);
  // Writes `values` (column -> local JSON value) as the row's content, inserting it if absent.
  Status UpsertJson(const Table& t, const nlohmann::json& values, bool guarded);
  Status DeleteByKey(const Table& t, const nlohmann::json& pk);
  // Re-applies one outbox mutation on the current local state: insert -> the row takes its
  // values; update -> its new values if the row exists; delete -> the row is absent.
  Status Reapply(const Mutation& m);
  // Re-applies every outbox entry of one row, in order.
  Status Rebase(const std::string& table, const std::string& pk_json);
  // A unique index other than the key refused server row `values` (positions of `writer`): local
  // rows holding the same unique values are stale (the server's current rows cannot collide) and
  // are removed. True when any was.
  Result<bool> ClearUniqueConflicts(const RowsWriter& writer, const std::vector<ValueView>& values);
  // The same for a server row given as a client JSON object (a rejection's `rows`): local rows
  // with another key that hold its values of a plain unique column set are removed (they carry
  // pending writes the server will refuse in turn). True when any was.
  Result<bool> ClearUniqueConflictsJson(const Table& t, const nlohmann::json& row);

  // --- index_set_aside.cc
  // -------------------------------------------------------------------------
  std::set<std::string> keyless_tables;  // key index set aside
  Result<nlohmann::json> SetAsideRecord();
  Status RebuildSetAside(const nlohmann::json& set_aside);
  Status RemoveUniqueCollisions(const Table& t, const std::vector<std::string>& columns);
};

// Writes server rows of one table with one column list: INSERT ... ON CONFLICT (key) DO UPDATE
// (a plain INSERT while the table's key index is set aside).
class MirrorWriter::Impl::RowsWriter : public TupleWriter {
 public:
  RowsWriter(Impl* owner, const Table* table, std::vector<std::string> columns)
      : owner(owner), table(table), columns(std::move(columns)) {}
  ~RowsWriter() override { sqlite3_finalize(stmt); }
  const std::vector<TypeKind>& kinds() const override { return column_kinds; }
  Status Write(const std::vector<ValueView>& values) override;

  Impl* owner;
  const Table* table;
  std::vector<std::string> columns;    // the line's columns
  std::vector<TypeKind> column_kinds;  // per position in `columns`
  std::vector<size_t> key_positions;   // of the primary key columns, in key order
  sqlite3_stmt* stmt = nullptr;        // owned
};

// Deletes server rows of one table by key.
class MirrorWriter::Impl::DeletesWriter : public TupleWriter {
 public:
  DeletesWriter(Impl* owner, const Table* table) : owner(owner), table(table) {}
  ~DeletesWriter() override {
    sqlite3_finalize(stmt);
    for (sqlite3_stmt* p : park_children) sqlite3_finalize(p);
  }
  const std::vector<TypeKind>& kinds() const override { return key_kinds; }
  Status Write(const std::vector<ValueView>& values) override;

  Impl* owner;
  const Table* table;
  std::vector<TypeKind> key_kinds;
  sqlite3_stmt* stmt = nullptr;  // owned
  // CascadeParkingSql's statements for the deleted row, each bound to its key, run before it. A
  // server deletion says only that this row left the client's view (deleted, or out of scope):
  // rows still in view that reference it are not the mirror's to drop or rewrite. Parked, they
  // come back with their reference dangling once caught up (Store::UnparkAll) unless the server
  // deletes them too meanwhile (it logs the children of deleted rows). Owned.
  std::vector<sqlite3_stmt*> park_children;
};

// The outbox form (PkJson) of the key at `positions` of `values`.
std::string KeyJsonOf(const std::vector<ValueView>& values, const std::vector<size_t>& positions);

// Helpers shared by the writer's files.
std::string JoinSql(const std::vector<std::string>& parts, const std::string& separator);
// "c1", "c2": the primary key columns, quoted (an ON CONFLICT target, a GROUP BY).
std::string KeyColumnsSql(const Table& t);
// "c1" = ? AND "c2" = ? over the primary key.
std::string KeyMatchSql(const Table& t);
// The unique column sets of `t` besides its key that the mirror enforces with a plain index
// (UNIQUE constraints; unique indexes without a WHERE or expression keys), with the index's name.
std::vector<std::pair<std::string, std::vector<std::string>>> PlainUniqueSets(const Table& t);

}  // namespace outpost
