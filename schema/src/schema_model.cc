// The schema model: enum names, lookups and the invariants of a valid Schema (outpost/schema.h).
#include <algorithm>
#include <set>

#include "outpost/schema.h"
#include "schema_internal.h"

namespace outpost {

using namespace schema_internal;

namespace {

Status CheckColumns(const Table& t, const std::vector<std::string>& cols, const std::string& what) {
  for (const auto& c : cols) {
    if (!t.FindColumn(c)) {
      return Malformed("table \"" + t.name + "\": " + what + " names unknown column \"" + c + "\"");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view TypeKindName(TypeKind kind) {
  return NameOf(kTypeKindNames, kind);
}

Result<TypeKind> ParseTypeKind(std::string_view name) {
  auto k = ValueOf(kTypeKindNames, name);
  if (!k) return Status(Code::kUnknownType, "unknown type \"" + std::string(name) + "\"");
  return *k;
}

std::string_view FkActionName(FkAction action) {
  return NameOf(kFkActionNames, action);
}
std::string_view ScopeKindName(ScopeKind kind) {
  return NameOf(kScopeKindNames, kind);
}
std::string_view ConflictPolicyName(ConflictPolicy p) {
  return NameOf(kPolicyNames, p);
}

bool SyncRule::read_only() const {
  return scope.kind == ScopeKind::kGlobal || (write_roles && write_roles->empty());
}

bool SyncRule::may_write(std::string_view role) const {
  if (scope.kind == ScopeKind::kGlobal) return false;
  if (!write_roles) return true;
  return std::find(write_roles->begin(), write_roles->end(), role) != write_roles->end();
}

bool ColumnGrant::permits(std::string_view column) const {
  bool listed = std::find(columns.begin(), columns.end(), column) != columns.end();
  return except ? !listed : listed;
}

bool SyncRule::may_set(std::string_view role, std::string_view column, WriteKind kind) const {
  auto it = column_permissions.find(std::string(role));
  if (it == column_permissions.end()) return true;
  const auto& grant = kind == WriteKind::kInsert ? it->second.insert : it->second.update;
  return !grant || grant->permits(column);
}

Status ValidateColumnPermissions(const Table& t, const std::vector<std::string>& roles) {
  const SyncRule& rule = t.sync;
  for (const auto& [role, perms] : rule.column_permissions) {
    const std::string where =
        "table \"" + t.name + "\": column permissions of role \"" + role + "\"";
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
      return Malformed(where + ": the role is not declared in \"roles\"");
    }
    if (!rule.may_write(role)) {
      return Malformed(where + ": the role may not write the table at all");
    }
    for (WriteKind kind : {WriteKind::kInsert, WriteKind::kUpdate}) {
      const auto& grant = kind == WriteKind::kInsert ? perms.insert : perms.update;
      if (!grant) continue;
      const char* op = kind == WriteKind::kInsert ? "insert" : "update";
      for (const auto& col : grant->columns) {
        if (std::find(rule.excluded_columns.begin(), rule.excluded_columns.end(), col) !=
            rule.excluded_columns.end()) {
          return Malformed(where + ": " + op + " names excluded column \"" + col +
                           "\" (excluded columns are never writable)");
        }
        if (!t.FindColumn(col)) {
          return Malformed(where + ": " + op + " names unknown column \"" + col + "\"");
        }
        if (std::find(t.primary_key.begin(), t.primary_key.end(), col) != t.primary_key.end()) {
          return Malformed(where + ": " + op + " names primary key column \"" + col +
                           "\" (an insert always gives the key, an update never changes it)");
        }
      }
    }
    if (perms.insert) {
      for (const auto& c : t.columns) {
        bool key =
            std::find(t.primary_key.begin(), t.primary_key.end(), c.name) != t.primary_key.end();
        bool tenant = (rule.scope.kind == ScopeKind::kTenantColumn ||
                       rule.scope.kind == ScopeKind::kTenantKey) &&
                      rule.scope.column == c.name;
        if (key || tenant || c.nullable || c.default_expr || c.serial || c.generated) continue;
        if (!perms.insert->permits(c.name)) {
          return Malformed(where + ": NOT NULL column \"" + c.name +
                           "\" has no default and is not insertable, so the role could never "
                           "insert");
        }
      }
    }
  }
  return Status::Ok();
}

const Column* Table::FindColumn(std::string_view column) const {
  for (const auto& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

bool Table::IsServerKeyColumn(std::string_view column) const {
  if (std::find(primary_key.begin(), primary_key.end(), column) == primary_key.end()) return false;
  const Column* c = FindColumn(column);
  return c && c->serial && c->type.kind == TypeKind::kInteger;
}

bool Table::has_serial_key() const {
  return std::any_of(primary_key.begin(), primary_key.end(),
                     [&](const std::string& k) { return IsServerKeyColumn(k); });
}

const Table* Schema::FindTable(std::string_view table) const {
  for (const auto& t : tables) {
    if (t.name == table) return &t;
  }
  return nullptr;
}

Status ValidateSchema(const Schema& schema) {
  std::set<std::string> names;
  for (const auto& t : schema.tables) {
    if (t.name.empty()) return Malformed("a table has an empty name");
    if (t.name.rfind("_outpost", 0) == 0 || t.name.rfind("sqlite_", 0) == 0) {
      return Malformed("table name \"" + t.name + "\" is reserved");
    }
    if (!names.insert(t.name).second) return Malformed("duplicate table \"" + t.name + "\"");
    std::set<std::string> cols;
    for (const auto& c : t.columns) {
      if (c.name.empty()) return Malformed("table \"" + t.name + "\" has an unnamed column");
      if (!cols.insert(c.name).second) {
        return Malformed("table \"" + t.name + "\" has duplicate column \"" + c.name + "\"");
      }
    }
    if (t.columns.empty()) return Malformed("table \"" + t.name + "\" has no columns");
    if (t.primary_key.empty()) {
      return Malformed("table \"" + t.name + "\" has no primary key (Outpost needs one to sync)");
    }
    OUTPOST_RETURN_IF_ERROR(CheckColumns(t, t.primary_key, "primary key"));
    for (const auto& u : t.uniques) OUTPOST_RETURN_IF_ERROR(CheckColumns(t, u.columns, u.name));
    for (const auto& f : t.foreign_keys) {
      OUTPOST_RETURN_IF_ERROR(CheckColumns(t, f.columns, f.name));
    }
    for (const auto& i : t.indexes) {
      if (i.keys.size() != i.key_is_expression.size() || i.keys.size() != i.descending.size()) {
        return Malformed("table \"" + t.name + "\": index \"" + i.name + "\" is inconsistent");
      }
      for (size_t k = 0; k < i.keys.size(); ++k) {
        if (!i.key_is_expression[k] && !t.FindColumn(i.keys[k])) {
          return Malformed("table \"" + t.name + "\": index \"" + i.name +
                           "\" names unknown column \"" + i.keys[k] + "\"");
        }
      }
    }
    const Scope& s = t.sync.scope;
    if ((s.kind == ScopeKind::kTenantColumn || s.kind == ScopeKind::kTenantKey ||
         s.kind == ScopeKind::kVia) &&
        !t.FindColumn(s.column)) {
      return Malformed("table \"" + t.name + "\": scope names unknown column \"" + s.column + "\"");
    }
    if (t.sync.filter && !t.FindColumn(t.sync.filter->column)) {
      return Malformed("table \"" + t.name + "\": filter names unknown column \"" +
                       t.sync.filter->column + "\"");
    }
    for (const auto& [col, policy] : t.sync.conflict.columns) {
      const Column* c = t.FindColumn(col);
      if (!c) {
        return Malformed("table \"" + t.name + "\": conflict rule names unknown column \"" + col +
                         "\"");
      }
      if (policy == ConflictPolicy::kAdditive && c->type.kind != TypeKind::kInteger &&
          c->type.kind != TypeKind::kNumeric && c->type.kind != TypeKind::kReal) {
        return Malformed("table \"" + t.name + "\": additive conflict policy on non-numeric \"" +
                         col + "\"");
      }
    }
    OUTPOST_RETURN_IF_ERROR(ValidateColumnPermissions(t, schema.roles));
  }
  return Status::Ok();
}

}  // namespace outpost
