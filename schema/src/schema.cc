// Schema model: validation, canonical JSON, version hash, sync rules.
#include "outpost/schema.h"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "outpost/mirror.h"

namespace outpost {
namespace {

using nlohmann::json;

constexpr std::pair<TypeKind, std::string_view> kTypeKindNames[] = {
    {TypeKind::kUuid, "uuid"},           {TypeKind::kText, "text"},
    {TypeKind::kCitext, "citext"},       {TypeKind::kInteger, "integer"},
    {TypeKind::kNumeric, "numeric"},     {TypeKind::kReal, "real"},
    {TypeKind::kBoolean, "boolean"},     {TypeKind::kDate, "date"},
    {TypeKind::kTimestamp, "timestamp"}, {TypeKind::kTimestamptz, "timestamptz"},
    {TypeKind::kJson, "json"},           {TypeKind::kArray, "array"},
    {TypeKind::kEnum, "enum"},           {TypeKind::kInet, "inet"},
    {TypeKind::kBytea, "bytea"},         {TypeKind::kOtherText, "other"},
};

constexpr std::pair<FkAction, std::string_view> kFkActionNames[] = {
    {FkAction::kNoAction, "no_action"},     {FkAction::kRestrict, "restrict"},
    {FkAction::kCascade, "cascade"},        {FkAction::kSetNull, "set_null"},
    {FkAction::kSetDefault, "set_default"},
};

constexpr std::pair<ScopeKind, std::string_view> kScopeKindNames[] = {
    {ScopeKind::kGlobal, "global"},
    {ScopeKind::kAll, "all"},
    {ScopeKind::kTenantColumn, "tenant_column"},
    {ScopeKind::kTenantKey, "tenant_key"},
    {ScopeKind::kVia, "via"},
    {ScopeKind::kReferencedBy, "referenced_by"},
};

constexpr std::pair<ConflictPolicy, std::string_view> kPolicyNames[] = {
    {ConflictPolicy::kLastWriterWins, "lww"},
    {ConflictPolicy::kServerWins, "server_wins"},
    {ConflictPolicy::kReject, "reject"},
    {ConflictPolicy::kAdditive, "additive"},
};

template <typename E, size_t N>
std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> ValueOf(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

Status Malformed(std::string message) {
  return Status(Code::kMalformedDescriptor, std::move(message));
}

// --- JSON reading helpers: every access is checked so that bad input is an error, not a throw --

class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  Status Object(const json& j) const {
    if (!j.is_object()) return Malformed(where_ + ": expected an object");
    return Status::Ok();
  }
  Status String(const json& j, const char* key, std::string* out, bool required = true) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) return Malformed(where_ + ": missing \"" + key + "\"");
      return Status::Ok();
    }
    if (!it->is_string()) return Malformed(where_ + ": \"" + key + "\" must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status OptString(const json& j, const char* key, std::optional<std::string>* out) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      out->reset();
      return Status::Ok();
    }
    if (!it->is_string()) return Malformed(where_ + ": \"" + key + "\" must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status Bool(const json& j, const char* key, bool* out) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_boolean()) return Malformed(where_ + ": \"" + key + "\" must be true or false");
    *out = it->get<bool>();
    return Status::Ok();
  }
  Status Strings(const json& j, const char* key, std::vector<std::string>* out,
                 bool required = false) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) return Malformed(where_ + ": missing \"" + key + "\"");
      return Status::Ok();
    }
    return StringArray(*it, key, out);
  }
  Status StringArray(const json& arr, const char* key, std::vector<std::string>* out) const {
    if (!arr.is_array()) return Malformed(where_ + ": \"" + key + "\" must be an array of strings");
    out->clear();
    for (const auto& e : arr) {
      if (!e.is_string()) {
        return Malformed(where_ + ": \"" + key + "\" must be an array of strings");
      }
      out->push_back(e.get<std::string>());
    }
    return Status::Ok();
  }
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// --- Serialisation ---------------------------------------------------------------------------

json ScopeToJson(const Scope& s) {
  switch (s.kind) {
    case ScopeKind::kGlobal: return "global";
    case ScopeKind::kAll: return "all";
    case ScopeKind::kReferencedBy: return json{{"referenced_by", s.ref_table + "." + s.ref_column}};
    default: return json{{std::string(ScopeKindName(s.kind)), s.column}};
  }
}

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
  return j;
}

json TableToJson(const Table& t) {
  json j;
  j["name"] = t.name;
  json cols = json::array();
  for (const auto& c : t.columns) {
    json jc;
    jc["name"] = c.name;
    jc["type"] = TypeKindName(c.type.kind);
    jc["pg_type"] = c.type.pg_type;
    if (c.type.kind == TypeKind::kArray) jc["element"] = TypeKindName(c.type.element);
    if (!c.type.enum_values.empty()) jc["enum"] = c.type.enum_values;
    jc["nullable"] = c.nullable;
    if (c.default_expr) jc["default"] = *c.default_expr;
    if (c.serial) jc["serial"] = true;
    if (c.generated) jc["generated"] = true;
    cols.push_back(std::move(jc));
  }
  j["columns"] = std::move(cols);
  j["primary_key"] = t.primary_key;
  json checks = json::array();
  for (const auto& c : t.checks) checks.push_back({{"name", c.name}, {"expression", c.expression}});
  j["checks"] = std::move(checks);
  json uniques = json::array();
  for (const auto& u : t.uniques) uniques.push_back({{"name", u.name}, {"columns", u.columns}});
  j["uniques"] = std::move(uniques);
  json fks = json::array();
  for (const auto& f : t.foreign_keys) {
    json jf{{"name", f.name},
            {"columns", f.columns},
            {"ref_table", f.ref_table},
            {"ref_columns", f.ref_columns},
            {"on_delete", FkActionName(f.on_delete)},
            {"on_update", FkActionName(f.on_update)}};
    if (f.deferrable) jf["deferrable"] = true;
    if (f.initially_deferred) jf["initially_deferred"] = true;
    fks.push_back(std::move(jf));
  }
  j["foreign_keys"] = std::move(fks);
  json idx = json::array();
  for (const auto& i : t.indexes) {
    json ji{{"name", i.name}, {"unique", i.unique}, {"method", i.method}};
    json keys = json::array();
    for (size_t k = 0; k < i.keys.size(); ++k) {
      json key;
      if (i.key_is_expression[k]) {
        key["expression"] = i.keys[k];
      } else {
        key["column"] = i.keys[k];
      }
      if (i.descending[k]) key["desc"] = true;
      keys.push_back(std::move(key));
    }
    ji["keys"] = std::move(keys);
    if (i.where) ji["where"] = *i.where;
    idx.push_back(std::move(ji));
  }
  j["indexes"] = std::move(idx);
  j["sync"] = SyncRuleToJson(t.sync);
  return j;
}

json SchemaToJsonValue(const Schema& s) {
  json j;
  j["format"] = 1;
  j["app"] = s.app;
  j["roles"] = s.roles;
  json tables = json::array();
  for (const auto& t : s.tables) tables.push_back(TableToJson(t));
  j["tables"] = std::move(tables);
  return j;
}

// --- Parsing -----------------------------------------------------------------------------------

Result<ConflictPolicy> ParsePolicy(const Reader& r, const json& j) {
  if (!j.is_string()) return Malformed(r.where() + ": conflict policy must be a string");
  auto p = ValueOf(kPolicyNames, j.get<std::string>());
  if (!p) {
    return Malformed(r.where() + ": unknown conflict policy \"" + j.get<std::string>() +
                     "\" (expected lww, server_wins, reject or additive)");
  }
  return *p;
}

Result<SyncRule> ParseSyncRule(const json& j, const std::string& where) {
  Reader r(where);
  OUTPOST_RETURN_IF_ERROR(r.Object(j));
  static const std::set<std::string> kKeys = {"scope", "filter", "exclude", "write", "conflict"};
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
  return rule;
}

Result<Table> ParseTable(const json& j, size_t position) {
  Reader r("tables[" + std::to_string(position) + "]");
  OUTPOST_RETURN_IF_ERROR(r.Object(j));
  Table t;
  OUTPOST_RETURN_IF_ERROR(r.String(j, "name", &t.name));
  Reader tr("table \"" + t.name + "\"");
  auto cols = j.find("columns");
  if (cols == j.end() || !cols->is_array()) return Malformed(tr.where() + ": missing \"columns\"");
  for (const auto& jc : *cols) {
    Reader cr(tr.where() + " column");
    OUTPOST_RETURN_IF_ERROR(cr.Object(jc));
    Column c;
    OUTPOST_RETURN_IF_ERROR(cr.String(jc, "name", &c.name));
    Reader nr(tr.where() + " column \"" + c.name + "\"");
    std::string kind;
    OUTPOST_RETURN_IF_ERROR(nr.String(jc, "type", &kind));
    auto k = ParseTypeKind(kind);
    if (!k.ok()) return k.status().WithContext(nr.where());
    c.type.kind = *k;
    OUTPOST_RETURN_IF_ERROR(nr.String(jc, "pg_type", &c.type.pg_type));
    if (c.type.kind == TypeKind::kArray) {
      std::string element;
      OUTPOST_RETURN_IF_ERROR(nr.String(jc, "element", &element));
      auto e = ParseTypeKind(element);
      if (!e.ok()) return e.status().WithContext(nr.where());
      if (*e == TypeKind::kArray) return Malformed(nr.where() + ": array of array");
      c.type.element = *e;
    }
    OUTPOST_RETURN_IF_ERROR(nr.Strings(jc, "enum", &c.type.enum_values));
    bool needs_enum = c.type.kind == TypeKind::kEnum ||
                      (c.type.kind == TypeKind::kArray && c.type.element == TypeKind::kEnum);
    if (needs_enum && c.type.enum_values.empty()) {
      return Malformed(nr.where() + ": enum type without \"enum\" labels");
    }
    auto nullable = jc.find("nullable");
    if (nullable == jc.end() || !nullable->is_boolean()) {
      return Malformed(nr.where() + ": \"nullable\" must be true or false");
    }
    c.nullable = nullable->get<bool>();
    OUTPOST_RETURN_IF_ERROR(nr.OptString(jc, "default", &c.default_expr));
    OUTPOST_RETURN_IF_ERROR(nr.Bool(jc, "serial", &c.serial));
    OUTPOST_RETURN_IF_ERROR(nr.Bool(jc, "generated", &c.generated));
    t.columns.push_back(std::move(c));
  }
  OUTPOST_RETURN_IF_ERROR(tr.Strings(j, "primary_key", &t.primary_key, true));
  if (auto checks = j.find("checks"); checks != j.end()) {
    if (!checks->is_array()) return Malformed(tr.where() + ": \"checks\" must be an array");
    for (const auto& jc : *checks) {
      OUTPOST_RETURN_IF_ERROR(tr.Object(jc));
      CheckConstraint c;
      OUTPOST_RETURN_IF_ERROR(tr.String(jc, "name", &c.name));
      OUTPOST_RETURN_IF_ERROR(tr.String(jc, "expression", &c.expression));
      t.checks.push_back(std::move(c));
    }
  }
  if (auto uniques = j.find("uniques"); uniques != j.end()) {
    if (!uniques->is_array()) return Malformed(tr.where() + ": \"uniques\" must be an array");
    for (const auto& ju : *uniques) {
      OUTPOST_RETURN_IF_ERROR(tr.Object(ju));
      UniqueConstraint u;
      OUTPOST_RETURN_IF_ERROR(tr.String(ju, "name", &u.name));
      OUTPOST_RETURN_IF_ERROR(tr.Strings(ju, "columns", &u.columns, true));
      t.uniques.push_back(std::move(u));
    }
  }
  if (auto fks = j.find("foreign_keys"); fks != j.end()) {
    if (!fks->is_array()) return Malformed(tr.where() + ": \"foreign_keys\" must be an array");
    for (const auto& jf : *fks) {
      OUTPOST_RETURN_IF_ERROR(tr.Object(jf));
      ForeignKey f;
      OUTPOST_RETURN_IF_ERROR(tr.String(jf, "name", &f.name));
      OUTPOST_RETURN_IF_ERROR(tr.Strings(jf, "columns", &f.columns, true));
      OUTPOST_RETURN_IF_ERROR(tr.String(jf, "ref_table", &f.ref_table));
      OUTPOST_RETURN_IF_ERROR(tr.Strings(jf, "ref_columns", &f.ref_columns, true));
      for (auto [key, out] : {std::pair{"on_delete", &f.on_delete}, {"on_update", &f.on_update}}) {
        std::string action = "no_action";
        OUTPOST_RETURN_IF_ERROR(tr.String(jf, key, &action, false));
        auto a = ValueOf(kFkActionNames, action);
        if (!a) return Malformed(tr.where() + ": unknown foreign key action \"" + action + "\"");
        *out = *a;
      }
      OUTPOST_RETURN_IF_ERROR(tr.Bool(jf, "deferrable", &f.deferrable));
      OUTPOST_RETURN_IF_ERROR(tr.Bool(jf, "initially_deferred", &f.initially_deferred));
      if (f.columns.size() != f.ref_columns.size() || f.columns.empty()) {
        return Malformed(tr.where() + ": foreign key \"" + f.name +
                         "\" must have as many columns as referenced columns");
      }
      t.foreign_keys.push_back(std::move(f));
    }
  }
  if (auto idx = j.find("indexes"); idx != j.end()) {
    if (!idx->is_array()) return Malformed(tr.where() + ": \"indexes\" must be an array");
    for (const auto& ji : *idx) {
      OUTPOST_RETURN_IF_ERROR(tr.Object(ji));
      Index i;
      OUTPOST_RETURN_IF_ERROR(tr.String(ji, "name", &i.name));
      OUTPOST_RETURN_IF_ERROR(tr.Bool(ji, "unique", &i.unique));
      OUTPOST_RETURN_IF_ERROR(tr.String(ji, "method", &i.method, false));
      auto keys = ji.find("keys");
      if (keys == ji.end() || !keys->is_array() || keys->empty()) {
        return Malformed(tr.where() + ": index \"" + i.name + "\" needs \"keys\"");
      }
      for (const auto& k : *keys) {
        OUTPOST_RETURN_IF_ERROR(tr.Object(k));
        std::string col, expr;
        OUTPOST_RETURN_IF_ERROR(tr.String(k, "column", &col, false));
        OUTPOST_RETURN_IF_ERROR(tr.String(k, "expression", &expr, false));
        if (col.empty() == expr.empty()) {
          return Malformed(tr.where() + ": index \"" + i.name +
                           "\" key needs exactly one of \"column\" and \"expression\"");
        }
        bool desc = false;
        OUTPOST_RETURN_IF_ERROR(tr.Bool(k, "desc", &desc));
        i.keys.push_back(col.empty() ? expr : col);
        i.key_is_expression.push_back(col.empty());
        i.descending.push_back(desc);
      }
      OUTPOST_RETURN_IF_ERROR(tr.OptString(ji, "where", &i.where));
      t.indexes.push_back(std::move(i));
    }
  }
  if (auto sync = j.find("sync"); sync != j.end()) {
    OUTPOST_ASSIGN_OR_RETURN(t.sync, ParseSyncRule(*sync, tr.where() + " sync"));
  }
  return t;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(sizeof digest * 2);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

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
  }
  return Status::Ok();
}

std::string SchemaToJson(const Schema& schema, bool pretty) {
  json j = SchemaToJsonValue(schema);
  j["version"] = SchemaVersion(schema);
  return pretty ? j.dump(2) : j.dump();
}

std::string SchemaVersion(const Schema& schema) {
  return "sha256:" + Sha256Hex(SchemaToJsonValue(schema).dump());
}

Result<Schema> SchemaFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Malformed("descriptor is not valid JSON");
  Reader r("descriptor");
  OUTPOST_RETURN_IF_ERROR(r.Object(j));
  auto format = j.find("format");
  if (format == j.end() || !format->is_number_integer() || format->get<int>() != 1) {
    return Malformed("descriptor: unsupported or missing \"format\" (expected 1)");
  }
  Schema s;
  OUTPOST_RETURN_IF_ERROR(r.String(j, "app", &s.app, false));
  OUTPOST_RETURN_IF_ERROR(r.Strings(j, "roles", &s.roles));
  auto tables = j.find("tables");
  if (tables == j.end() || !tables->is_array()) return Malformed("descriptor: missing \"tables\"");
  for (size_t i = 0; i < tables->size(); ++i) {
    OUTPOST_ASSIGN_OR_RETURN(Table t, ParseTable((*tables)[i], i));
    s.tables.push_back(std::move(t));
  }
  OUTPOST_RETURN_IF_ERROR(ValidateSchema(s));
  std::string version;
  OUTPOST_RETURN_IF_ERROR(r.String(j, "version", &version, false));
  if (!version.empty() && version != SchemaVersion(s)) {
    return Malformed("descriptor: version " + version +
                     " does not match its content (altered or truncated descriptor)");
  }
  return s;
}

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
    for (const auto& role : named) {
      if (std::find(rules.roles.begin(), rules.roles.end(), role) == rules.roles.end()) {
        return Malformed("rules.tables." + name + ": role \"" + role +
                         "\" is not declared in \"roles\"");
      }
    }
  }
  return rules;
}

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

}  // namespace outpost
