// Indexes set aside during a bootstrap (MirrorWriter::SetAsideIndexes, RestoreIndexes).
//
// A bootstrap arrives in the server's order (physical order for big tables), which is random for
// the key and for secondary indexes: once an index outgrows the page cache every row costs random
// page reads and writes per index (a 1M-row table loaded 5x slower). So the session sets a big
// table's key index (KeyIndexName), its non-unique indexes and its plain unique indexes (column
// lists, no WHERE) aside: dropped, their SQL kept in _outpost_meta. The bootstrap's last page
// rebuilds them by sorting, key indexes first, each after removing the rows it would refuse:
//  - for a key: rows sent twice (a table the server restarted after a rewrite), the later copy
//    (higher rowid) kept;
//  - for another unique index: rows colliding on it, as ClearUniqueConflicts resolves them when
//    the index is in place. A server row beats a row the app wrote meanwhile (its key in the
//    outbox: the reapplication of the outbox that follows the rebuild brings it back, and it is
//    refused there as any offline write colliding with a server row), and among server rows the
//    later one (higher rowid) wins. An earlier server row can only collide with a later one if it
//    changed after its page was read, so after the bootstrap began: the first incremental pull
//    sends its current version again.
// Unique indexes on expressions or with a WHERE stay in place. Set-aside and rebuild share their
// page's transaction, so a crash leaves either the indexes or their record.
#include "mirror_writer_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

// JSON array of {"table", "name", "sql", "key"}: indexes dropped for a bootstrap in progress.
constexpr const char* kMetaSetAsideIndexes = "bootstrap_set_aside_indexes";

constexpr int64_t kRebuildCacheKib = 4096;  // page cache (and sort run) while rebuilding
constexpr int kRebuildSortThreads = 2;      // SQLite sorter helper threads

}  // namespace

Result<json> MirrorWriter::Impl::SetAsideRecord() {
  OUTPOST_ASSIGN_OR_RETURN(auto recorded, s->GetMeta(kMetaSetAsideIndexes));
  if (!recorded) return json::array();
  json set_aside = json::parse(*recorded, nullptr, false);
  bool ok = set_aside.is_array();
  for (const auto& ix : set_aside) {
    ok = ok && ix.is_object() && ix.contains("table") && ix["table"].is_string() &&
         ix.contains("name") && ix["name"].is_string() && ix.contains("sql") &&
         ix["sql"].is_string() && ix.contains("key") && ix["key"].is_boolean();
  }
  if (!ok) {
    return Status(Code::kCorruption, "_outpost_meta." + std::string(kMetaSetAsideIndexes) +
                                         " is not an array of {table, name, sql, key}");
  }
  return set_aside;
}

Status MirrorWriter::Impl::Load() {
  OUTPOST_ASSIGN_OR_RETURN(json set_aside, SetAsideRecord());
  keyless_tables.clear();
  for (const auto& ix : set_aside) {
    if (ix["key"].get<bool>()) keyless_tables.insert(ix["table"].get<std::string>());
  }
  return Status::Ok();
}

Status MirrorWriter::SetAsideIndexes(std::string_view table_name) {
  const Table* t = impl_->schema() ? impl_->schema()->FindTable(table_name) : nullptr;
  if (!t || impl_->keyless_tables.count(t->name)) return Status::Ok();
  OUTPOST_ASSIGN_OR_RETURN(json set_aside, impl_->SetAsideRecord());
  const std::string key_index = KeyIndexName(*t);
  // A plain unique index has neither a WHERE nor expression keys (pragma_index_info: cid -2).
  OUTPOST_ASSIGN_OR_RETURN(
      auto r, impl_->store->Execute(
                  "SELECT il.name, m.sql FROM pragma_index_list(?1) AS il JOIN sqlite_schema "
                  "AS m ON m.type = 'index' AND m.name = il.name WHERE m.sql IS NOT NULL AND "
                  "(il.\"unique\" = 0 OR il.name = ?2 OR (il.partial = 0 AND NOT EXISTS "
                  "(SELECT 1 FROM pragma_index_info(il.name) WHERE cid < 0)))",
                  json::array({t->name, key_index})));
  bool has_key = false;
  for (const auto& row : r.rows) {
    const std::string name = row[0].get<std::string>();
    has_key = has_key || name == key_index;
    set_aside.push_back(
        {{"table", t->name}, {"name", name}, {"sql", row[1]}, {"key", name == key_index}});
  }
  // Without its key index the table is not touched (a mirror from before key indexes).
  if (!has_key) return Status::Ok();
  impl_->ForgetRowsWriters(t->name);
  for (const auto& row : r.rows) {
    OUTPOST_RETURN_IF_ERROR(impl_->s->Exec("DROP INDEX " + QuoteIdent(row[0].get<std::string>())));
  }
  OUTPOST_RETURN_IF_ERROR(impl_->s->SetMeta(kMetaSetAsideIndexes, set_aside.dump()));
  impl_->keyless_tables.insert(t->name);
  return Status::Ok();
}

Status MirrorWriter::RestoreIndexes() {
  OUTPOST_ASSIGN_OR_RETURN(json set_aside, impl_->SetAsideRecord());
  if (set_aside.empty()) return Status::Ok();
  // An index build reads its table once in order and appends to the new index: it needs few
  // cached pages. It sorts in runs the size of the page cache, each on top of the cache, and
  // small runs sort faster (they fit the CPU caches; a 1M-row key index builds about 2x faster
  // with 4 MiB runs than with 16 MiB ones). With helper threads (native builds; the browser's
  // has none and ignores the pragma) runs are sorted and merged while the table is read.
  OUTPOST_ASSIGN_OR_RETURN(auto cache, impl_->store->Execute("PRAGMA cache_size"));
  const int64_t cache_size = cache.rows[0][0].get<int64_t>();
  OUTPOST_ASSIGN_OR_RETURN(auto threads, impl_->store->Execute("PRAGMA threads"));
  const int64_t helper_threads = threads.rows[0][0].get<int64_t>();
  OUTPOST_RETURN_IF_ERROR(
      impl_->s->Exec("PRAGMA cache_size = -" + std::to_string(kRebuildCacheKib) +
                     "; PRAGMA threads = " + std::to_string(kRebuildSortThreads)));
  Status s = impl_->RebuildSetAside(set_aside);
  Status restored = impl_->s->Exec("PRAGMA cache_size = " + std::to_string(cache_size) +
                                   "; PRAGMA threads = " + std::to_string(helper_threads));
  OUTPOST_RETURN_IF_ERROR(s);
  OUTPOST_RETURN_IF_ERROR(restored);
  return impl_->store->DeleteMeta(kMetaSetAsideIndexes);
}

// Deletes the rows of `t` that collide on the unique column list `columns`, keeping one per
// value: a row of the server's before one whose key the outbox holds, then the highest rowid.
// NULLs never collide (SQLite's and PostgreSQL's unique semantics); the values are grouped with
// the columns' collations, as the index compares them.
Status MirrorWriter::Impl::RemoveUniqueCollisions(const Table& t,
                                                  const std::vector<std::string>& columns) {
  std::vector<std::string> cols, not_null, key;
  for (const auto& c : columns) {
    cols.push_back(QuoteIdent(c));
    not_null.push_back(QuoteIdent(c) + " IS NOT NULL");
  }
  for (const auto& k : t.primary_key) key.push_back(QuoteIdent(k));
  const std::string q = QuoteIdent(t.name);
  return store
      ->Execute("DELETE FROM " + q +
                    " WHERE _rowid_ IN (SELECT id FROM (SELECT _rowid_ AS id, "
                    "row_number() OVER (PARTITION BY " +
                    JoinSql(cols, ", ") +
                    " ORDER BY NOT EXISTS (SELECT 1 FROM _outpost_outbox o WHERE o.tbl = ? "
                    "AND o.pk = outpost_pk_json(" +
                    JoinSql(key, ", ") + ")) DESC, _rowid_ DESC) AS n FROM " + q + " WHERE " +
                    JoinSql(not_null, " AND ") + ") WHERE n > 1)",
                json::array({t.name}))
      .status();
}

// Rebuilds what SetAsideIndexes dropped, key indexes first. An index whose table left the
// schema, or that a schema migration has re-created, is skipped.
Status MirrorWriter::Impl::RebuildSetAside(const json& set_aside) {
  for (bool keys : {true, false}) {
    for (const auto& ix : set_aside) {
      if (ix["key"].get<bool>() != keys) continue;
      const std::string table = ix["table"].get<std::string>();
      OUTPOST_ASSIGN_OR_RETURN(
          auto present,
          store->Execute("SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                         "name = ?), (SELECT count(*) FROM sqlite_schema WHERE name = ?)",
                         json::array({table, ix["name"]})));
      if (present.rows[0][0].get<int64_t>() == 0 || present.rows[0][1].get<int64_t>() != 0) {
        continue;
      }
      const std::string sql = ix["sql"].get<std::string>();
      auto built = store->Execute(sql);
      const Table* t = schema()->FindTable(table);
      if (!built.ok() && keys && built.status().code() == Code::kConstraint && t) {
        // Rows sent twice: the later copy (higher rowid) is the one to keep.
        OUTPOST_RETURN_IF_ERROR(s->Exec("DELETE FROM " + QuoteIdent(table) +
                                        " WHERE _rowid_ NOT IN (SELECT max(_rowid_) FROM " +
                                        QuoteIdent(table) + " GROUP BY " + KeyColumnsSql(*t) +
                                        ")"));
        built = store->Execute(sql);
      } else if (!built.ok() && !keys && built.status().code() == Code::kConstraint && t) {
        for (const auto& [name, cols] : PlainUniqueSets(*t)) {
          if (name != ix["name"]) continue;
          OUTPOST_RETURN_IF_ERROR(RemoveUniqueCollisions(*t, cols));
          built = store->Execute(sql);
        }
      }
      OUTPOST_RETURN_IF_ERROR(
          built.status().WithContext("rebuilding index " + ix["name"].get<std::string>()));
    }
  }
  for (const auto& table : keyless_tables) ForgetRowsWriters(table);
  keyless_tables.clear();
  return Status::Ok();
}

}  // namespace outpost
