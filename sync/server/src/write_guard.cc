// WriteGuard (write_guard.h).
#include "write_guard.h"

#include <algorithm>

#include "outpost/value.h"

namespace outpost::server {

using nlohmann::json;

Rejection ReferenceRejection(const std::string& fk_name, const SyncedTable* table, json pk) {
  return Reject("constraint_violation",
                "\"" + fk_name + "\" points at no row the token can see (absent or out of scope)",
                fk_name, table, std::move(pk));
}

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
    // Visibility as before the write: the written row does not vouch for its own targets.
    ScopeExclusion self{&t, fpk};
    auto target_scope = model_.ScopePredicate(*target, "p", who_, &params, &self);
    if (!target_scope.ok()) {
      unbuildable = Outcome(ReferenceRejection(fk.name, &t, pk));
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
  // References first: a reference to a row the token cannot see must answer as one to no row
  // (which PostgreSQL's own check refuses before this one runs), also when the row's own scope
  // fails because of it (a `via` child of another tenant's parent).
  for (size_t i = 1; i < checks.size(); ++i) {
    if (r.get(0, static_cast<int>(i)) != "t") {
      return Outcome(ReferenceRejection(checks[i]->name, &t, pk));
    }
  }
  if (unbuildable) return *unbuildable;
  if (r.get(0, 0) != "t") {
    return Outcome(Reject("permission_denied", kOutOfScopeMessage, "scope", &t, pk));
  }
  return Outcome();
}

Result<Outcome> WriteGuard::CheckReferences(const SyncedTable& t, const json& pk,
                                            const std::vector<Field>& values) {
  std::vector<const ForeignKey*> checks;
  PgParams params;
  std::string sql = "SELECT TRUE";
  for (const auto& fk : t.full->foreign_keys) {
    const SyncedTable* target = model_.Find(fk.ref_table);
    if (!target) continue;
    std::string match;
    bool complete = true;
    for (size_t i = 0; i < fk.columns.size(); ++i) {
      const Field* f = FindField(values, fk.columns[i]);
      if (!f || f->value.is_null()) {
        complete = false;
        break;
      }
      OUTPOST_ASSIGN_OR_RETURN(auto text, JsonToPgText(f->column->type, f->value));
      match += (i ? " AND p." : "p.") + QuoteIdent(fk.ref_columns[i]) + " = " +
               AddParam(&params, std::move(text)) +
               "::" + model_.PgType(*target, fk.ref_columns[i]);
    }
    if (!complete) continue;
    auto target_scope = model_.ScopePredicate(*target, "p", who_, &params);
    if (!target_scope.ok()) return Outcome(ReferenceRejection(fk.name, &t, pk));
    sql += ", EXISTS (SELECT 1 FROM " + target->qname + " p WHERE " + match + " AND " +
           *target_scope + ")";
    checks.push_back(&fk);
  }
  if (checks.empty()) return Outcome();
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, conn_.Exec(sql, params));
  for (size_t i = 0; i < checks.size(); ++i) {
    if (r.get(0, static_cast<int>(i) + 1) != "t") {
      return Outcome(ReferenceRejection(checks[i]->name, &t, pk));
    }
  }
  return Outcome();
}

namespace {

// Chains of cascades longer than this are not followed: any row further down refuses the write
// (conservative), as does a walk that would build more than kMaxCascadeChecks checks.
constexpr int kMaxCascadeDepth = 6;
constexpr size_t kMaxCascadeChecks = 64;

bool ChangesRows(FkAction a) {
  return a == FkAction::kCascade || a == FkAction::kSetNull || a == FkAction::kSetDefault;
}

// One way a write reaches rows the token may not change: an EXISTS over the chain of dependents.
struct CascadeCheck {
  std::string sql;
  std::string table;  // the table whose rows would change
};

// Follows the foreign keys of the described schema (synced or not) from a written table.
class CascadeWalk {
 public:
  CascadeWalk(const ServerModel& model, const Principal& who, PgParams* params)
      : model_(model), who_(who), params_(params) {}

  // Rows of `parent` (alias `alias`) being deleted (`changed` null) or having the `changed`
  // columns updated; `open`/`close` wrap a check in the EXISTS chain that led here.
  Status Walk(const Table& parent, const std::string& alias,
              const std::vector<std::string>* changed, int depth, const std::string& open,
              const std::string& close) {
    for (const Table& d : model_.described().tables) {
      for (const ForeignKey& fk : d.foreign_keys) {
        if (fk.ref_table != parent.name) continue;
        const FkAction action = changed ? fk.on_update : fk.on_delete;
        if (!ChangesRows(action) || (changed && !Touches(fk, *changed))) continue;
        const std::string a = "c" + std::to_string(depth);
        std::string join;
        for (size_t i = 0; i < fk.columns.size(); ++i) {
          join += (i ? " AND " : "") + a + "." + QuoteIdent(fk.columns[i]) + " = " + alias + "." +
                  QuoteIdent(fk.ref_columns[i]);
        }
        const std::string from = "EXISTS (SELECT 1 FROM " + QuoteIdent(model_.pg_schema()) + "." +
                                 QuoteIdent(d.name) + " " + a + " WHERE " + join;
        const SyncedTable* synced = model_.Find(d.name);
        if (!synced || !synced->rule().may_write(who_.role) || depth >= kMaxCascadeDepth ||
            checks.size() >= kMaxCascadeChecks) {
          checks.push_back(CascadeCheck{open + from + ")" + close, d.name});
          continue;
        }
        // A table the role may write: its dependent rows must be in the token's scope...
        auto scope = model_.ScopePredicate(*synced, a, who_, params_);
        if (!scope.ok()) {
          checks.push_back(CascadeCheck{open + from + ")" + close, d.name});
          continue;
        }
        checks.push_back(CascadeCheck{open + from + " AND NOT (" + *scope + "))" + close, d.name});
        // ...and what changing them sets off must be allowed too: a cascaded delete deletes
        // them, any other action updates their foreign key columns.
        const std::vector<std::string>* next =
            action == FkAction::kCascade && !changed ? nullptr : &fk.columns;
        OUTPOST_RETURN_IF_ERROR(Walk(d, a, next, depth + 1, open + from + " AND ", ")" + close));
      }
    }
    return Status::Ok();
  }

  std::vector<CascadeCheck> checks;

 private:
  static bool Touches(const ForeignKey& fk, const std::vector<std::string>& changed) {
    for (const auto& c : fk.ref_columns) {
      if (std::find(changed.begin(), changed.end(), c) != changed.end()) return true;
    }
    return false;
  }

  const ServerModel& model_;
  const Principal& who_;
  PgParams* params_;
};

}  // namespace

Result<Outcome> WriteGuard::CheckCascades(const SyncedTable& t, const json& pk,
                                          const std::vector<Field>* written) {
  std::vector<std::string> changed;
  if (written) {
    for (const auto& f : *written) changed.push_back(f.column->name);
  }
  PgParams params;
  CascadeWalk walk(model_, who_, &params);
  OUTPOST_RETURN_IF_ERROR(walk.Walk(*t.full, "r", written ? &changed : nullptr, 1, "", ""));
  if (walk.checks.empty()) return Outcome();
  OUTPOST_ASSIGN_OR_RETURN(std::string pkp, model_.PkParam(t, pk, &params));
  auto scope = model_.ScopePredicate(t, "r", who_, &params);
  if (!scope.ok()) return Outcome();  // the write itself will find no row of the token's
  std::string sql = "SELECT ";
  for (size_t i = 0; i < walk.checks.size(); ++i) sql += (i ? ", " : "") + walk.checks[i].sql;
  sql +=
      " FROM " + t.qname + " r WHERE " + model_.PkMatchExpression(t, "r", pkp) + " AND " + *scope;
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, conn_.Exec(sql, params));
  if (r.rows() == 0) return Outcome();  // absent or out of scope: the write finds nothing
  for (size_t i = 0; i < walk.checks.size(); ++i) {
    if (r.get(0, static_cast<int>(i)) != "t") continue;
    return Outcome(Reject("permission_denied",
                          std::string(written ? "updating" : "deleting") +
                              " this row would change rows of \"" + walk.checks[i].table +
                              "\" (ON " + (written ? "UPDATE" : "DELETE") +
                              " actions) that the token may not write",
                          "cascade", &t, pk));
  }
  return Outcome();
}

}  // namespace outpost::server
