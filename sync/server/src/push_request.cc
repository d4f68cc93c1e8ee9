// ParsePushRequest (push_request.h): a decoded push request checked against the model.
#include "push_request.h"

#include "outpost/protocol.h"
#include "outpost/value.h"

namespace outpost::server {

namespace {

using nlohmann::json;
using protocol::Quoted;

Status Malformed(const std::string& where, const std::string& what) {
  return Status(Code::kMalformedRequest, where + ": " + what);
}

// Canonical client JSON of a value for `type` (lowercase UUIDs, 0/1 booleans as true/false).
Result<json> Canonical(const ColumnType& type, const json& j) {
  OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(type, j));
  return ValueToJson(type, v);
}

Status CheckFields(const SyncedTable& table, const json& obj, const std::string& where,
                   std::vector<Field>* out) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const Column* c = table.view->FindColumn(it.key());
    if (!c) {
      return Status(Code::kUnknownColumn, where + ": table \"" + table.name() +
                                              "\" has no column \"" + Quoted(it.key()) + "\"");
    }
    // JSON text of a json or array column nests no deeper than an inline value may.
    if ((c->type.kind == TypeKind::kJson || c->type.kind == TypeKind::kArray) &&
        it.value().is_string() &&
        !protocol::JsonDepthWithin(it.value().get_ref<const std::string&>(),
                                   protocol::kMaxJsonValueDepth)) {
      return Status(Code::kInvalidValue, where + ".\"" + it.key() + "\": JSON nested deeper than " +
                                             std::to_string(protocol::kMaxJsonValueDepth) +
                                             " levels");
    }
    auto canon = Canonical(c->type, it.value());
    if (!canon.ok()) {
      return Status(Code::kInvalidValue,
                    where + ".\"" + it.key() + "\": " + Quoted(canon.status().message(), 200));
    }
    out->push_back(Field{c, std::move(canon).value()});
  }
  return Status::Ok();
}

Result<Mutation> CheckMutation(const ServerModel& model, const protocol::PushMutation& pm,
                               const std::string& where) {
  Mutation m;
  m.op = pm.op;
  m.hlc = pm.hlc;
  m.table = model.Find(pm.table);
  if (!m.table) {
    return Status(Code::kUnknownTable,
                  where + ": no table \"" + Quoted(pm.table) + "\" in the client view");
  }
  const auto& key = m.table->view->primary_key;
  if (pm.pk.size() != key.size()) {
    return Malformed(where, "\"pk\" must be an array of the " + std::to_string(key.size()) +
                                " primary key value(s) of \"" + m.table->name() + "\"");
  }
  m.pk = json::array();
  for (size_t i = 0; i < key.size(); ++i) {
    const Column* c = m.table->view->FindColumn(key[i]);
    auto canon = Canonical(c->type, pm.pk[i]);
    if (!canon.ok() || canon->is_null()) {
      return Status(
          Code::kInvalidValue,
          where + ": pk value " + Quoted(pm.pk[i].dump()) + " for \"" + key[i] + "\": " +
              (canon.ok() ? "a key value cannot be null" : Quoted(canon.status().message(), 200)));
    }
    m.pk.push_back(std::move(canon).value());
  }
  if (!pm.new_values.is_null()) {
    OUTPOST_RETURN_IF_ERROR(CheckFields(*m.table, pm.new_values, where + ".new", &m.new_values));
  }
  if (!pm.old_values.is_null()) {
    OUTPOST_RETURN_IF_ERROR(CheckFields(*m.table, pm.old_values, where + ".old", &m.old_values));
  }
  if (m.op == MutationOp::kUpdate) {
    for (const auto& f : m.new_values) {
      if (!FindField(m.old_values, f.column->name)) {
        return Malformed(where, "column \"" + f.column->name +
                                    "\" is in \"new\" but its base value is missing from \"old\"");
      }
    }
  }
  if (m.op == MutationOp::kInsert) {
    for (size_t i = 0; i < key.size(); ++i) {
      const Field* f = FindField(m.new_values, key[i]);
      if (f && f->value != m.pk[i]) {
        return Malformed(where, "\"new\" and \"pk\" disagree on \"" + key[i] + "\"");
      }
    }
  }
  return m;
}

}  // namespace

const Field* FindField(const std::vector<Field>& fields, std::string_view column) {
  for (const auto& f : fields) {
    if (f.column->name == column) return &f;
  }
  return nullptr;
}

Result<PushBatch> ParsePushRequest(const ServerModel& model, std::string_view body) {
  OUTPOST_ASSIGN_OR_RETURN(protocol::PushRequest req, protocol::DecodePushRequest(body));
  if (req.schema != model.version()) {
    return Status(Code::kSchemaMismatch, "the request's schema " + Quoted(req.schema) +
                                             " is not the server's " + model.version());
  }
  PushBatch batch;
  batch.client_id = std::move(req.client_id);
  for (size_t i = 0; i < req.transactions.size(); ++i) {
    const protocol::PushTransaction& pt = req.transactions[i];
    ClientTx tx;
    tx.tx_id = pt.tx_id;
    for (size_t k = 0; k < pt.mutations.size(); ++k) {
      OUTPOST_ASSIGN_OR_RETURN(Mutation m,
                               CheckMutation(model, pt.mutations[k],
                                             "transactions[" + std::to_string(i) + "].mutations[" +
                                                 std::to_string(k) + "]"));
      tx.mutations.push_back(std::move(m));
    }
    batch.txs.push_back(std::move(tx));
  }
  return batch;
}

}  // namespace outpost::server
