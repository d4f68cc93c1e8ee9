// The schema descriptor's JSON form: canonical serialisation, version hash, parsing.
#include <sodium.h>

#include "outpost/schema.h"
#include "schema_internal.h"

namespace outpost {

using namespace schema_internal;

namespace {

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

}  // namespace

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

}  // namespace outpost
