// Reads the PostgreSQL catalog into a Schema. See catalog.h.
#include "catalog.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "outpost/value.h"

namespace outpost::server {
namespace {

struct PgType {
  std::string name;      // typname
  char typtype = 'b';    // b base, e enum, d domain, c composite, r range, p pseudo
  char category = 'U';   // typcategory ('A' for arrays)
  std::string elem_oid;  // arrays
  std::string base_oid;  // domains
};

std::vector<int> ParseIntList(std::string_view text) {
  // int2vector ("1 2") or int2[] ("{1,2}")
  std::vector<int> out;
  std::string cur;
  for (char c : text) {
    if (c == '-' || (c >= '0' && c <= '9')) {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(std::stoi(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::stoi(cur));
  return out;
}

FkAction ActionFromCode(std::string_view c) {
  if (c == "r") return FkAction::kRestrict;
  if (c == "c") return FkAction::kCascade;
  if (c == "n") return FkAction::kSetNull;
  if (c == "d") return FkAction::kSetDefault;
  return FkAction::kNoAction;
}

class TypeResolver {
 public:
  explicit TypeResolver(PgConnection* pg) : pg_(pg) {}

  Result<ColumnType> Resolve(const std::string& oid, const std::string& formatted) {
    ColumnType ct;
    ct.pg_type = formatted;
    OUTPOST_ASSIGN_OR_RETURN(PgType t, Lookup(oid));
    // Domains are mirrored as their base type; their own CHECKs stay on the server.
    int depth = 0;
    while (t.typtype == 'd' && depth++ < 16) {
      domains_.insert(t.name);
      OUTPOST_ASSIGN_OR_RETURN(t, Lookup(t.base_oid));
    }
    if (t.category == 'A' && !t.elem_oid.empty() && t.elem_oid != "0") {
      ct.kind = TypeKind::kArray;
      OUTPOST_ASSIGN_OR_RETURN(PgType e, Lookup(t.elem_oid));
      while (e.typtype == 'd' && depth++ < 16) {
        OUTPOST_ASSIGN_OR_RETURN(e, Lookup(e.base_oid));
      }
      ct.element = KindOf(e);
      if (ct.element == TypeKind::kEnum) {
        OUTPOST_ASSIGN_OR_RETURN(ct.enum_values, EnumLabels(t.elem_oid));
      }
      return ct;
    }
    ct.kind = KindOf(t);
    if (ct.kind == TypeKind::kEnum) {
      OUTPOST_ASSIGN_OR_RETURN(ct.enum_values, EnumLabels(oid_of_[t.name]));
    }
    return ct;
  }

  const std::set<std::string>& domains() const { return domains_; }

 private:
  static TypeKind KindOf(const PgType& t) {
    if (t.typtype == 'e') return TypeKind::kEnum;
    static const std::map<std::string, TypeKind> kBase = {
        {"uuid", TypeKind::kUuid},           {"text", TypeKind::kText},
        {"varchar", TypeKind::kText},        {"bpchar", TypeKind::kText},
        {"name", TypeKind::kText},           {"citext", TypeKind::kCitext},
        {"int2", TypeKind::kInteger},        {"int4", TypeKind::kInteger},
        {"int8", TypeKind::kInteger},        {"numeric", TypeKind::kNumeric},
        {"float4", TypeKind::kReal},         {"float8", TypeKind::kReal},
        {"bool", TypeKind::kBoolean},        {"date", TypeKind::kDate},
        {"timestamp", TypeKind::kTimestamp}, {"timestamptz", TypeKind::kTimestamptz},
        {"json", TypeKind::kJson},           {"jsonb", TypeKind::kJson},
        {"inet", TypeKind::kInet},           {"cidr", TypeKind::kInet},
        {"bytea", TypeKind::kBytea},
    };
    auto it = kBase.find(t.name);
    return it == kBase.end() ? TypeKind::kOtherText : it->second;
  }

  Result<PgType> Lookup(const std::string& oid) {
    auto it = cache_.find(oid);
    if (it != cache_.end()) return it->second;
    OUTPOST_ASSIGN_OR_RETURN(PgResult r,
                             pg_->Exec("SELECT typname, typtype, typcategory, typelem::text,"
                                       " typbasetype::text FROM pg_type WHERE oid = $1::oid",
                                       {oid}));
    if (r.rows() != 1) return Status(Code::kPostgres, "type oid " + oid + " not in pg_type");
    PgType t;
    t.name = std::string(r.get(0, 0));
    t.typtype = r.get(0, 1)[0];
    t.category = r.get(0, 2)[0];
    t.elem_oid = std::string(r.get(0, 3));
    t.base_oid = std::string(r.get(0, 4));
    cache_[oid] = t;
    oid_of_[t.name] = oid;
    return t;
  }

  Result<std::vector<std::string>> EnumLabels(const std::string& oid) {
    OUTPOST_ASSIGN_OR_RETURN(PgResult r,
                             pg_->Exec("SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid"
                                       " ORDER BY enumsortorder",
                                       {oid}));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.get(i, 0));
    return out;
  }

  PgConnection* pg_;
  std::map<std::string, PgType> cache_;
  std::map<std::string, std::string> oid_of_;
  std::set<std::string> domains_;
};

// Orders tables so that referenced tables come before the tables referencing them (cycles and
// self-references keep catalog order).
std::vector<Table> DependencyOrder(std::vector<Table> tables) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < tables.size(); ++i) index[tables[i].name] = i;
  std::vector<int> state(tables.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<Table> out;
  std::function<void(size_t)> visit = [&](size_t i) {
    if (state[i]) return;
    state[i] = 1;
    for (const auto& fk : tables[i].foreign_keys) {
      auto it = index.find(fk.ref_table);
      if (it != index.end() && it->second != i && state[it->second] == 0) visit(it->second);
    }
    state[i] = 2;
    out.push_back(tables[i]);
  };
  for (size_t i = 0; i < tables.size(); ++i) visit(i);
  return out;
}

// Describes the tables of one PostgreSQL schema, step by step: which tables, their columns,
// their constraints, their indexes; then the tables with a key, in dependency order.
class CatalogReader {
 public:
  CatalogReader(PgConnection* pg, std::vector<std::string>* notes)
      : pg_(pg), types_(pg), notes_(notes) {}

  Result<Schema> Describe(const std::string& pg_schema) {
    OUTPOST_RETURN_IF_ERROR(ReadTables(pg_schema));
    OUTPOST_RETURN_IF_ERROR(ReadColumns());
    OUTPOST_RETURN_IF_ERROR(ReadConstraints());
    OUTPOST_RETURN_IF_ERROR(ReadIndexes());
    return Assemble();
  }

 private:
  void Note(std::string note) {
    if (notes_) notes_->push_back(std::move(note));
  }

  // Ordinary and partitioned tables (not partitions), by name.
  Status ReadTables(const std::string& pg_schema) {
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult tables,
        pg_->Exec("SELECT c.oid::text, c.relname FROM pg_class c"
                  " JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                  " ORDER BY c.relname",
                  {pg_schema}));
    if (tables.rows() == 0) {
      return Status(Code::kNotFound, "schema \"" + pg_schema + "\" has no tables");
    }
    oid_array_.assign(1, '{');
    for (int i = 0; i < tables.rows(); ++i) {
      std::string oid(tables.get(i, 0));
      by_oid_[oid].name = std::string(tables.get(i, 1));
      order_.push_back(oid);
      if (i) oid_array_.push_back(',');
      oid_array_ += oid;
    }
    oid_array_.push_back('}');
    return Status::Ok();
  }

  // Columns with their type mapping, nullability, defaults, identity/serial and generated flags.
  Status ReadColumns() {
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult cols,
        pg_->Exec(
            "SELECT a.attrelid::text, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),"
            " a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,"
            " a.atttypid::text"
            " FROM pg_attribute a"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attrelid, a.attnum",
            {oid_array_}));
    for (int i = 0; i < cols.rows(); ++i) {
      std::string rel(cols.get(i, 0));
      Table& t = by_oid_[rel];
      Column c;
      c.name = std::string(cols.get(i, 2));
      attnames_[rel][std::stoi(std::string(cols.get(i, 1)))] = c.name;
      auto type = types_.Resolve(std::string(cols.get(i, 8)), std::string(cols.get(i, 3)));
      if (!type.ok()) return type.status().WithContext(t.name + "." + c.name);
      c.type = std::move(type).value();
      c.nullable = cols.get(i, 4) != "t";
      c.default_expr = cols.get_opt(i, 5);
      std::string_view identity = cols.get(i, 6);
      std::string_view generated = cols.get(i, 7);
      c.serial = !identity.empty() || (c.default_expr && c.default_expr->rfind("nextval(", 0) == 0);
      if (!generated.empty()) {
        c.generated = true;
        c.default_expr.reset();
      }
      if (c.type.kind == TypeKind::kOtherText) {
        Note(t.name + "." + c.name + ": " + c.type.pg_type +
             " has no dedicated mapping; mirrored as PostgreSQL text");
      }
      t.columns.push_back(std::move(c));
    }
    for (const auto& d : types_.domains()) {
      Note("domain " + d + ": mirrored as its base type; its CHECKs stay on the server");
    }
    return Status::Ok();
  }

  // The names of attributes `nums` of relation `rel`, which may be outside the described set
  // (a foreign key's target): looked up on demand.
  Status AttributeNames(const std::string& rel, const std::vector<int>& nums,
                        std::vector<std::string>* out) {
    if (!attnames_.count(rel)) {
      OUTPOST_ASSIGN_OR_RETURN(
          PgResult r, pg_->Exec("SELECT attnum, attname FROM pg_attribute WHERE attrelid = $1::oid"
                                " AND attnum > 0",
                                {rel}));
      for (int i = 0; i < r.rows(); ++i) {
        attnames_[rel][std::stoi(std::string(r.get(i, 0)))] = std::string(r.get(i, 1));
      }
    }
    for (int n : nums) out->push_back(attnames_[rel][n]);
    return Status::Ok();
  }

  // Primary keys, UNIQUE, CHECK and foreign key constraints.
  Status ReadConstraints() {
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult cons,
        pg_->Exec("SELECT con.conrelid::text, con.conname, con.contype, con.conkey::text,"
                  " fr.relname, con.confkey::text, con.confdeltype, con.confupdtype,"
                  " con.condeferrable, con.condeferred, pg_get_expr(con.conbin, con.conrelid),"
                  " fr.oid::text"
                  " FROM pg_constraint con LEFT JOIN pg_class fr ON fr.oid = con.confrelid"
                  " WHERE con.conrelid = ANY($1::oid[]) ORDER BY con.conrelid, con.conname",
                  {oid_array_}));
    for (int i = 0; i < cons.rows(); ++i) {
      std::string rel(cons.get(i, 0));
      Table& t = by_oid_[rel];
      std::string name(cons.get(i, 1));
      std::vector<std::string> columns;
      if (!cons.is_null(i, 3)) {
        OUTPOST_RETURN_IF_ERROR(AttributeNames(rel, ParseIntList(cons.get(i, 3)), &columns));
      }
      switch (cons.get(i, 2)[0]) {
        case 'p': t.primary_key = columns; break;
        case 'u': t.uniques.push_back({name, columns}); break;
        case 'c': t.checks.push_back({name, std::string(cons.get(i, 10))}); break;
        case 'f': {
          ForeignKey fk;
          fk.name = name;
          fk.columns = columns;
          fk.ref_table = std::string(cons.get(i, 4));
          OUTPOST_RETURN_IF_ERROR(AttributeNames(std::string(cons.get(i, 11)),
                                                 ParseIntList(cons.get(i, 5)), &fk.ref_columns));
          fk.on_delete = ActionFromCode(cons.get(i, 6));
          fk.on_update = ActionFromCode(cons.get(i, 7));
          fk.deferrable = cons.get(i, 8) == "t";
          fk.initially_deferred = cons.get(i, 9) == "t";
          t.foreign_keys.push_back(std::move(fk));
          break;
        }
        case 'x': Note(t.name + "." + name + ": exclusion constraint stays on the server"); break;
        default: break;  // constraint triggers and NOT NULL (pg16+) need nothing here
      }
    }
    return Status::Ok();
  }

  // Secondary indexes (those of constraints are the constraints): keys (columns or expressions),
  // order, partial predicates, access method.
  Status ReadIndexes() {
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult idx,
        pg_->Exec("SELECT i.indrelid::text, ic.relname, i.indisunique, am.amname, i.indkey::text,"
                  " i.indoption::text, pg_get_expr(i.indpred, i.indrelid),"
                  " ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)"
                  "       FROM generate_series(1, i.indnkeyatts) k)::text"
                  " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
                  " JOIN pg_am am ON am.oid = ic.relam"
                  " WHERE i.indrelid = ANY($1::oid[]) AND i.indisvalid AND NOT i.indisprimary"
                  " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
                  "                 AND c.contype IN ('p', 'u', 'x'))"
                  " ORDER BY i.indrelid, ic.relname",
                  {oid_array_}));
    const ColumnType text_array{TypeKind::kArray, "text[]", TypeKind::kText, {}};
    for (int i = 0; i < idx.rows(); ++i) {
      std::string rel(idx.get(i, 0));
      Index index;
      index.name = std::string(idx.get(i, 1));
      index.unique = idx.get(i, 2) == "t";
      index.method = std::string(idx.get(i, 3));
      std::vector<int> keys = ParseIntList(idx.get(i, 4));
      std::vector<int> options = ParseIntList(idx.get(i, 5));
      OUTPOST_ASSIGN_OR_RETURN(std::string defs_json, PgArrayToJson(text_array, idx.get(i, 7)));
      auto defs = nlohmann::json::parse(defs_json);
      size_t nkeys = std::min(keys.size(), defs.size());
      for (size_t k = 0; k < nkeys; ++k) {
        bool expr = keys[k] == 0;
        index.keys.push_back(expr ? defs[k].get<std::string>() : attnames_[rel][keys[k]]);
        index.key_is_expression.push_back(expr);
        index.descending.push_back(k < options.size() && (options[k] & 1));
      }
      index.where = idx.get_opt(i, 6);
      by_oid_[rel].indexes.push_back(std::move(index));
    }
    return Status::Ok();
  }

  // The tables that have a primary key (the others cannot sync), parents first.
  Result<Schema> Assemble() {
    std::vector<Table> list;
    for (const auto& oid : order_) {
      Table& t = by_oid_[oid];
      if (t.primary_key.empty()) {
        Note(t.name + ": no primary key, cannot be synced (left out)");
        continue;
      }
      list.push_back(std::move(t));
    }
    Schema schema;
    schema.tables = DependencyOrder(std::move(list));
    OUTPOST_RETURN_IF_ERROR(ValidateSchema(schema));
    return schema;
  }

  PgConnection* pg_;
  TypeResolver types_;
  std::vector<std::string>* notes_;
  std::map<std::string, Table> by_oid_;
  std::map<std::string, std::map<int, std::string>> attnames_;  // table oid -> attnum -> name
  std::vector<std::string> order_;                              // table oids, by name
  std::string oid_array_;  // the described tables' oids as an oid[] literal
};

}  // namespace

Result<Schema> DescribeDatabase(PgConnection* pg, const std::string& pg_schema,
                                std::vector<std::string>* notes) {
  return CatalogReader(pg, notes).Describe(pg_schema);
}

}  // namespace outpost::server
