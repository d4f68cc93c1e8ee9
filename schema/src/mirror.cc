// SQLite DDL for the local mirror of a Schema (see mirror.h and docs/types.md).
#include "outpost/mirror.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "outpost/encoding.h"
#include "outpost/value.h"
#include "pg_expr_translate.h"

namespace outpost {

std::string SqlLiteral(const Value& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return std::to_string(std::get<int64_t>(v));
    case 2: {
      auto text = ValueToPgText(ColumnType{TypeKind::kReal, "float8", TypeKind::kText, {}}, v);
      if (!text.ok()) return "NULL";
      if (*text == "Infinity") return "9e999";
      if (*text == "-Infinity") return "-9e999";
      return *text;
    }
    case 3: return QuoteLiteral(std::get<std::string>(v));
    default: {
      const auto& b = std::get<Blob>(v).bytes;
      return "X'" + HexEncode(b.data(), b.size()) + "'";
    }
  }
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const char* StorageClass(TypeKind kind) {
  switch (kind) {
    case TypeKind::kInteger:
    case TypeKind::kBoolean: return "INTEGER";
    case TypeKind::kReal: return "REAL";
    case TypeKind::kBytea: return "BLOB";
    default: return "TEXT";
  }
}

std::string JoinIdents(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += QuoteIdent(names[i]);
  }
  return out;
}

// Strips one layer of redundant outer parentheses: "(x)" -> "x".
std::string_view StripParens(std::string_view s) {
  while (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    int depth = 0;
    bool wraps = true;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '(') ++depth;
      if (s[i] == ')') --depth;
      if (depth == 0 && i + 1 < s.size()) {
        wraps = false;
        break;
      }
    }
    if (!wraps) break;
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

// A PostgreSQL literal default such as 'x'::text, 'ACTIVE'::"Status", 0.00, true, '{}'::text[],
// -1: returns its text, or nullopt when the default is not a plain literal.
std::optional<std::string> LiteralDefault(std::string_view expr) {
  std::string_view s = StripParens(expr);
  // Drop trailing casts ::type (possibly several), which never contain quotes at the end.
  std::string text;
  if (!s.empty() && s.front() == '\'') {
    size_t i = 1;
    while (i < s.size()) {
      if (s[i] == '\'') {
        if (i + 1 < s.size() && s[i + 1] == '\'') {
          text.push_back('\'');
          i += 2;
          continue;
        }
        break;
      }
      text.push_back(s[i++]);
    }
    if (i >= s.size()) return std::nullopt;
    // Only casts may follow: "::text", "::character varying", "::\"Enum\"", "::text[]".
    std::string_view rest = s.substr(i + 1);
    if (!rest.empty() && rest.substr(0, 2) != "::") return std::nullopt;
    if (rest.find_first_of("'|+-*/<>=%") != std::string_view::npos) return std::nullopt;
    return text;
  }
  // Unquoted: a number, true/false, possibly negative, possibly with a cast.
  size_t cast = s.find("::");
  std::string_view head = StripParens(s.substr(0, cast));
  std::string lower = Lower(head);
  if (lower == "true" || lower == "false") return lower;
  if (head.empty()) return std::nullopt;
  size_t i = (head[0] == '-' || head[0] == '+') ? 1 : 0;
  if (i >= head.size()) return std::nullopt;
  for (; i < head.size(); ++i) {
    char c = head[i];
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' &&
        c != '-' && c != '+') {
      return std::nullopt;
    }
  }
  return std::string(head);
}

// The SQLite default for a column of `t`, or an error saying why it cannot be mirrored.
Result<std::string> DefaultFor(const Table& t, const Column& c) {
  const std::string expr = c.default_expr.value_or("");  // identity columns have none
  std::string lower = Lower(expr);
  if (lower.rfind("nextval(", 0) == 0 || c.serial) {
    if (c.type.kind != TypeKind::kInteger) {
      return Status(Code::kUnsupported, "sequence default on a non-integer column");
    }
    return std::string("(outpost_temp_key())");
  }
  if (lower == "gen_random_uuid()" || lower == "uuid_generate_v4()" ||
      lower == "uuid_generate_v7()" || lower == "uuidv7()") {
    return std::string("(outpost_uuid())");
  }
  static const std::set<std::string> kNow = {"now()",
                                             "current_timestamp",
                                             "transaction_timestamp()",
                                             "statement_timestamp()",
                                             "clock_timestamp()",
                                             "localtimestamp",
                                             "current_timestamp(3)",
                                             "current_timestamp(6)",
                                             "localtimestamp(3)",
                                             "localtimestamp(6)",
                                             "('now'::text)::timestamp with time zone",
                                             "('now'::text)::timestamp without time zone"};
  if (kNow.count(lower) || lower == "current_date" || lower == "('now'::text)::date") {
    switch (c.type.kind) {
      case TypeKind::kTimestamptz: return std::string("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
      case TypeKind::kTimestamp: return std::string("(strftime('%Y-%m-%dT%H:%M:%f', 'now'))");
      case TypeKind::kDate: return std::string("(date('now'))");
      default: return Status(Code::kUnsupported, "current time default on a " + c.type.pg_type);
    }
  }
  if (lower == "null" || lower.rfind("null::", 0) == 0) return std::string("NULL");
  auto literal = LiteralDefault(expr);
  if (!literal) {
    auto translated = TranslatePgDefault(expr, t, c);
    if (translated.ok()) return translated;
    return Status(Code::kUnsupported,
                  "default expression " + expr + ": " + translated.status().message());
  }
  auto v = PgTextToValue(c.type, *literal);
  if (!v.ok()) return v.status().WithContext("default " + expr);
  return SqlLiteral(*v);
}

}  // namespace

ColumnDefault DefaultOf(const Column& c) {
  if (c.serial || c.generated) return ColumnDefault{ColumnDefault::kComputed, {}, {}};
  if (!c.default_expr) return ColumnDefault{};
  std::string lower = Lower(*c.default_expr);
  if (lower == "null" || lower.rfind("null::", 0) == 0) return ColumnDefault{};
  auto literal = LiteralDefault(*c.default_expr);
  if (!literal) return ColumnDefault{ColumnDefault::kComputed, {}, {}};
  auto v = PgTextToValue(c.type, *literal);
  if (!v.ok()) return ColumnDefault{ColumnDefault::kComputed, {}, {}};
  std::string sql = SqlLiteral(*v);
  return ColumnDefault{ColumnDefault::kConstant, std::move(*v), std::move(sql)};
}

namespace {

// Column-level CHECKs that keep local values in the one form the type mapping allows.
std::string TypeCheck(const Column& c) {
  std::string q = QuoteIdent(c.name);
  switch (c.type.kind) {
    case TypeKind::kBoolean: return q + " IN (0, 1)";
    case TypeKind::kEnum: {
      std::string out = q + " IN (";
      for (size_t i = 0; i < c.type.enum_values.size(); ++i) {
        if (i) out += ", ";
        out += QuoteLiteral(c.type.enum_values[i]);
      }
      return out + ")";
    }
    case TypeKind::kUuid:
      return "length(" + q + ") = 36 AND " + q +
             " GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-"
             "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-"
             "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
             "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'";
    case TypeKind::kJson: return "json_valid(" + q + ")";
    case TypeKind::kArray: return "json_type(" + q + ") = 'array'";
    default: return {};
  }
}

// True when `cols` of `table` are its primary key or covered exactly by a mirrored unique
// constraint/index, which SQLite requires of a foreign key's parent key.
bool IsParentKey(const Table& table, const std::vector<std::string>& cols,
                 const std::set<std::string>& mirrored_unique_indexes) {
  auto same = [&](const std::vector<std::string>& other) {
    if (other.size() != cols.size()) return false;
    return std::is_permutation(other.begin(), other.end(), cols.begin());
  };
  if (same(table.primary_key)) return true;
  for (const auto& u : table.uniques) {
    if (same(u.columns)) return true;
  }
  for (const auto& i : table.indexes) {
    bool plain = !i.where && std::none_of(i.key_is_expression.begin(), i.key_is_expression.end(),
                                          [](bool e) { return e; });
    if (i.unique && plain && mirrored_unique_indexes.count(i.name) && same(i.keys)) return true;
  }
  return false;
}

const char* ActionSql(FkAction a) {
  switch (a) {
    case FkAction::kRestrict: return "RESTRICT";
    case FkAction::kCascade: return "CASCADE";
    case FkAction::kSetNull: return "SET NULL";
    case FkAction::kSetDefault: return "SET DEFAULT";
    default: return "NO ACTION";
  }
}

}  // namespace

std::string KeyIndexName(const Table& table) {
  return "_outpost_key_" + table.name;
}

namespace {

// Collects what cannot be mirrored, by name.
class Gaps {
 public:
  explicit Gaps(std::vector<NotMirrored>* out) : out_(out) {}
  void Report(const Table& t, const std::string& object, const std::string& reason) {
    out_->push_back({t.name, object, reason});
  }

 private:
  std::vector<NotMirrored>* out_;
};

// The CREATE INDEX of a b-tree secondary index, or why its expressions cannot be translated.
Result<std::string> IndexSql(const Table& t, const Index& i) {
  std::string keys;
  for (size_t k = 0; k < i.keys.size(); ++k) {
    if (k) keys += ", ";
    if (i.key_is_expression[k]) {
      OUTPOST_ASSIGN_OR_RETURN(std::string e, TranslatePgExpression(i.keys[k], t));
      keys += "(" + e + ")";
    } else {
      keys += QuoteIdent(i.keys[k]);
    }
    if (i.descending[k]) keys += " DESC";
  }
  std::string where;
  if (i.where) {
    OUTPOST_ASSIGN_OR_RETURN(std::string w, TranslatePgExpression(*i.where, t));
    where = " WHERE " + w;
  }
  return std::string("CREATE ") + (i.unique ? "UNIQUE " : "") + "INDEX " + QuoteIdent(i.name) +
         " ON " + QuoteIdent(t.name) + " (" + keys + ")" + where;
}

// Every index of `t`: its key (KeyIndexName), its UNIQUE constraints, its secondary indexes.
// The unique indexes mirrored are added to `mirrored_unique_indexes`.
std::vector<std::string> TableIndexes(const Table& t, Gaps* gaps,
                                      std::set<std::string>* mirrored_unique_indexes) {
  std::vector<std::string> sqls;
  sqls.push_back("CREATE UNIQUE INDEX " + QuoteIdent(KeyIndexName(t)) + " ON " +
                 QuoteIdent(t.name) + " (" + JoinIdents(t.primary_key) + ")");
  for (const auto& u : t.uniques) {
    sqls.push_back("CREATE UNIQUE INDEX " + QuoteIdent(u.name) + " ON " + QuoteIdent(t.name) +
                   " (" + JoinIdents(u.columns) + ")");
  }
  for (const auto& i : t.indexes) {
    if (Lower(i.method) != "btree") {
      gaps->Report(t, i.name,
                   i.method +
                       " index: SQLite has only b-tree indexes (a performance index; no "
                       "rule is lost)");
      continue;
    }
    auto sql = IndexSql(t, i);
    if (!sql.ok()) {
      gaps->Report(
          t, i.name,
          std::string(i.unique ? "unique index" : "index") + ": " + sql.status().message());
      continue;
    }
    sqls.push_back(std::move(*sql));
    if (i.unique) mirrored_unique_indexes->insert(i.name);
  }
  return sqls;
}

// A column's definition: storage class, collation, NOT NULL, default and the CHECK of its type.
std::string ColumnSql(const Table& t, const Column& c, Gaps* gaps) {
  // A server-assigned integer key is declared INT, not INTEGER: an INTEGER PRIMARY KEY would
  // alias the rowid, which ignores the column default and hands out positive keys that belong
  // to the server (docs/local-store.md, "Keys").
  const bool serial_key = t.IsServerKeyColumn(c.name);
  std::string line = QuoteIdent(c.name) + " " + (serial_key ? "INT" : StorageClass(c.type.kind));
  if (c.type.kind == TypeKind::kCitext) line += " COLLATE NOCASE";
  if (!c.nullable) line += " NOT NULL";
  if (c.default_expr || (c.serial && c.type.kind == TypeKind::kInteger)) {
    auto d = DefaultFor(t, c);
    if (d.ok()) {
      line += " DEFAULT " + *d;
    } else {
      gaps->Report(t, c.name,
                   "default: " + d.status().message() +
                       (c.nullable ? "" : " (inserts must give the column a value)"));
    }
  }
  if (c.generated) {
    gaps->Report(t, c.name, "generated column: the server computes it; locally a plain column");
  }
  if (c.type.kind == TypeKind::kOtherText) {
    gaps->Report(t, c.name,
                 c.type.pg_type + " is stored as PostgreSQL text; only the server validates it");
  }
  std::string check = TypeCheck(c);
  if (!check.empty()) line += " CHECK (" + check + ")";
  return line;
}

// A foreign key's constraint clause, or nullopt (reported) when it cannot be mirrored.
std::optional<std::string> ForeignKeySql(const Schema& schema, const Table& t, const ForeignKey& fk,
                                         const std::set<std::string>& mirrored_unique_indexes,
                                         Gaps* gaps) {
  const Table* parent = schema.FindTable(fk.ref_table);
  if (!parent) {
    gaps->Report(t, fk.name,
                 "foreign key to \"" + fk.ref_table +
                     "\", which is not synced (the server still enforces it)");
    return std::nullopt;
  }
  bool cols_ok = std::all_of(fk.ref_columns.begin(), fk.ref_columns.end(),
                             [&](const std::string& c) { return parent->FindColumn(c); });
  if (!cols_ok || !IsParentKey(*parent, fk.ref_columns, mirrored_unique_indexes)) {
    gaps->Report(t, fk.name,
                 "foreign key: the referenced columns of \"" + fk.ref_table +
                     "\" are not a mirrored primary key or unique constraint");
    return std::nullopt;
  }
  std::string line = "CONSTRAINT " + QuoteIdent(fk.name) + " FOREIGN KEY (" +
                     JoinIdents(fk.columns) + ") REFERENCES " + QuoteIdent(fk.ref_table) + " (" +
                     JoinIdents(fk.ref_columns) + ") ON DELETE " + ActionSql(fk.on_delete) +
                     " ON UPDATE " + ActionSql(fk.on_update);
  if (fk.deferrable) {
    line += fk.initially_deferred ? " DEFERRABLE INITIALLY DEFERRED"
                                  : " DEFERRABLE INITIALLY IMMEDIATE";
  }
  return line;
}

// The CREATE TABLE of `t`: columns, translated CHECKs, mirrorable foreign keys.
std::string CreateTableSql(const Schema& schema, const Table& t,
                           const std::set<std::string>& mirrored_unique_indexes, Gaps* gaps) {
  std::vector<std::string> lines;
  for (const auto& c : t.columns) lines.push_back(ColumnSql(t, c, gaps));
  for (const auto& ck : t.checks) {
    auto e = TranslatePgExpression(ck.expression, t);
    if (!e.ok()) {
      gaps->Report(t, ck.name,
                   "check: " + e.status().message() + " (the server still enforces it)");
      continue;
    }
    lines.push_back("CONSTRAINT " + QuoteIdent(ck.name) + " CHECK (" + *e + ")");
  }
  for (const auto& fk : t.foreign_keys) {
    if (auto line = ForeignKeySql(schema, t, fk, mirrored_unique_indexes, gaps)) {
      lines.push_back(std::move(*line));
    }
  }
  std::string sql = "CREATE TABLE " + QuoteIdent(t.name) + " (\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    sql += "  " + lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  }
  return sql + ") STRICT";
}

}  // namespace

MirrorDdl GenerateMirrorDdl(const Schema& schema) {
  MirrorDdl out;
  Gaps gaps(&out.not_mirrored);
  // Indexes first, so that foreign keys can check their parent keys against what is mirrored.
  std::map<std::string, std::vector<std::string>> index_sql;
  std::set<std::string> mirrored_unique_indexes;
  for (const auto& t : schema.tables) {
    index_sql[t.name] = TableIndexes(t, &gaps, &mirrored_unique_indexes);
  }
  for (const auto& t : schema.tables) {
    TableDdl ddl;
    ddl.table = t.name;
    ddl.create_table = CreateTableSql(schema, t, mirrored_unique_indexes, &gaps);
    ddl.create_indexes = std::move(index_sql[t.name]);
    out.tables.push_back(std::move(ddl));
  }
  return out;
}

}  // namespace outpost
