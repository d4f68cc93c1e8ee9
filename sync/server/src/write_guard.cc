// WriteGuard (write_guard.h).
#include "write_guard.h"

#include "outpost/value.h"

namespace outpost::server {

using nlohmann::json;

Outcome WriteGuard::CheckRole(const SyncedTable& t, const json& pk) const {
  if (t.rule().may_write(who_.role)) return Outcome();
  return Reject("permission_denied",
                "role \"" + who_.role + "\" may not write \"" + t.name() + "\"", "write", &t, pk);
}

Outcome WriteGuard::CheckOwnership(const SyncedTable& t, const json& pk, std::vector<Field>* values,
                                   bool fill) const {
  struct Owner {
    std::string column;
    std::string value;  // the token's, as PostgreSQL text
    const char* rule;
  };
  std::vector<Owner> owners;
  const Scope& s = t.rule().scope;
  if (s.kind == ScopeKind::kTenantColumn || s.kind == ScopeKind::kTenantKey) {
    owners.push_back(Owner{s.column, who_.tenant, "tenant"});
  }
  if (model_.Filtered(t, who_)) {
    const RowFilter& f = *t.rule().filter;
    auto claim = who_.claims.find(f.claim);
    if (claim == who_.claims.end() || claim->is_null() || claim->is_structured()) {
      return Reject("permission_denied",
                    "the token has no \"" + f.claim + "\" claim for the row filter", "filter", &t,
                    pk);
    }
    owners.push_back(
        Owner{f.column, claim->is_string() ? claim->get<std::string>() : claim->dump(), "filter"});
  }
  for (const auto& o : owners) {
    const Column* c = t.view->FindColumn(o.column);
    if (!c) continue;  // excluded column: the scope check after the write decides
    // The token's value in canonical client JSON (it may not be a value of the column's type).
    auto mine = PgTextToJson(c->type, o.value);
    Field* given = nullptr;
    for (auto& f : *values) {
      if (f.column == c) given = &f;
    }
    if (given) {
      if (!mine.ok() || given->value != *mine) {
        return Reject("permission_denied",
                      "\"" + o.column + "\" of \"" + t.name() + "\" must be the token's " + o.rule,
                      o.rule, &t, pk);
      }
    } else if (fill) {
      if (!mine.ok()) {
        return Reject(
            "permission_denied",
            "the token's " + std::string(o.rule) + " is not a value of \"" + o.column + "\"",
            o.rule, &t, pk);
      }
      values->push_back(Field{c, *mine});
    }
  }
  return Outcome();
}

Result<Outcome> WriteGuard::CheckInScope(const SyncedTable& t, const json& pk,
                                         const std::vector<Field>* written) {
  // One query for the row's own scope and every reference the client wrote (one round trip
  // instead of one per check: they sit on the push's latency path). Column i of its single row
  // answers checks[i]; the first failing check, in order, is the rejection.
  std::vector<const ForeignKey*> checks;  // nullptr: the row's own scope
  std::optional<Outcome> unbuildable;     // a check whose predicate could not be built (in order)
  PgParams params;
  std::string sql = "SELECT ";
  {
    OUTPOST_ASSIGN_OR_RETURN(std::string pkp, model_.PkParam(t, pk, &params));
    auto scope = model_.ScopePredicate(t, "r", who_, &params);
    if (!scope.ok()) {
      return Outcome(Reject("permission_denied", scope.status().message(), "scope", &t, pk));
    }
    sql += "EXISTS (SELECT 1 FROM " + t.qname + " r WHERE " +
           model_.PkMatchExpression(t, "r", pkp) + " AND " + *scope + ")";
    checks.push_back(nullptr);
  }
  static const std::vector<ForeignKey> kNone;
  for (const auto& fk : written ? t.full->foreign_keys : kNone) {
    bool touched = false;
    for (const auto& c : fk.columns) touched = touched || FindField(*written, c) != nullptr;
    const SyncedTable* target = model_.Find(fk.ref_table);
    if (!touched || !target) continue;
    ScopeKind kind = target->rule().scope.kind;
    if ((kind == ScopeKind::kGlobal || kind == ScopeKind::kAll) &&
        !model_.Filtered(*target, who_)) {
      continue;
    }
    OUTPOST_ASSIGN_OR_RETURN(std::string fpk, model_.PkParam(t, pk, &params));
    auto target_scope = model_.ScopePredicate(*target, "p", who_, &params);
    if (!target_scope.ok()) {
      unbuildable =
          Outcome(Reject("permission_denied", target_scope.status().message(), fk.name, &t, pk));
      break;
    }
    std::string nulls, match;
    for (size_t i = 0; i < fk.columns.size(); ++i) {
      nulls += (i ? " OR r." : "r.") + QuoteIdent(fk.columns[i]) + " IS NULL";
      match += (i ? " AND p." : "p.") + QuoteIdent(fk.ref_columns[i]) + " = r." +
               QuoteIdent(fk.columns[i]);
    }
    sql += ", EXISTS (SELECT 1 FROM " + t.qname + " r WHERE " +
           model_.PkMatchExpression(t, "r", fpk) + " AND (" + nulls + " OR EXISTS (SELECT 1 FROM " +
           target->qname + " p WHERE " + match + " AND " + *target_scope + ")))";
    checks.push_back(&fk);
  }
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, conn_.Exec(sql, params));
  if (r.rows() != 1 || r.columns() != static_cast<int>(checks.size())) {
    return Status(Code::kInternal, "scope check answered the wrong shape");
  }
  for (size_t i = 0; i < checks.size(); ++i) {
    if (r.get(0, static_cast<int>(i)) == "t") continue;
    if (!checks[i]) {
      return Outcome(Reject("permission_denied",
                            "the row would be outside the token's scope (another tenant's parent "
                            "row, or a row filter value that is not the token's)",
                            "scope", &t, pk));
    }
    const ForeignKey& fk = *checks[i];
    return Outcome(Reject("permission_denied",
                          "\"" + fk.name + "\" points at a row outside the token's scope", fk.name,
                          &t, pk));
  }
  if (unbuildable) return *unbuildable;
  return Outcome();
}

}  // namespace outpost::server
