// TemporaryKeys (temp_keys.h).
#include "temp_keys.h"

namespace outpost::server {

using nlohmann::json;

bool TemporaryKeys::IsTemporaryKey(const SyncedTable& t, const json& pk, size_t i) {
  const auto& key = t.view->primary_key;
  return i < key.size() && i < pk.size() && t.view->IsServerKeyColumn(key[i]) &&
         pk[i].is_number_integer() && pk[i].get<int64_t>() < 0;
}

const SyncedTable* TemporaryKeys::KeyTarget(const SyncedTable& t, std::string_view column) const {
  if (t.view->IsServerKeyColumn(column)) return &t;
  for (const auto& fk : t.full->foreign_keys) {
    const SyncedTable* target = model_.Find(fk.ref_table);
    if (!target) continue;
    for (size_t k = 0; k < fk.columns.size() && k < fk.ref_columns.size(); ++k) {
      if (fk.columns[k] == column && target->view->IsServerKeyColumn(fk.ref_columns[k])) {
        return target;
      }
    }
  }
  return nullptr;
}

json TemporaryKeys::Translate(const SyncedTable& target, const json& v,
                              const KeyMap& pending) const {
  if (!v.is_number_integer() || v.get<int64_t>() >= 0) return v;
  std::pair<std::string, int64_t> key{target.name(), v.get<int64_t>()};
  for (const KeyMap* map : {&pending, &committed_}) {
    auto it = map->find(key);
    if (it != map->end()) return json(it->second);
  }
  return v;
}

json TemporaryKeys::TranslatePk(const Mutation& m, const KeyMap& pending) const {
  json pk = m.pk;
  const auto& key = m.table->view->primary_key;
  for (size_t i = 0; i < key.size(); ++i) {
    if (const SyncedTable* target = KeyTarget(*m.table, key[i])) {
      pk[i] = Translate(*target, pk[i], pending);
    }
  }
  return pk;
}

json TemporaryKeys::InsertPk(const Mutation& m, const KeyMap& pending) const {
  json pk = TranslatePk(m, pending);
  for (size_t i = 0; i < pk.size(); ++i) {
    if (IsTemporaryKey(*m.table, m.pk, i)) pk[i] = m.pk[i];
  }
  return pk;
}

std::vector<Field> TemporaryKeys::TranslateFields(const SyncedTable& t,
                                                  const std::vector<Field>& fields,
                                                  const KeyMap& pending) const {
  std::vector<Field> out = fields;
  for (auto& f : out) {
    if (const SyncedTable* target = KeyTarget(t, f.column->name)) {
      f.value = Translate(*target, f.value, pending);
    }
  }
  return out;
}

void TemporaryKeys::Commit(const KeyMap& pending) {
  for (const auto& [k, v] : pending) committed_[k] = v;
}

void TemporaryKeys::Absorb(const protocol::TxResult& recorded) {
  for (const auto& r : recorded.remaps) {
    // The key's server-assigned columns are the positions whose temporary value was replaced.
    for (size_t i = 0; i < r.from.size() && i < r.to.size(); ++i) {
      const json& from = r.from[i];
      const json& to = r.to[i];
      if (from.is_number_integer() && from.get<int64_t>() < 0 && to.is_number_integer() &&
          from != to) {
        committed_[{r.table, from.get<int64_t>()}] = to.get<int64_t>();
      }
    }
  }
}

}  // namespace outpost::server
