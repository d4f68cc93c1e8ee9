// WriteGuard's column permissions (write_guard.h; docs/sync-rules.md, "Column permissions").
// Kept apart from the other checks: they only read the rule's column_permissions and the row.
#include <algorithm>

#include "outpost/mirror.h"
#include "outpost/value.h"
#include "write_guard.h"

namespace outpost::server {

using nlohmann::json;

namespace {

bool IsKeyColumn(const SyncedTable& t, const std::string& column) {
  const auto& key = t.view->primary_key;
  return std::find(key.begin(), key.end(), column) != key.end();
}

bool IsTenantColumn(const SyncedTable& t, const std::string& column) {
  const Scope& s = t.rule().scope;
  return (s.kind == ScopeKind::kTenantColumn || s.kind == ScopeKind::kTenantKey) &&
         s.column == column;
}

Rejection Denied(const SyncedTable& t, const json& pk, const std::string& role,
                 const std::string& column, const char* what) {
  return Reject("permission_denied",
                "role \"" + role + "\" may not " + what + " column \"" + column + "\" of \"" +
                    t.name() + "\"",
                column, &t, pk);
}

}  // namespace

Outcome WriteGuard::CheckInsertColumns(const SyncedTable& t, const json& pk,
                                       std::vector<Field>* values) const {
  const SyncRule& rule = t.rule();
  if (rule.column_permissions.empty()) return Outcome();
  std::vector<Field> kept;
  kept.reserve(values->size());
  for (auto& f : *values) {
    const std::string& name = f.column->name;
    if (IsKeyColumn(t, name) || IsTenantColumn(t, name) ||
        rule.may_set(who_.role, name, WriteKind::kInsert)) {
      kept.push_back(std::move(f));
      continue;
    }
    ColumnDefault d = DefaultOf(*f.column);
    if (d.kind == ColumnDefault::kComputed) continue;  // the database computes it
    auto given = ValueFromJson(f.column->type, f.value);
    bool same = given.ok() && (d.kind == ColumnDefault::kNull ? IsNull(*given) : *given == d.value);
    if (!same) return Denied(t, pk, who_.role, name, "set on insert");
    kept.push_back(std::move(f));
  }
  *values = std::move(kept);
  return Outcome();
}

Result<Outcome> WriteGuard::CheckUpdateColumns(const SyncedTable& t, const json& pk,
                                               const std::vector<Field>& new_values,
                                               const std::vector<Field>* old_values) {
  const SyncRule& rule = t.rule();
  std::vector<const Field*> denied;
  for (const auto& f : new_values) {
    if (IsKeyColumn(t, f.column->name)) continue;
    if (!rule.may_set(who_.role, f.column->name, WriteKind::kUpdate)) denied.push_back(&f);
  }
  if (denied.empty()) return Outcome();
  // An additive column moves by the client's delta whenever its base is not the server's value,
  // so it is left as it is only when the client did not change it at all.
  for (const Field* f : denied) {
    auto policy = rule.conflict.columns.find(f->column->name);
    ConflictPolicy p =
        policy != rule.conflict.columns.end() ? policy->second : rule.conflict.default_policy;
    const Field* base = old_values ? FindField(*old_values, f->column->name) : nullptr;
    if (p == ConflictPolicy::kAdditive && base && base->value != f->value) {
      return Outcome(Denied(t, pk, who_.role, f->column->name, "update"));
    }
  }
  // Does each value equal the server's? Compared in the type's canonical text, like the conflict
  // rules' base comparison; FOR UPDATE, so that the answer holds until the update is made.
  PgParams params;
  std::string sql = "SELECT ";
  for (size_t i = 0; i < denied.size(); ++i) {
    const Field& f = *denied[i];
    OUTPOST_ASSIGN_OR_RETURN(auto text, JsonToPgText(f.column->type, f.value));
    sql += (i ? ", r." : "r.") + QuoteIdent(f.column->name) + "::text IS NOT DISTINCT FROM (" +
           AddParam(&params, std::move(text)) + "::" + model_.PgType(t, f.column->name) + ")::text";
  }
  OUTPOST_ASSIGN_OR_RETURN(std::string pkp, model_.PkParam(t, pk, &params));
  auto scope = model_.ScopePredicate(t, "r", who_, &params);
  if (!scope.ok()) {
    return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
  }
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, conn_.Exec(sql + " FROM " + t.qname + " r WHERE " +
                                                      model_.PkMatchExpression(t, "r", pkp) +
                                                      " AND " + *scope + " FOR UPDATE OF r",
                                                  params));
  if (r.rows() == 0) return Outcome();  // absent or out of scope: the update is dropped
  for (size_t i = 0; i < denied.size(); ++i) {
    if (r.get(0, static_cast<int>(i)) != "t") {
      return Outcome(Denied(t, pk, who_.role, denied[i]->column->name, "update"));
    }
  }
  return Outcome();
}

}  // namespace outpost::server
