// The outbox (outbox.h): reading, confirming and removing captured changes, and the rejections
// the server answered for some of them.
#include <map>

#include "store_impl.h"

namespace outpost {

using nlohmann::json;

Status Store::Impl::RecordHighWaterMarks() {
  // The newest row holds both marks (tx ids and clocks grow with seq); the marks never go down.
  OUTPOST_RETURN_IF_ERROR(Exec(
      "INSERT INTO _outpost_meta (key, value) "
      "SELECT 'last_tx_id', CAST(tx_id AS TEXT) FROM _outpost_outbox ORDER BY seq DESC LIMIT 1 "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
      "WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)"));
  return Exec(
      "INSERT INTO _outpost_meta (key, value) "
      "SELECT 'last_hlc', CAST(hlc AS TEXT) FROM _outpost_outbox ORDER BY seq DESC LIMIT 1 "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
      "WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)");
}

namespace {

Result<Mutation> ReadMutation(Stmt& q) {
  Mutation m;
  m.seq = sqlite3_column_int64(q.get(), 0);
  m.tx_id = sqlite3_column_int64(q.get(), 1);
  m.hlc = static_cast<uint64_t>(sqlite3_column_int64(q.get(), 2));
  m.op = static_cast<Mutation::Op>(q.Text(3)[0]);
  m.table = q.Text(4);
  m.pk = json::parse(q.Text(5), nullptr, false);
  json data = json::parse(q.Text(6), nullptr, false);
  if (m.pk.is_discarded() || data.is_discarded() || !data.is_object()) {
    return Status(Code::kCorruption, "outbox entry " + std::to_string(m.seq) + " is unreadable");
  }
  if (data.contains("new")) m.new_values = std::move(data["new"]);
  if (data.contains("old")) m.old_values = std::move(data["old"]);
  if (sqlite3_column_type(q.get(), 7) != SQLITE_NULL)
    m.checkpoint = sqlite3_column_int64(q.get(), 7);
  return m;
}

constexpr const char* kMutationColumns =
    "SELECT seq, tx_id, hlc, op, tbl, pk, data, checkpoint FROM _outpost_outbox ";

Result<std::vector<Mutation>> ReadMutations(Stmt& q) {
  std::vector<Mutation> out;
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    OUTPOST_ASSIGN_OR_RETURN(Mutation m, ReadMutation(q));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<std::vector<ClientTransaction>> Store::PendingTransactions(size_t max_tx) {
  std::vector<ClientTransaction> out;
  Stmt q(impl_->db, std::string(kMutationColumns) + "WHERE checkpoint IS NULL ORDER BY seq");
  OUTPOST_RETURN_IF_ERROR(q.status());
  std::map<int64_t, size_t> position;  // tx id -> index in out
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    OUTPOST_ASSIGN_OR_RETURN(Mutation m, ReadMutation(q));
    auto it = position.find(m.tx_id);
    if (it == position.end()) {
      if (max_tx && out.size() == max_tx) break;
      position[m.tx_id] = out.size();
      out.push_back(ClientTransaction{m.tx_id, {}});
      it = position.find(m.tx_id);
    }
    out[it->second].mutations.push_back(std::move(m));
  }
  return out;
}

Result<OutboxCounts> Store::CountOutbox() {
  Stmt q(impl_->db,
         "SELECT count(*) FILTER (WHERE checkpoint IS NULL),"
         "       count(DISTINCT tx_id) FILTER (WHERE checkpoint IS NULL),"
         "       count(*) FILTER (WHERE checkpoint IS NOT NULL),"
         "       count(DISTINCT tx_id) FILTER (WHERE checkpoint IS NOT NULL)"
         "  FROM _outpost_outbox");
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  OutboxCounts c;
  if (row) {
    c.unconfirmed_mutations = sqlite3_column_int64(q.get(), 0);
    c.unconfirmed_transactions = sqlite3_column_int64(q.get(), 1);
    c.confirmed_mutations = sqlite3_column_int64(q.get(), 2);
    c.confirmed_transactions = sqlite3_column_int64(q.get(), 3);
  }
  return c;
}

Status Store::MarkConfirmed(int64_t tx_id, int64_t checkpoint) {
  return impl_->InEngine([&]() -> Status {
    Stmt q(impl_->db, "UPDATE _outpost_outbox SET checkpoint = ? WHERE tx_id = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindInt(1, checkpoint);
    q.BindInt(2, tx_id);
    OUTPOST_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes64(impl_->db) == 0) {
      return Status(Code::kNotFound, "no outbox entry has tx id " + std::to_string(tx_id));
    }
    return Status::Ok();
  });
}

Result<int64_t> Store::DropConfirmedBefore(int64_t cursor_xid) {
  int64_t removed = 0;
  OUTPOST_RETURN_IF_ERROR(impl_->InEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->RecordHighWaterMarks());
    Stmt q(impl_->db,
           "DELETE FROM _outpost_outbox WHERE checkpoint IS NOT NULL AND checkpoint < ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindInt(1, cursor_xid);
    OUTPOST_RETURN_IF_ERROR(q.Run());
    removed = sqlite3_changes64(impl_->db);
    return Status::Ok();
  }));
  return removed;
}

Result<std::vector<Mutation>> Store::Impl::RowMutations(std::string_view table,
                                                        std::string_view pk_json) {
  Stmt q(db, std::string(kMutationColumns) + "WHERE tbl = ? AND pk = ? ORDER BY seq");
  OUTPOST_RETURN_IF_ERROR(q.status());
  q.BindText(1, table);
  q.BindText(2, pk_json);
  return ReadMutations(q);
}

Result<std::vector<Mutation>> Store::OutboxMutations(std::string_view table) {
  Stmt q(impl_->db, std::string(kMutationColumns) +
                        (table.empty() ? "ORDER BY seq" : "WHERE tbl = ? ORDER BY seq"));
  OUTPOST_RETURN_IF_ERROR(q.status());
  if (!table.empty()) {
    q.BindText(1, table);
  }
  return ReadMutations(q);
}

Status Store::Impl::RewriteMutation(const Mutation& m) {
  return InEngine([&]() -> Status {
    json data = json::object();
    if (!m.new_values.empty()) data["new"] = m.new_values;
    if (!m.old_values.empty()) data["old"] = m.old_values;
    std::string pk = m.pk.dump();
    std::string text = data.dump();
    Stmt q(db, "UPDATE _outpost_outbox SET pk = ?, data = ? WHERE seq = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindText(1, pk);
    q.BindText(2, text);
    q.BindInt(3, m.seq);
    OUTPOST_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes64(db) == 0) {
      return Status(Code::kNotFound, "no outbox entry " + std::to_string(m.seq));
    }
    return Status::Ok();
  });
}

Status Store::RemoveTransaction(int64_t tx_id) {
  return impl_->InEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(impl_->RecordHighWaterMarks());
    Stmt q(impl_->db, "DELETE FROM _outpost_outbox WHERE tx_id = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindInt(1, tx_id);
    return q.Run();
  });
}

Result<std::vector<std::string>> Store::Impl::OutboxTables() {
  Stmt q(db, "SELECT DISTINCT tbl FROM _outpost_outbox");
  OUTPOST_RETURN_IF_ERROR(q.status());
  std::vector<std::string> tables;
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    tables.push_back(q.Text(0));
  }
  return tables;
}

// --- Rejections ----------------------------------------------------------------------------------

Result<int64_t> Store::AddRejection(const Rejection& r) {
  int64_t id = 0;
  OUTPOST_RETURN_IF_ERROR(impl_->InEngine([&]() -> Status {
    Stmt q(impl_->db,
           "INSERT INTO _outpost_rejections (tx_id, code, message, rule, tbl, pk, mutations, at, "
           "depends_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindInt(1, r.tx_id);
    q.BindText(2, r.code.empty() ? "rejected" : r.code);
    q.BindText(3, r.message);
    q.BindText(4, r.rule);
    q.BindText(5, r.table);
    q.BindText(6, r.pk.dump(-1, ' ', false, json::error_handler_t::replace));
    q.BindText(7, r.mutations.dump(-1, ' ', false, json::error_handler_t::replace));
    q.BindText(8, r.at);
    q.BindInt(9, r.depends_on);
    OUTPOST_RETURN_IF_ERROR(q.Run());
    id = sqlite3_last_insert_rowid(impl_->db);
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<Rejection>> Store::Rejections() {
  Stmt q(impl_->db,
         "SELECT id, tx_id, code, message, rule, tbl, pk, mutations, at, depends_on "
         "FROM _outpost_rejections ORDER BY id");
  OUTPOST_RETURN_IF_ERROR(q.status());
  std::vector<Rejection> out;
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Rejection r;
    r.id = q.Int(0);
    r.tx_id = q.Int(1);
    r.code = q.Text(2);
    r.message = q.Text(3);
    r.rule = q.Text(4);
    r.table = q.Text(5);
    r.pk = json::parse(q.Text(6), nullptr, false);
    r.mutations = json::parse(q.Text(7), nullptr, false);
    if (r.pk.is_discarded() || r.mutations.is_discarded()) {
      return Status(Code::kCorruption, "rejection " + std::to_string(r.id) + " is unreadable");
    }
    r.at = q.Text(8);
    r.depends_on = q.Int(9);
    out.push_back(std::move(r));
  }
  return out;
}


namespace {

// Deletes row `id` of the kept-for-the-app table `table` in an engine transaction; kNotFound
// naming `what` when there is none.
Status DismissKept(Store::Impl* impl, const char* table, const char* what, int64_t id) {
  int64_t changes = 0;
  OUTPOST_RETURN_IF_ERROR(impl->InEngine([&]() -> Status {
    Stmt q(impl->db, std::string("DELETE FROM ") + table + " WHERE id = ?");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindInt(1, id);
    OUTPOST_RETURN_IF_ERROR(q.Run());
    changes = sqlite3_changes64(impl->db);
    return Status::Ok();
  }));
  if (changes == 0) return Status(Code::kNotFound, std::string("no ") + what + " " + std::to_string(id));
  return Status::Ok();
}

Result<int64_t> CountRows(Store::Impl* impl, const char* table) {
  Stmt q(impl->db, std::string("SELECT count(*) FROM ") + table);
  OUTPOST_RETURN_IF_ERROR(q.status());
  OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

}  // namespace

Result<int64_t> Store::RejectionCount() { return CountRows(impl_.get(), "_outpost_rejections"); }

Status Store::DismissRejection(int64_t id) {
  return DismissKept(impl_.get(), "_outpost_rejections", "rejection", id);
}

json RejectionToJson(const Rejection& r) {
  return json{{"id", r.id},
              {"tx_id", r.tx_id},
              {"code", r.code},
              {"message", r.message},
              {"rule", r.rule},
              {"table", r.table},
              {"pk", r.pk},
              {"mutations", r.mutations},
              {"at", r.at},
              {"depends_on", r.depends_on > 0 ? json(r.depends_on) : json(nullptr)}};
}

json NoticeToJson(const SyncNotice& n) {
  return json{{"id", n.id},          {"tx_id", n.tx_id},     {"code", n.code}, {"table", n.table},
              {"pk", n.pk},          {"columns", n.columns}, {"at", n.at}};
}

// --- Notices -------------------------------------------------------------------------------------

Result<int64_t> Store::AddNotice(const SyncNotice& n) {
  int64_t id = 0;
  OUTPOST_RETURN_IF_ERROR(impl_->InEngine([&]() -> Status {
    Stmt q(impl_->db,
           "INSERT INTO _outpost_notices (tx_id, code, tbl, pk, columns, at) "
           "VALUES (?, ?, ?, ?, ?, ?)");
    OUTPOST_RETURN_IF_ERROR(q.status());
    q.BindInt(1, n.tx_id);
    q.BindText(2, n.code);
    q.BindText(3, n.table);
    q.BindText(4, n.pk.dump(-1, ' ', false, json::error_handler_t::replace));
    q.BindText(5, json(n.columns).dump(-1, ' ', false, json::error_handler_t::replace));
    q.BindText(6, n.at);
    OUTPOST_RETURN_IF_ERROR(q.Run());
    id = sqlite3_last_insert_rowid(impl_->db);
    return Status::Ok();
  }));
  return id;
}

Result<std::vector<SyncNotice>> Store::Notices() {
  Stmt q(impl_->db,
         "SELECT id, tx_id, code, tbl, pk, columns, at FROM _outpost_notices ORDER BY id");
  OUTPOST_RETURN_IF_ERROR(q.status());
  std::vector<SyncNotice> out;
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    SyncNotice n;
    n.id = q.Int(0);
    n.tx_id = q.Int(1);
    n.code = q.Text(2);
    n.table = q.Text(3);
    n.pk = json::parse(q.Text(4), nullptr, false);
    json columns = json::parse(q.Text(5), nullptr, false);
    if (n.pk.is_discarded() || !columns.is_array()) {
      return Status(Code::kCorruption, "notice " + std::to_string(n.id) + " is unreadable");
    }
    for (const auto& c : columns) {
      if (c.is_string()) n.columns.push_back(c.get<std::string>());
    }
    n.at = q.Text(6);
    out.push_back(std::move(n));
  }
  return out;
}

Result<int64_t> Store::NoticeCount() { return CountRows(impl_.get(), "_outpost_notices"); }

Status Store::DismissNotice(int64_t id) {
  return DismissKept(impl_.get(), "_outpost_notices", "notice", id);
}

}  // namespace outpost
