// ApplySyncRules (rules.h).
#include "rules.h"

#include <algorithm>

#include "outpost/mirror.h"

namespace outpost::server {

namespace {

Status Malformed(std::string message) {
  return Status(Code::kMalformedDescriptor, std::move(message));
}

}  // namespace

Result<Schema> ApplySyncRules(const Schema& described, const SyncRules& rules,
                              std::vector<std::string>* dropped) {
  Schema out;
  out.app = rules.app;
  out.roles = rules.roles;
  for (const auto& [name, rule] : rules.tables) {
    if (!described.FindTable(name)) {
      return Malformed("rules name table \"" + name + "\", which the database does not have");
    }
  }
  // Keep the described order (dependency order), restricted to the tables the rules name.
  for (const auto& src : described.tables) {
    auto it = rules.tables.find(src.name);
    if (it == rules.tables.end()) continue;
    const SyncRule& rule = it->second;
    Table t = src;
    t.sync = rule;
    auto fail_column = [&](const std::string& col, const char* what) {
      return Malformed("rules for \"" + t.name + "\": " + what + " column \"" + col +
                       "\" does not exist");
    };
    for (const auto& col : rule.excluded_columns) {
      const Column* c = src.FindColumn(col);
      if (!c) return fail_column(col, "excluded");
      if (std::find(src.primary_key.begin(), src.primary_key.end(), col) != src.primary_key.end()) {
        return Malformed("rules for \"" + t.name + "\": primary key column \"" + col +
                         "\" cannot be excluded");
      }
      if (!c->nullable && !c->default_expr && !rule.read_only()) {
        return Malformed("rules for \"" + t.name + "\": excluded column \"" + col +
                         "\" is NOT NULL without a default, so clients can never insert; make "
                         "the table read-only (\"write\": [])");
      }
    }
    const Scope& s = rule.scope;
    if ((s.kind == ScopeKind::kTenantColumn || s.kind == ScopeKind::kTenantKey ||
         s.kind == ScopeKind::kVia) &&
        !src.FindColumn(s.column)) {
      return fail_column(s.column, "scope");
    }
    if (s.kind == ScopeKind::kVia) {
      bool found = false;
      for (const auto& fk : src.foreign_keys) {
        if (fk.columns.size() == 1 && fk.columns[0] == s.column) {
          found = rules.tables.count(fk.ref_table) > 0;
          if (!found) {
            return Malformed("rules for \"" + t.name + "\": scope via \"" + s.column +
                             "\" leads to \"" + fk.ref_table + "\", which the rules do not sync");
          }
        }
      }
      if (!found) {
        return Malformed("rules for \"" + t.name + "\": scope via \"" + s.column +
                         "\" needs a single-column foreign key on that column");
      }
    }
    if (s.kind == ScopeKind::kReferencedBy) {
      const Table* ref = described.FindTable(s.ref_table);
      if (!ref || !rules.tables.count(s.ref_table)) {
        return Malformed("rules for \"" + t.name + "\": referenced_by names \"" + s.ref_table +
                         "\", which is not a synced table");
      }
      if (!ref->FindColumn(s.ref_column)) {
        return Malformed("rules for \"" + t.name + "\": referenced_by column \"" + s.ref_table +
                         "." + s.ref_column + "\" does not exist");
      }
    }
    if (rule.filter && !src.FindColumn(rule.filter->column)) {
      return fail_column(rule.filter->column, "filter");
    }
    for (const auto& [col, p] : rule.conflict.columns) {
      if (!src.FindColumn(col)) return fail_column(col, "conflict");
    }
    // Against the full table, so that naming an excluded column is reported as such.
    OUTPOST_RETURN_IF_ERROR(ValidateColumnPermissions(t, rules.roles));
    // Remove excluded columns and everything that mentions them from the client view.
    auto excluded = [&](const std::string& col) {
      return std::find(rule.excluded_columns.begin(), rule.excluded_columns.end(), col) !=
             rule.excluded_columns.end();
    };
    auto mentions_excluded = [&](const std::string& expr) {
      auto cols = PgExpressionColumns(expr);
      return std::any_of(cols.begin(), cols.end(), excluded);
    };
    auto note = [&](const std::string& object) {
      if (dropped) dropped->push_back(t.name + "." + object + ": involves an excluded column");
    };
    std::erase_if(t.columns, [&](const Column& c) { return excluded(c.name); });
    std::erase_if(t.checks, [&](const CheckConstraint& c) {
      bool drop = mentions_excluded(c.expression);
      if (drop) note(c.name);
      return drop;
    });
    std::erase_if(t.uniques, [&](const UniqueConstraint& u) {
      bool drop = std::any_of(u.columns.begin(), u.columns.end(), excluded);
      if (drop) note(u.name);
      return drop;
    });
    std::erase_if(t.foreign_keys, [&](const ForeignKey& f) {
      bool drop = std::any_of(f.columns.begin(), f.columns.end(), excluded);
      if (drop) note(f.name);
      return drop;
    });
    std::erase_if(t.indexes, [&](const Index& i) {
      bool drop = false;
      for (size_t k = 0; k < i.keys.size(); ++k) {
        drop |= i.key_is_expression[k] ? mentions_excluded(i.keys[k]) : excluded(i.keys[k]);
      }
      if (i.where) drop |= mentions_excluded(*i.where);
      if (drop) note(i.name);
      return drop;
    });
    // The client view does not even name the secret columns; the server keeps the rules.
    t.sync.excluded_columns.clear();
    out.tables.push_back(std::move(t));
  }
  OUTPOST_RETURN_IF_ERROR(ValidateSchema(out));
  return out;
}

std::vector<RuleWarning> RuleWarnings(const Schema& described, const SyncRules& rules) {
  auto tenant_scoped = [&](const std::string& table) {
    auto it = rules.tables.find(table);
    if (it == rules.tables.end()) return false;
    const ScopeKind k = it->second.scope.kind;
    return k == ScopeKind::kTenantColumn || k == ScopeKind::kTenantKey || k == ScopeKind::kVia ||
           k == ScopeKind::kReferencedBy;
  };
  std::vector<RuleWarning> out;
  for (const auto& t : described.tables) {
    auto it = rules.tables.find(t.name);
    if (it == rules.tables.end() || it->second.scope.kind != ScopeKind::kGlobal) continue;
    for (const auto& fk : t.foreign_keys) {
      if (!tenant_scoped(fk.ref_table)) continue;
      RuleWarning w{t.name, fk.columns, fk.ref_table, {}};
      std::string cols;
      for (const auto& c : fk.columns) cols += (cols.empty() ? "" : ", ") + ("\"" + c + "\"");
      // The scope that would follow the reference: the tenant column itself when it points at
      // the tenant table, the parent's tenant otherwise (via takes a single-column key).
      const bool to_tenant = rules.tables.at(fk.ref_table).scope.kind == ScopeKind::kTenantKey;
      std::string fix = "stop syncing it";
      if (fk.columns.size() == 1) {
        fix = std::string("scope it as {\"") + (to_tenant ? "tenant_column" : "via") + "\": \"" +
              fk.columns[0] + "\"} or stop syncing it";
      }
      w.message = "global table \"" + t.name + "\" references tenant-scoped table \"" +
                  fk.ref_table + "\" (column" + (fk.columns.size() > 1 ? "s " : " ") + cols +
                  ", foreign key \"" + fk.name + "\"): its rows belong to tenants, yet every " +
                  "tenant would receive every tenant's rows; " + fix;
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace outpost::server
