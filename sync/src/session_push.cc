// SyncSession: push requests and answers, and error answers (docs/sync-client.md, "Pushes").
#include <algorithm>
#include <set>

#include "outpost/civil_time.h"
#include "session_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

// The wire value of a local value of column `col` (booleans as true/false: ValueToJson).
json WireValue(const Table* t, std::string_view col, const json& v) {
  const Column* c = t ? t->FindColumn(col) : nullptr;
  if (!c || c->type.kind != TypeKind::kBoolean) return v;
  auto local = ValueFromJson(v);
  return local.ok() ? ValueToJson(c->type, *local) : v;
}

json WireObject(const Table* t, const json& obj) {
  json out = json::object();
  for (const auto& [k, v] : obj.items()) out[k] = WireValue(t, k, v);
  return out;
}

Status BadAnswer(const Status& s) {
  return Status(Code::kMalformedAnswer, "push answer: " + s.message());
}

}  // namespace

protocol::PushMutation SyncSession::Impl::ToWire(const Mutation& m) const {
  const Table* t = schema() ? schema()->FindTable(m.table) : nullptr;
  protocol::PushMutation out;
  out.op = m.op == Mutation::Op::kInsert   ? protocol::MutationOp::kInsert
           : m.op == Mutation::Op::kUpdate ? protocol::MutationOp::kUpdate
                                           : protocol::MutationOp::kDelete;
  out.table = m.table;
  out.hlc = m.hlc;
  out.pk = json::array();
  for (size_t i = 0; i < m.pk.size(); ++i) {
    std::string col = t && i < t->primary_key.size() ? t->primary_key[i] : "";
    out.pk.push_back(WireValue(t, col, m.pk[i]));
  }
  if (m.op != Mutation::Op::kDelete) out.new_values = WireObject(t, m.new_values);
  if (m.op != Mutation::Op::kInsert) out.old_values = WireObject(t, m.old_values);
  return out;
}

Result<bool> SyncSession::Impl::RejectTransaction(int64_t tx_id,
                                                 const protocol::TxRejection& error,
                                                 int64_t now_micros,
                                                 protocol::RejectedRows* rejected_rows,
                                                 ServerRowsByKey* server_rows) {
  OUTPOST_ASSIGN_OR_RETURN(auto all, store->OutboxMutations());
  Rejection record;
  record.tx_id = tx_id;
  record.mutations = json::array();
  std::vector<Mutation> refused;
  for (auto& m : all) {
    if (m.tx_id != tx_id) continue;
    protocol::PushMutation wire = ToWire(m);
    if (const Table* t = schema() ? schema()->FindTable(m.table) : nullptr) {
      rejected_rows->Add(tx_id, wire.op, *t, wire.pk);
    }
    record.mutations.push_back(protocol::PushMutationToJson(wire));
    refused.push_back(std::move(m));
  }
  if (refused.empty()) return false;  // handled by an earlier answer
  OUTPOST_RETURN_IF_ERROR(store->RemoveTransaction(tx_id));
  record.code = error.code;
  record.message = error.message;
  record.rule = error.rule;
  record.table = error.table;
  record.pk = error.pk;
  record.depends_on = error.depends_on;
  record.at = IsoUtcMillis(now_micros);
  OUTPOST_RETURN_IF_ERROR(store->AddRejection(record).status());
  for (const auto& r : error.rows) {
    server_rows->insert_or_assign({r.table, r.pk.dump()}, ServerRowState{r.table, r.pk, r.row});
  }
  // The rows this transaction touched that some rejection of the answer listed take the server's
  // state; the others are undone from the transaction's bases.
  std::vector<ServerRowState> rows;
  std::set<std::pair<std::string, std::string>> listed;
  for (const auto& m : record.mutations) {
    std::pair<std::string, std::string> key{m.value("table", ""), m.value("pk", json()).dump()};
    auto known = server_rows->find(key);
    if (known != server_rows->end() && listed.insert(key).second) rows.push_back(known->second);
  }
  OUTPOST_RETURN_IF_ERROR(writer().RestoreRejected(refused, rows));
  return true;
}

Result<int64_t> SyncSession::Impl::RejectDependents(int64_t after_tx_id, int64_t now_micros,
                                                    protocol::RejectedRows* rejected_rows,
                                                    ServerRowsByKey* server_rows) {
  OUTPOST_ASSIGN_OR_RETURN(auto pending, store->PendingTransactions(0));
  int64_t count = 0;
  for (const auto& tx : pending) {
    if (tx.tx_id <= after_tx_id) continue;
    for (const auto& m : tx.mutations) {
      const Table* t = schema() ? schema()->FindTable(m.table) : nullptr;
      if (!t) continue;
      protocol::PushMutation wire = ToWire(m);
      int64_t earlier = rejected_rows->DependsOn(wire.op, *t, wire.pk, wire.new_values);
      if (earlier == 0) continue;
      protocol::TxRejection error;
      error.code = protocol::kDependentCode;
      error.message = protocol::DependentMessage(earlier) + " (not pushed)";
      error.table = m.table;
      error.pk = wire.pk;
      error.depends_on = earlier;
      OUTPOST_ASSIGN_OR_RETURN(bool done, RejectTransaction(tx.tx_id, error, now_micros,
                                                            rejected_rows, server_rows));
      if (done) ++count;
      break;
    }
  }
  return count;
}

Result<std::optional<HttpRequest>> SyncSession::PushRequest(size_t max_transactions) {
  if (needs_schema()) {
    return Status(Code::kSchemaMismatch, "no current schema: fetch /v1/schema first");
  }
  OUTPOST_ASSIGN_OR_RETURN(auto txs, impl_->store->PendingTransactions(max_transactions));
  if (txs.empty()) return std::optional<HttpRequest>();
  protocol::PushBodyBuilder body(SchemaVersion(*impl_->schema()), impl_->client_id);
  for (const auto& tx : txs) {
    protocol::PushTransaction wire;
    wire.tx_id = tx.tx_id;
    for (const auto& m : tx.mutations) wire.mutations.push_back(impl_->ToWire(m));
    if (!body.Add(wire)) break;
  }
  return std::optional<HttpRequest>(
      HttpRequest{"POST", std::string(protocol::kPushPath), body.Finish()});
}

Status SyncSession::HandlePushResponse(std::string_view body) {
  OUTPOST_ASSIGN_OR_RETURN(std::vector<protocol::TxResult> results,
                           protocol::DecodePushAnswer(body));
  std::vector<KeyRemap> new_remaps;
  int64_t applied = 0, rejected = 0;
  int64_t last_tx = 0;  // the newest transaction the answer speaks of
  protocol::RejectedRows rejected_rows;
  ServerRowsByKey server_rows;
  const int64_t now = impl_->store->env()->NowMicros();
  EngineOptions options;
  options.defer_foreign_keys = true;
  options.park_fk_violations = true;
  options.check_constraints = false;  // restored rows are the server's
  // Not fsynced: if an OS crash loses this answer, the transactions are still in the outbox and
  // are pushed again; the server answers a replay with the result it recorded (exactly once).
  options.durable = false;
  Status s = impl_->store->RunAsEngine(options, [&]() -> Status {
    for (const auto& r : results) {
      last_tx = std::max(last_tx, r.tx_id);
      if (!r.applied) {
        OUTPOST_ASSIGN_OR_RETURN(bool done, impl_->RejectTransaction(r.tx_id, r.error, now,
                                                                     &rejected_rows, &server_rows));
        if (done) ++rejected;
        continue;
      }
      Status m = impl_->store->MarkConfirmed(r.tx_id, static_cast<int64_t>(r.checkpoint));
      if (m.code() == Code::kNotFound) continue;  // an answer seen before
      OUTPOST_RETURN_IF_ERROR(m);
      for (const auto& n : r.notices) {
        SyncNotice notice;
        notice.tx_id = r.tx_id;
        notice.code = n.code;
        notice.table = n.table;
        notice.pk = n.pk;
        notice.columns = n.columns;
        notice.at = IsoUtcMillis(now);
        OUTPOST_RETURN_IF_ERROR(impl_->store->AddNotice(notice).status());
      }
      for (const auto& remap : r.remaps) {
        Status renamed = impl_->writer().RemapKey(remap.table, remap.from, remap.to);
        if (renamed.code() == Code::kInvalidArgument) return BadAnswer(renamed);
        OUTPOST_RETURN_IF_ERROR(renamed);
        new_remaps.push_back(remap);
      }
      ++applied;
    }
    // Transactions the server has not seen yet may depend on the ones it rejected now: the
    // server would not know (a later request); they are judged here by the same rule.
    if (!rejected_rows.empty()) {
      OUTPOST_ASSIGN_OR_RETURN(int64_t dependents, impl_->RejectDependents(last_tx, now,
                                                                            &rejected_rows,
                                                                            &server_rows));
      rejected += dependents;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  impl_->pushed += applied;
  impl_->rejected += rejected;
  for (auto& r : new_remaps) impl_->remaps.push_back(std::move(r));
  return Status::Ok();
}

Status SyncSession::HandleErrorResponse(int http_status, std::string_view body) {
  Status error = protocol::DecodeErrorAnswer(http_status, body);
  if (http_status == 410 || error.code() == Code::kCursorExpired) return impl_->ForgetCursor();
  if (http_status == 409 || error.code() == Code::kSchemaMismatch) {
    impl_->needs_schema = true;
    return Status::Ok();
  }
  return error;
}

}  // namespace outpost
