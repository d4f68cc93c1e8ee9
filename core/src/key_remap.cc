// Key remaps (MirrorWriter::RemapKey): a temporary key replaced by the server's
// (docs/local-store.md, "Keys").
#include <algorithm>

#include "mirror_writer_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

// The positions of `fk`'s columns in `t`'s primary key, when `fk` references `t` by key columns
// only (its whole key, or a unique subset of it); empty otherwise.
std::vector<size_t> KeyPositions(const Table& t, const ForeignKey& fk) {
  std::vector<size_t> positions;
  if (fk.ref_table != t.name || fk.ref_columns.size() != fk.columns.size()) return {};
  for (const auto& rc : fk.ref_columns) {
    auto k = std::find(t.primary_key.begin(), t.primary_key.end(), rc);
    if (k == t.primary_key.end()) return {};
    positions.push_back(static_cast<size_t>(k - t.primary_key.begin()));
  }
  return positions;
}

}  // namespace

Status MirrorWriter::RemapKey(std::string_view table, const json& from, const json& to) {
  const Schema* schema = impl_->schema();
  const Table* t = schema ? schema->FindTable(table) : nullptr;
  const size_t arity = t ? t->primary_key.size() : 0;
  bool usable = t && from.is_array() && to.is_array() && from.size() == arity && to.size() == arity;
  // The positions renamed: temporary values (negative) of server-assigned columns.
  std::vector<bool> renamed(arity, false);
  bool any = false;
  for (size_t i = 0; usable && i < arity; ++i) {
    if (from[i] == to[i]) continue;
    usable = t->IsServerKeyColumn(t->primary_key[i]) && from[i].is_number_integer() &&
             from[i].get<int64_t>() < 0 && to[i].is_number_integer();
    renamed[i] = any = true;
  }
  if (!usable || !any) {
    return Status(Code::kInvalidArgument,
                  "unusable key remap of \"" + std::string(table).substr(0, 64) + "\" from " +
                      from.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 100) +
                      " to " +
                      to.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 100));
  }
  Store* store = impl_->store;
  // Children first (their foreign keys are deferred), then the row itself.
  for (const auto& child : schema->tables) {
    for (const auto& fk : child.foreign_keys) {
      std::vector<size_t> pos = KeyPositions(*t, fk);
      if (std::none_of(pos.begin(), pos.end(), [&](size_t p) { return renamed[p]; })) continue;
      std::vector<std::string> sets, conds;
      json params = json::array();
      for (size_t k = 0; k < pos.size(); ++k) {
        if (!renamed[pos[k]]) continue;
        sets.push_back(QuoteIdent(fk.columns[k]) + " = ?");
        params.push_back(to[pos[k]]);
      }
      for (size_t k = 0; k < pos.size(); ++k) {
        conds.push_back(QuoteIdent(fk.columns[k]) + " = ?");
        params.push_back(from[pos[k]]);
      }
      OUTPOST_RETURN_IF_ERROR(store
                                  ->Execute("UPDATE " + QuoteIdent(child.name) + " SET " +
                                                JoinSql(sets, ", ") + " WHERE " +
                                                JoinSql(conds, " AND "),
                                            params)
                                  .status());
    }
  }
  const std::string where = " WHERE " + KeyMatchSql(*t);
  OUTPOST_ASSIGN_OR_RETURN(auto exists,
                           store->Execute("SELECT 1 FROM " + QuoteIdent(t->name) + where, to));
  if (exists.rows.empty()) {
    std::vector<std::string> sets;
    json params = json::array();
    for (size_t i = 0; i < arity; ++i) {
      if (!renamed[i]) continue;
      sets.push_back(QuoteIdent(t->primary_key[i]) + " = ?");
      params.push_back(to[i]);
    }
    for (const auto& v : from) params.push_back(v);
    OUTPOST_RETURN_IF_ERROR(
        store
            ->Execute("UPDATE " + QuoteIdent(t->name) + " SET " + JoinSql(sets, ", ") + where,
                      params)
            .status());
  } else {
    // The server row already arrived by a pull: the temporary copy goes.
    OUTPOST_RETURN_IF_ERROR(
        store->Execute("DELETE FROM " + QuoteIdent(t->name) + where, from).status());
  }
  // Every outbox entry naming a temporary value, in its key or a foreign key column. The
  // temporary values are unique in the store, so a match is always this row.
  OUTPOST_ASSIGN_OR_RETURN(auto all, store->OutboxMutations());
  for (auto& m : all) {
    const Table* mt = schema->FindTable(m.table);
    if (!mt) continue;
    bool changed = false;
    // Column `col` of `mt` that holds key position `p` of the remapped row.
    auto fix = [&](const std::string& col, size_t p) {
      for (json* obj : {&m.new_values, &m.old_values}) {
        auto it = obj->find(col);
        if (it != obj->end() && *it == from[p]) {
          *it = to[p];
          changed = true;
        }
      }
      for (size_t i = 0; i < mt->primary_key.size() && i < m.pk.size(); ++i) {
        if (mt->primary_key[i] == col && m.pk[i] == from[p]) {
          m.pk[i] = to[p];
          changed = true;
        }
      }
    };
    if (mt->name == t->name) {
      for (size_t i = 0; i < arity; ++i) {
        if (renamed[i]) fix(t->primary_key[i], i);
      }
    }
    for (const auto& fk : mt->foreign_keys) {
      std::vector<size_t> pos = KeyPositions(*t, fk);
      for (size_t k = 0; k < pos.size(); ++k) {
        if (renamed[pos[k]]) fix(fk.columns[k], pos[k]);
      }
    }
    if (changed) OUTPOST_RETURN_IF_ERROR(impl_->s->RewriteMutation(m));
  }
  return Status::Ok();
}

}  // namespace outpost
