// Dependent transactions: the one definition both sides apply (dependencies.h).
#include "outpost/dependencies.h"

namespace outpost::protocol {

using nlohmann::json;

std::string DependentMessage(int64_t earlier) {
  return "depends on transaction " + std::to_string(earlier) +
         " of this client, which the server rejected: it writes a row that transaction wrote or "
         "references a row it inserted";
}

void RejectedRows::Add(int64_t tx_id, MutationOp op, const Table& table, const json& pk) {
  touched_.emplace(std::make_pair(table.name, pk.dump()), tx_id);
  if (op != MutationOp::kInsert || !pk.is_array()) return;
  json by_column = json::object();
  for (size_t i = 0; i < table.primary_key.size() && i < pk.size(); ++i) {
    by_column[table.primary_key[i]] = pk[i];
  }
  inserted_.emplace(std::make_pair(table.name, by_column.dump()), tx_id);
}

int64_t RejectedRows::DependsOn(MutationOp op, const Table& table, const json& pk,
                                const json& new_values) const {
  if (touched_.empty()) return 0;
  auto row = touched_.find(std::make_pair(table.name, pk.dump()));
  if (row != touched_.end()) return row->second;
  if (op == MutationOp::kDelete || !new_values.is_object() || inserted_.empty()) return 0;
  for (const auto& fk : table.foreign_keys) {
    // The referenced row's key as {referenced column: value}: json objects keep their keys
    // sorted, so the text is the same as Add's whatever the foreign key's column order.
    json target = json::object();
    bool complete = fk.columns.size() == fk.ref_columns.size();
    for (size_t i = 0; complete && i < fk.columns.size(); ++i) {
      auto v = new_values.find(fk.columns[i]);
      if (v == new_values.end() || v->is_null()) {
        complete = false;
      } else {
        target[fk.ref_columns[i]] = *v;
      }
    }
    if (!complete) continue;
    auto parent = inserted_.find(std::make_pair(fk.ref_table, target.dump()));
    if (parent != inserted_.end()) return parent->second;
  }
  return 0;
}

}  // namespace outpost::protocol
