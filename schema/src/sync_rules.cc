// Sync rules in JSON: a table's "sync" member of the descriptor, and the rules file an
// application writes (docs/sync-rules.md).
#include <algorithm>
#include <set>

#include "outpost/schema.h"
#include "schema_internal.h"

namespace outpost {
namespace schema_internal {

namespace {

json ScopeToJson(const Scope& s) {
  switch (s.kind) {
    case ScopeKind::kGlobal: return "global";
    case ScopeKind::kAll: return "all";
    case ScopeKind::kReferencedBy: return json{{"referenced_by", s.ref_table + "." + s.ref_column}};
    default: return json{{std::string(ScopeKindName(s.kind)), s.column}};
  }
}

json GrantToJson(const ColumnGrant& g) {
  if (g.except) return json{{"except", g.columns}};
  return g.columns;
}

}  // namespace

json SyncRuleToJson(const SyncRule& r) {
  json j;
  j["scope"] = ScopeToJson(r.scope);
  if (r.filter) {
    j["filter"] =
        json{{"column", r.filter->column}, {"claim", r.filter->claim}, {"roles", r.filter->roles}};
  }
  if (!r.excluded_columns.empty()) j["exclude"] = r.excluded_columns;
  if (r.write_roles) j["write"] = *r.write_roles;
  json c;
  c["default"] = ConflictPolicyName(r.conflict.default_policy);
  if (!r.conflict.columns.empty()) {
    json cols = json::object();
    for (const auto& [col, p] : r.conflict.columns) cols[col] = ConflictPolicyName(p);
    c["columns"] = cols;
  }
  if (r.conflict.merge_on_insert_conflict) c["on_insert_conflict"] = "merge";
  j["conflict"] = c;
  // Only when present, so that descriptors without column permissions keep their version.
  if (!r.column_permissions.empty()) {
    json cols = json::object();
    for (const auto& [role, p] : r.column_permissions) {
      json pj = json::object();
      if (p.insert) pj["insert"] = GrantToJson(*p.insert);
      if (p.update) pj["update"] = GrantToJson(*p.update);
      cols[role] = pj;
    }
    j["columns"] = cols;
  }
  return j;
}

namespace {

Result<ConflictPolicy> ParsePolicy(const Reader& r, const json& j) {
  if (!j.is_string()) return Malformed(r.where() + ": conflict policy must be a string");
  auto p = ValueOf(kPolicyNames, j.get<std::string>());
  if (!p) {
    return Malformed(r.where() + ": unknown conflict policy \"" + j.get<std::string>() +
                     "\" (expected lww, server_wins, reject or additive)");
  }
  return *p;
}

// A grant: ["a", "b"] (only these) or {"except": ["a", "b"]} (all but these).
Result<ColumnGrant> ParseGrant(const json& j, const std::string& where) {
  Reader r(where);
  ColumnGrant g;
  if (j.is_array()) {
    OUTPOST_RETURN_IF_ERROR(r.StringArray(j, "columns", &g.columns));
  } else if (j.is_object() && j.size() == 1 && j.contains("except")) {
    g.except = true;
    OUTPOST_RETURN_IF_ERROR(r.StringArray(j["except"], "except", &g.columns));
  } else {
    return Malformed(where + ": must be an array of columns or {\"except\": [columns]}");
  }
  std::set<std::string> seen;
  for (const auto& c : g.columns) {
    if (!seen.insert(c).second) return Malformed(where + ": column \"" + c + "\" named twice");
  }
  return g;
}

Result<std::map<std::string, ColumnPermissions>> ParseColumnPermissions(const json& j,
                                                                        const std::string& where) {
  Reader r(where);
  OUTPOST_RETURN_IF_ERROR(r.Object(j));
  std::map<std::string, ColumnPermissions> out;
  for (const auto& [role, pj] : j.items()) {
    const std::string rw = where + "." + role;
    Reader rr(rw);
    OUTPOST_RETURN_IF_ERROR(rr.Object(pj));
    ColumnPermissions p;
    for (const auto& [k, v] : pj.items()) {
      if (k == "insert") {
        OUTPOST_ASSIGN_OR_RETURN(p.insert, ParseGrant(v, rw + ".insert"));
      } else if (k == "update") {
        OUTPOST_ASSIGN_OR_RETURN(p.update, ParseGrant(v, rw + ".update"));
      } else {
        return Malformed(rw + ": unknown key \"" + k + "\" (expected insert, update)");
      }
    }
    out[role] = std::move(p);
  }
  return out;
}

}  // namespace

Result<SyncRule> ParseSyncRule(const json& j, const std::string& where) {
  Reader r(where);
  OUTPOST_RETURN_IF_ERROR(r.Object(j));
  static const std::set<std::string> kKeys = {"scope", "filter",   "exclude",
                                              "write", "conflict", "columns"};
  for (const auto& [k, v] : j.items()) {
    if (!kKeys.count(k)) return Malformed(where + ": unknown key \"" + k + "\"");
  }
  SyncRule rule;
  auto scope = j.find("scope");
  if (scope == j.end()) return Malformed(where + ": missing \"scope\"");
  if (scope->is_string()) {
    auto s = scope->get<std::string>();
    if (s == "global") {
      rule.scope.kind = ScopeKind::kGlobal;
    } else if (s == "all") {
      rule.scope.kind = ScopeKind::kAll;
    } else {
      return Malformed(where + ": scope must be \"global\", \"all\" or an object, not \"" + s +
                       "\"");
    }
  } else if (scope->is_object() && scope->size() == 1) {
    const std::string key = scope->begin().key();
    const json& val = scope->begin().value();
    auto kind = ValueOf(kScopeKindNames, key);
    if (!kind || *kind == ScopeKind::kGlobal || *kind == ScopeKind::kAll || !val.is_string()) {
      return Malformed(where +
                       ": scope object must be one of {\"tenant_column\": C}, {\"tenant_key\": "
                       "C}, {\"via\": C}, {\"referenced_by\": \"Table.column\"}");
    }
    rule.scope.kind = *kind;
    auto v = val.get<std::string>();
    if (*kind == ScopeKind::kReferencedBy) {
      auto dot = v.rfind('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == v.size()) {
        return Malformed(where + ": referenced_by must be \"Table.column\"");
      }
      rule.scope.ref_table = v.substr(0, dot);
      rule.scope.ref_column = v.substr(dot + 1);
    } else {
      rule.scope.column = v;
    }
  } else {
    return Malformed(where + ": malformed scope");
  }
  if (auto f = j.find("filter"); f != j.end() && !f->is_null()) {
    Reader fr(where + ".filter");
    OUTPOST_RETURN_IF_ERROR(fr.Object(*f));
    RowFilter filter;
    OUTPOST_RETURN_IF_ERROR(fr.String(*f, "column", &filter.column));
    OUTPOST_RETURN_IF_ERROR(fr.String(*f, "claim", &filter.claim));
    OUTPOST_RETURN_IF_ERROR(fr.Strings(*f, "roles", &filter.roles));
    rule.filter = std::move(filter);
  }
  OUTPOST_RETURN_IF_ERROR(r.Strings(j, "exclude", &rule.excluded_columns));
  if (auto w = j.find("write"); w != j.end() && !w->is_null()) {
    std::vector<std::string> roles;
    OUTPOST_RETURN_IF_ERROR(r.StringArray(*w, "write", &roles));
    rule.write_roles = std::move(roles);
  }
  if (auto c = j.find("conflict"); c != j.end() && !c->is_null()) {
    Reader cr(where + ".conflict");
    OUTPOST_RETURN_IF_ERROR(cr.Object(*c));
    for (const auto& [k, v] : c->items()) {
      if (k == "default") {
        OUTPOST_ASSIGN_OR_RETURN(rule.conflict.default_policy, ParsePolicy(cr, v));
        if (rule.conflict.default_policy == ConflictPolicy::kAdditive) {
          return Malformed(cr.where() + ": \"additive\" applies to single numeric columns only");
        }
      } else if (k == "columns") {
        OUTPOST_RETURN_IF_ERROR(cr.Object(v));
        for (const auto& [col, p] : v.items()) {
          OUTPOST_ASSIGN_OR_RETURN(rule.conflict.columns[col], ParsePolicy(cr, p));
        }
      } else if (k == "on_insert_conflict") {
        if (!v.is_string() || (v != "merge" && v != "reject")) {
          return Malformed(cr.where() + ": on_insert_conflict must be \"merge\" or \"reject\"");
        }
        rule.conflict.merge_on_insert_conflict = v == "merge";
      } else {
        return Malformed(cr.where() + ": unknown key \"" + k + "\"");
      }
    }
  }
  if (auto c = j.find("columns"); c != j.end() && !c->is_null()) {
    OUTPOST_ASSIGN_OR_RETURN(rule.column_permissions,
                             ParseColumnPermissions(*c, where + ".columns"));
  }
  return rule;
}

}  // namespace schema_internal

using namespace schema_internal;

Result<SyncRules> ParseSyncRules(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Malformed("rules: not valid JSON");
  Reader r("rules");
  OUTPOST_RETURN_IF_ERROR(r.Object(j));
  for (const auto& [k, v] : j.items()) {
    if (k != "app" && k != "roles" && k != "tables" && k != "$comment") {
      return Malformed("rules: unknown key \"" + k + "\"");
    }
  }
  SyncRules rules;
  OUTPOST_RETURN_IF_ERROR(r.String(j, "app", &rules.app));
  OUTPOST_RETURN_IF_ERROR(r.Strings(j, "roles", &rules.roles));
  auto tables = j.find("tables");
  if (tables == j.end() || !tables->is_object() || tables->empty()) {
    return Malformed("rules: \"tables\" must be a non-empty object");
  }
  for (const auto& [name, rule] : tables->items()) {
    OUTPOST_ASSIGN_OR_RETURN(rules.tables[name], ParseSyncRule(rule, "rules.tables." + name));
    const SyncRule& parsed = rules.tables[name];
    std::vector<std::string> named = parsed.write_roles.value_or(std::vector<std::string>{});
    if (parsed.filter)
      named.insert(named.end(), parsed.filter->roles.begin(), parsed.filter->roles.end());
    for (const auto& [role, p] : parsed.column_permissions) named.push_back(role);
    for (const auto& role : named) {
      if (std::find(rules.roles.begin(), rules.roles.end(), role) == rules.roles.end()) {
        return Malformed("rules.tables." + name + ": role \"" + role +
                         "\" is not declared in \"roles\"");
      }
    }
  }
  return rules;
}

}  // namespace outpost
