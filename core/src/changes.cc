// Change notification and watched queries (Store::TablesRead, SetChangeListener, Watch).
//
// SQLite's update hook names the table of every row an INSERT, UPDATE or DELETE changes (the
// app's, the capture triggers' and the sync engine's alike); the commit hook moves the tables of
// a committing transaction to the committed set, the rollback hook forgets them. Once no
// transaction is open, NotifyChanges hands the committed set to the listener and to the watches
// that read from it: one notification per transaction, however many rows it changed, and never
// from inside a transaction (a callback may run SQL).
#include <algorithm>
#include <cstring>

#include "store_impl.h"

namespace outpost {

namespace {

bool IsInternalTable(const char* name) {
  return std::strncmp(name, "_outpost", 8) == 0 || std::strncmp(name, "sqlite_", 7) == 0;
}

void AddTable(std::vector<std::string>* tables, const char* name) {
  // Usually the same table as the last row's: checked first, no allocation.
  if (!tables->empty() && tables->back() == name) return;
  if (std::find(tables->begin(), tables->end(), name) != tables->end()) return;
  tables->emplace_back(name);
}

void UpdateHook(void* arg, int, const char*, const char* table, sqlite3_int64) {
  if (IsInternalTable(table)) return;
  AddTable(&static_cast<Store::Impl*>(arg)->changing, table);
}

int CommitHook(void* arg) {
  auto* impl = static_cast<Store::Impl*>(arg);
  impl->current_tx = 0;
  for (const auto& t : impl->changing) AddTable(&impl->committed, t.c_str());
  impl->changing.clear();
  return 0;  // never veto
}

void RollbackHook(void* arg) {
  auto* impl = static_cast<Store::Impl*>(arg);
  impl->current_tx = 0;
  impl->changing.clear();
}

bool Intersects(const std::vector<std::string>& sorted_a,
                const std::vector<std::string>& sorted_b) {
  auto a = sorted_a.begin(), b = sorted_b.begin();
  while (a != sorted_a.end() && b != sorted_b.end()) {
    if (*a == *b) return true;
    if (*a < *b) {
      ++a;
    } else {
      ++b;
    }
  }
  return false;
}

// Collects the tables a statement reads while it is prepared.
int ReadAuthorizer(void* arg, int action, const char* table, const char*, const char*,
                   const char*) {
  if (action == SQLITE_READ && table && !IsInternalTable(table)) {
    AddTable(static_cast<std::vector<std::string>*>(arg), table);
  }
  return SQLITE_OK;
}

}  // namespace

void Store::Impl::InstallHooks() {
  sqlite3_update_hook(db, UpdateHook, this);
  sqlite3_commit_hook(db, CommitHook, this);
  sqlite3_rollback_hook(db, RollbackHook, this);
}

void Store::Impl::NotifyChanges() {
  if (notifying || committed.empty() || !sqlite3_get_autocommit(db)) return;
  notifying = true;
  // A callback may write: its changes are picked up by the next turn of this loop.
  for (int turn = 0; turn < 100 && !committed.empty(); ++turn) {
    std::vector<std::string> tables;
    tables.swap(committed);
    std::sort(tables.begin(), tables.end());
    if (schema) {
      std::erase_if(tables, [&](const std::string& t) { return !schema->FindTable(t); });
    }
    if (tables.empty()) continue;
    if (change_listener) change_listener(tables);
    // Watches may be added or removed by callbacks: walk a snapshot of their ids.
    std::vector<int64_t> ids;
    for (const auto& [id, w] : watches) ids.push_back(id);
    for (int64_t id : ids) {
      auto it = watches.find(id);
      if (it == watches.end() || !Intersects(it->second.tables, tables)) continue;
      Watch w = it->second;  // the callback may unwatch itself
      w.callback(owner->Execute(w.sql, w.params));
    }
  }
  notifying = false;
}

Result<std::vector<std::string>> Store::TablesRead(std::string_view sql) {
  std::vector<std::string> tables;
  sqlite3_set_authorizer(impl_->db, ReadAuthorizer, &tables);
  Status status;
  const char* tail = sql.data();
  const char* end = sql.data() + sql.size();
  while (tail < end && status.ok()) {
    sqlite3_stmt* stmt = nullptr;
    const char* next = nullptr;
    int rc = sqlite3_prepare_v2(impl_->db, tail, static_cast<int>(end - tail), &stmt, &next);
    if (rc != SQLITE_OK) status = SqliteError(impl_->db, rc);
    sqlite3_finalize(stmt);
    tail = next ? next : end;
  }
  sqlite3_set_authorizer(impl_->db, nullptr, nullptr);
  OUTPOST_RETURN_IF_ERROR(status);
  std::sort(tables.begin(), tables.end());
  return tables;
}

void Store::SetChangeListener(std::function<void(const std::vector<std::string>&)> listener) {
  impl_->change_listener = std::move(listener);
}

Result<Store::WatchId> Store::Watch(std::string_view sql, const nlohmann::json& params,
                                    std::function<void(const Result<QueryResult>&)> callback) {
  if (!callback) return Status(Code::kInvalidArgument, "a watch needs a callback");
  Impl::Watch w;
  OUTPOST_ASSIGN_OR_RETURN(w.tables, TablesRead(sql));
  w.sql = std::string(sql);
  w.params = params;
  w.callback = std::move(callback);
  // The first result, at once: the app renders it, then every change re-renders.
  auto first = Execute(w.sql, w.params);
  if (!first.ok()) return first.status();
  const WatchId id = impl_->next_watch_id++;
  impl_->watches[id] = w;
  w.callback(first);
  return id;
}

Status Store::Unwatch(WatchId id) {
  if (impl_->watches.erase(id) == 0) {
    return Status(Code::kNotFound, "no watch " + std::to_string(id));
  }
  return Status::Ok();
}

}  // namespace outpost
