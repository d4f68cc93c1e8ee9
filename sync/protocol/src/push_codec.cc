// POST /v1/push messages (outpost/protocol_push.h).
#include <charconv>
#include <set>

#include "outpost/protocol_push.h"
#include "outpost/value.h"

namespace outpost::protocol {

using nlohmann::json;

namespace {

constexpr std::pair<MutationOp, std::string_view> kOpNames[] = {
    {MutationOp::kInsert, "insert"},
    {MutationOp::kUpdate, "update"},
    {MutationOp::kDelete, "delete"},
};

Status Malformed(const std::string& where, const std::string& what) {
  return Status(Code::kMalformedRequest, where.empty() ? what : where + ": " + what);
}

Status BadAnswer(const std::string& what) {
  return Status(Code::kMalformedAnswer, "push answer: " + what);
}

bool ParseHlc(const json& j, uint64_t* out) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// A 64-bit signed integer written as a JSON integer or as a decimal string.
std::optional<int64_t> ParseInt64(const json& j) {
  if (j.is_number_integer()) {
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    return j.get<int64_t>();
  }
  if (!j.is_string()) return std::nullopt;
  const auto& s = j.get_ref<const std::string&>();
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// An optional string member ("" when absent or null); anything else is malformed.
Result<std::string> OptString(const json& obj, const char* key, const char* where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return BadAnswer(std::string(where) + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

Result<PushMutation> DecodeMutation(const json& jm, const std::string& where) {
  if (!jm.is_object()) return Malformed(where, "a mutation must be an object");
  PushMutation m;
  auto op = jm.find("op");
  if (op == jm.end() || !op->is_string()) return Malformed(where, "\"op\" must be a string");
  bool known = false;
  for (const auto& [value, name] : kOpNames) {
    if (*op == name) {
      m.op = value;
      known = true;
    }
  }
  if (!known) return Malformed(where, "\"op\" must be insert, update or delete");
  auto table = jm.find("table");
  if (table == jm.end() || !table->is_string()) {
    return Malformed(where, "\"table\" must be a string");
  }
  m.table = table->get<std::string>();
  auto pk = jm.find("pk");
  if (pk == jm.end() || !pk->is_array() || pk->empty()) {
    return Malformed(where, "\"pk\" must be an array of the primary key value(s)");
  }
  m.pk = *pk;
  auto hlc = jm.find("hlc");
  if (hlc == jm.end() || !ParseHlc(*hlc, &m.hlc)) {
    return Malformed(where, "\"hlc\" must be a decimal string of a 64-bit clock");
  }
  auto nv = jm.find("new");
  auto ov = jm.find("old");
  const bool has_new = nv != jm.end() && !nv->is_null();
  const bool has_old = ov != jm.end() && !ov->is_null();
  switch (m.op) {
    case MutationOp::kInsert:
      if (!has_new) return Malformed(where, "an insert needs \"new\"");
      if (has_old) return Malformed(where, "an insert has no \"old\"");
      break;
    case MutationOp::kUpdate:
      if (!has_new || !has_old) return Malformed(where, "an update needs \"new\" and \"old\"");
      break;
    case MutationOp::kDelete:
      if (has_new) return Malformed(where, "a delete has no \"new\"");
      break;
  }
  if (has_new) {
    if (!nv->is_object()) return Malformed(where + ".new", "must be an object of column values");
    m.new_values = *nv;
  }
  if (has_old) {
    if (!ov->is_object()) return Malformed(where + ".old", "must be an object of column values");
    m.old_values = *ov;
  }
  return m;
}

Result<std::vector<KeyRemap>> DecodeRemaps(const json& r) {
  std::vector<KeyRemap> out;
  auto it = r.find("remaps");
  if (it == r.end() || it->is_null()) return out;
  if (!it->is_array()) return BadAnswer("\"remaps\" is not an array");
  for (const auto& remap : *it) {
    if (!remap.is_object() || !remap.contains("table") || !remap["table"].is_string() ||
        !remap.contains("from") || !remap["from"].is_array() || !remap.contains("to") ||
        !remap["to"].is_array() || remap["from"].size() != remap["to"].size()) {
      return BadAnswer("unusable remap " +
                       remap.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 200));
    }
    out.push_back(KeyRemap{remap["table"].get<std::string>(), remap["from"], remap["to"]});
  }
  return out;
}

Result<std::vector<Notice>> DecodeNotices(const json& r) {
  std::vector<Notice> out;
  auto it = r.find("notices");
  if (it == r.end() || it->is_null()) return out;
  if (!it->is_array()) return BadAnswer("\"notices\" is not an array");
  for (const auto& n : *it) {
    if (!n.is_object()) return BadAnswer("a notice is not an object");
    Notice notice;
    OUTPOST_ASSIGN_OR_RETURN(notice.code, OptString(n, "code", "notice"));
    OUTPOST_ASSIGN_OR_RETURN(notice.table, OptString(n, "table", "notice"));
    notice.pk = n.value("pk", json());
    auto cols = n.find("columns");
    if (cols != n.end() && !cols->is_null()) {
      if (!cols->is_array()) return BadAnswer("\"columns\" of a notice is not an array");
      for (const auto& c : *cols) {
        if (!c.is_string()) return BadAnswer("a column of a notice is not a string");
        notice.columns.push_back(c.get<std::string>());
      }
    }
    out.push_back(std::move(notice));
  }
  return out;
}

Result<TxRejection> DecodeRejection(const json& r) {
  TxRejection rej;
  auto it = r.find("error");
  if (it == r.end() || it->is_null()) return rej;
  const json& e = *it;
  if (!e.is_object()) return BadAnswer("\"error\" is not an object");
  OUTPOST_ASSIGN_OR_RETURN(rej.code, OptString(e, "code", "error"));
  OUTPOST_ASSIGN_OR_RETURN(rej.message, OptString(e, "message", "error"));
  OUTPOST_ASSIGN_OR_RETURN(rej.rule, OptString(e, "rule", "error"));
  OUTPOST_ASSIGN_OR_RETURN(rej.table, OptString(e, "table", "error"));
  rej.pk = e.value("pk", json());
  auto dep = e.find("depends_on");
  if (dep != e.end() && !dep->is_null()) {
    if (!dep->is_number_integer() || dep->get<int64_t>() <= 0) {
      return BadAnswer("\"depends_on\" of a rejection is not a transaction id");
    }
    rej.depends_on = dep->get<int64_t>();
  }
  auto rows = e.find("rows");
  if (rows != e.end() && !rows->is_null()) {
    if (!rows->is_array()) return BadAnswer("\"rows\" of a rejection is not an array");
    for (const auto& row : *rows) {
      if (!row.is_object() || !row.contains("table") || !row["table"].is_string() ||
          !row.contains("pk") || !row["pk"].is_array()) {
        return BadAnswer("a row of a rejection lacks its table or key");
      }
      json value = row.value("row", json());
      if (!value.is_null() && !value.is_object()) {
        return BadAnswer("a row of a rejection is neither an object nor null");
      }
      rej.rows.push_back(RowState{row["table"].get<std::string>(), row["pk"], std::move(value)});
    }
  }
  return rej;
}

}  // namespace

std::string_view MutationOpName(MutationOp op) {
  for (const auto& [value, name] : kOpNames) {
    if (value == op) return name;
  }
  return "?";
}

json PushMutationToJson(const PushMutation& m) {
  json out{{"op", std::string(MutationOpName(m.op))},
           {"table", m.table},
           {"pk", m.pk},
           {"hlc", std::to_string(m.hlc)}};
  if (m.op != MutationOp::kDelete) out["new"] = m.new_values;
  if (m.op != MutationOp::kInsert) out["old"] = m.old_values;
  return out;
}

PushBodyBuilder::PushBodyBuilder(std::string_view schema, std::string_view client_id,
                                 size_t body_target)
    : body_target_(body_target) {
  body_ = "{\"schema\":" + json(std::string(schema)).dump() +
          ",\"client_id\":" + json(std::string(client_id)).dump() + ",\"transactions\":[";
}

bool PushBodyBuilder::Add(const PushTransaction& tx) {
  json muts = json::array();
  for (const auto& m : tx.mutations) muts.push_back(PushMutationToJson(m));
  std::string text = json{{"tx_id", tx.tx_id}, {"mutations", std::move(muts)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  const size_t mutations = mutations_ + tx.mutations.size();
  if (transactions_ > 0 &&
      (body_.size() + text.size() + 3 > body_target_ || mutations > kMaxPushMutations ||
       transactions_ + 1 > kMaxPushTransactions)) {
    return false;
  }
  if (transactions_ > 0) body_.push_back(',');
  body_ += text;
  ++transactions_;
  mutations_ = mutations;
  return true;
}

std::string PushBodyBuilder::Finish() {
  body_ += "]}";
  return std::move(body_);
}

Result<PushRequest> DecodePushRequest(std::string_view body) {
  // Before parsing: nesting beyond the limit would overflow the stack of whatever recurses on
  // the document (serializing, copying, comparing).
  if (!JsonDepthWithin(body, kMaxPushJsonDepth)) {
    return Malformed("", "the body nests deeper than " + std::to_string(kMaxPushJsonDepth) +
                             " levels (json values: at most " + std::to_string(kMaxJsonValueDepth) +
                             ")");
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Malformed("", "the body is not a JSON object");
  }
  PushRequest req;
  auto schema = doc.find("schema");
  if (schema == doc.end() || !schema->is_string()) {
    return Malformed("", "\"schema\" must be a string");
  }
  req.schema = schema->get<std::string>();
  ColumnType uuid;
  uuid.kind = TypeKind::kUuid;
  uuid.pg_type = "uuid";
  auto client = doc.find("client_id");
  auto canon = client == doc.end() ? Result<Value>(Status(Code::kMalformedRequest, "missing"))
                                   : ValueFromJson(uuid, *client);
  if (!canon.ok() || !std::holds_alternative<std::string>(*canon)) {
    return Malformed("", "\"client_id\" must be a UUID string");
  }
  req.client_id = std::get<std::string>(*canon);
  auto txs = doc.find("transactions");
  if (txs == doc.end() || !txs->is_array()) {
    return Malformed("", "\"transactions\" must be an array");
  }
  if (txs->size() > kMaxPushTransactions) {
    return Malformed(
        "", "more than " + std::to_string(kMaxPushTransactions) + " transactions in one push");
  }
  std::set<int64_t> seen;
  size_t total = 0;
  for (size_t i = 0; i < txs->size(); ++i) {
    const json& jt = (*txs)[i];
    const std::string where = "transactions[" + std::to_string(i) + "]";
    if (!jt.is_object()) return Malformed(where, "a transaction must be an object");
    auto id = jt.find("tx_id");
    if (id == jt.end() || !id->is_number_integer() ||
        (id->is_number_unsigned() && id->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      return Malformed(where, "\"tx_id\" must be a 64-bit integer");
    }
    PushTransaction tx;
    tx.tx_id = id->get<int64_t>();
    if (!seen.insert(tx.tx_id).second) {
      return Malformed(where, "tx_id " + std::to_string(tx.tx_id) + " appears twice");
    }
    auto muts = jt.find("mutations");
    if (muts == jt.end() || !muts->is_array()) {
      return Malformed(where, "\"mutations\" must be an array");
    }
    total += muts->size();
    if (total > kMaxPushMutations) {
      return Malformed("",
                       "more than " + std::to_string(kMaxPushMutations) + " mutations in one push");
    }
    for (size_t k = 0; k < muts->size(); ++k) {
      OUTPOST_ASSIGN_OR_RETURN(
          PushMutation m,
          DecodeMutation((*muts)[k], where + ".mutations[" + std::to_string(k) + "]"));
      tx.mutations.push_back(std::move(m));
    }
    req.transactions.push_back(std::move(tx));
  }
  return req;
}

json TxResultToJson(const TxResult& r) {
  json out{{"tx_id", r.tx_id},
           {"status", r.applied ? "applied" : "rejected"},
           {"checkpoint", std::to_string(r.checkpoint)}};
  if (r.applied) {
    json remaps = json::array();
    for (const auto& m : r.remaps) {
      remaps.push_back(json{{"table", m.table}, {"from", m.from}, {"to", m.to}});
    }
    json notices = json::array();
    for (const auto& n : r.notices) {
      json notice{{"code", n.code}, {"table", n.table}, {"pk", n.pk}};
      if (!n.columns.empty()) notice["columns"] = n.columns;
      notices.push_back(std::move(notice));
    }
    out["remaps"] = std::move(remaps);
    out["notices"] = std::move(notices);
    return out;
  }
  const TxRejection& e = r.error;
  json rows = json::array();
  for (const auto& row : e.rows) {
    rows.push_back(json{{"table", row.table}, {"pk", row.pk}, {"row", row.row}});
  }
  json error{{"code", e.code},
             {"message", e.message},
             {"table", e.table.empty() ? json(nullptr) : json(e.table)},
             {"pk", e.pk},
             {"rows", std::move(rows)}};
  if (!e.rule.empty()) error["rule"] = e.rule;
  if (e.depends_on > 0) error["depends_on"] = e.depends_on;
  out["error"] = std::move(error);
  return out;
}

Result<TxResult> TxResultFromJson(const json& r) {
  if (!r.is_object() || !r.contains("tx_id")) return BadAnswer("a result without tx_id");
  TxResult out;
  auto tx_id = ParseInt64(r["tx_id"]);
  if (!tx_id) return BadAnswer("tx_id is not a 64-bit integer");
  out.tx_id = *tx_id;
  OUTPOST_ASSIGN_OR_RETURN(std::string status, OptString(r, "status", "result"));
  if (status != "applied" && status != "rejected") {
    return BadAnswer("unknown status \"" + status.substr(0, 40) + "\"");
  }
  out.applied = status == "applied";
  auto checkpoint = r.find("checkpoint");
  if (checkpoint != r.end() && !checkpoint->is_null()) {
    auto c = ParseInt64(*checkpoint);
    if (!c || *c < 0) return BadAnswer("checkpoint is not an integer");
    out.checkpoint = static_cast<uint64_t>(*c);
  } else if (out.applied) {
    return BadAnswer("applied without checkpoint");
  }
  if (out.applied) {
    OUTPOST_ASSIGN_OR_RETURN(out.remaps, DecodeRemaps(r));
    OUTPOST_ASSIGN_OR_RETURN(out.notices, DecodeNotices(r));
  } else {
    OUTPOST_ASSIGN_OR_RETURN(out.error, DecodeRejection(r));
  }
  return out;
}

std::string EncodePushAnswer(const std::vector<TxResult>& results) {
  json list = json::array();
  for (const auto& r : results) list.push_back(TxResultToJson(r));
  return json{{"results", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<TxResult>> DecodePushAnswer(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("results") ||
      !doc["results"].is_array()) {
    return BadAnswer("not {\"results\": [...]}");
  }
  std::vector<TxResult> out;
  for (const auto& r : doc["results"]) {
    OUTPOST_ASSIGN_OR_RETURN(TxResult result, TxResultFromJson(r));
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace outpost::protocol
