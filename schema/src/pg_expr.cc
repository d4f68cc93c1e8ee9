// Translation of PostgreSQL expressions (CHECK constraints, index predicates and keys, column
// defaults) into SQLite over the local columns (docs/types.md, "CHECK constraints, index
// predicates and defaults"). The expression is parsed (pg_expr_parse.h) and every value is
// translated with its type, so that each comparison, cast and function keeps PostgreSQL's meaning
// on the local forms: numeric compares as a number, dates and times through their keys, char(n)
// without its padding, enums by label and by declaration order, citext without case. What has no
// exact local equivalent is refused (kUnsupported) with the construct named, and the mirror
// reports it instead of enforcing something else.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "outpost/pg_eval.h"
#include "outpost/value.h"
#include "pg_expr_translate.h"

namespace outpost {
namespace pg_expr {

Status Unsupported(std::string what) {
  return Status(Code::kUnsupported, std::move(what));
}
bool IsTextKind(TypeKind k) {
  return k == TypeKind::kText || k == TypeKind::kCitext;
}
bool IsNumberKind(TypeKind k) {
  return k == TypeKind::kInteger || k == TypeKind::kNumeric || k == TypeKind::kReal;
}
bool IsTimeKind(TypeKind k) {
  return k == TypeKind::kDate || k == TypeKind::kTimestamp || k == TypeKind::kTimestamptz;
}
std::string KindText(const Expr& e) {
  if (e.is_null) return "NULL";
  if (e.untyped) return "an untyped literal";
  if (!e.type.pg_type.empty()) return e.type.pg_type;
  return std::string(TypeKindName(e.type.kind));
}

namespace {

const char* TimeKindName(TypeKind k) {
  return k == TypeKind::kDate ? "date" : k == TypeKind::kTimestamp ? "timestamp" : "timestamptz";
}

// format_type() prints char(n) as "character(n)", and "bpchar" without a length.
bool IsBpcharName(std::string_view t) {
  return t.rfind("character(", 0) == 0 || t == "character" || t.rfind("bpchar", 0) == 0;
}

// A format_type() name without modifiers, array brackets, schema and quotes: the name a cast
// to the type prints ("order_status" for public.order_status[], Kind for "Kind").
std::string BareTypeName(std::string_view pg_type) {
  std::string s;
  int depth = 0;
  bool quoted = false;
  size_t last_dot = std::string::npos;
  for (char c : pg_type) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '(') ++depth;
    if (!quoted && c == ')') {
      --depth;
      continue;
    }
    if (depth > 0) continue;
    if (!quoted && c == '.') last_dot = s.size();
    s.push_back(c);
  }
  if (last_dot != std::string::npos) s = s.substr(last_dot + 1);
  while (s.size() >= 2 && s.compare(s.size() - 2, 2, "[]") == 0) s.resize(s.size() - 2);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    std::string unq;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      unq.push_back(s[i]);
      if (s[i] == '"') ++i;  // "" -> "
    }
    s = unq;
  }
  return s;
}

bool IsPlainDecimal(std::string_view t) {
  size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
  bool digits = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+') {
      return false;
    }
  }
  return digits;
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

bool IsOrdering(const std::string& op) {
  return op == "<" || op == ">" || op == "<=" || op == ">=";
}

}  // namespace

Expr Translator::Boolean(std::string sql) {
  Expr e;
  e.sql = e.cmp = std::move(sql);
  e.type.kind = TypeKind::kBoolean;
  e.type.pg_type = "boolean";
  return e;
}

std::string Translator::Comparable(const std::string& sql, const Expr& e) {
  switch (e.type.kind) {
    case TypeKind::kNumeric: return "CAST(" + sql + " AS REAL)";
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz:
      return "outpost_pg_time_key(" + sql + ", '" + TimeKindName(e.key_kind) + "')";
    case TypeKind::kArray: return "json(" + sql + ")";
    default: return sql;
  }
}

Result<Expr> Translator::Column(const std::string& name) {
  const outpost::Column* c = table_.FindColumn(name);
  if (!c)
    return Unsupported("reference to column \"" + name + "\", which the client does not have");
  Expr e;
  e.type = c->type;
  e.bare = QuoteIdent(name);
  const bool text = c->type.kind == TypeKind::kText ||
                    (c->type.kind == TypeKind::kArray && c->type.element == TypeKind::kText);
  e.bpchar = text && IsBpcharName(c->type.pg_type);
  // char(n) compares, concatenates and measures without its trailing spaces.
  e.sql = e.bpchar && c->type.kind == TypeKind::kText ? "rtrim(" + e.bare + ", ' ')" : e.bare;
  e.key_kind = c->type.kind;
  e.cmp = Comparable(e.sql, e);
  return e;
}

Result<Expr> Translator::Constant(const ColumnType& type, bool bpchar, const std::string& pg_text) {
  auto v = PgTextToValue(type, pg_text);
  if (!v.ok()) {
    Expr t;
    t.type = type;
    return Unsupported("'" + pg_text + "' as " + KindText(t) + ": " + v.status().message());
  }
  return ConstantOf(type, bpchar, std::move(v).value(), pg_text);
}

Result<Expr> Translator::ConstantOf(const ColumnType& type, bool bpchar, Value value,
                                    std::string pg_text) {
  Expr e;
  e.type = type;
  e.bpchar = bpchar;
  e.key_kind = type.kind;
  if (auto* s = std::get_if<std::string>(&value); s && bpchar && type.kind == TypeKind::kText) {
    while (!s->empty() && s->back() == ' ') s->pop_back();
  }
  e.sql = SqlLiteral(value);
  if (!e.sql.empty() && e.sql[0] == '-') e.sql = "(" + e.sql + ")";
  if (type.kind == TypeKind::kNumeric) {
    if (!IsPlainDecimal(pg_text)) {
      return Unsupported("numeric " + pg_text +
                         " (NaN and infinities compare differently locally)");
    }
    std::string n = pg_text.find_first_of(".eE") == std::string::npos ? pg_text + ".0" : pg_text;
    e.cmp = n[0] == '-' ? "(" + n + ")" : n;
  } else {
    e.cmp = Comparable(e.sql, e);
  }
  e.pg_text = std::move(pg_text);
  return e;
}

Result<Expr> Translator::Retype(const Expr& u, const Expr& like) {
  if (u.is_null) {
    Expr e = like;
    e.sql = e.cmp = "NULL";
    e.is_null = true;
    e.untyped = false;
    e.pg_text.reset();
    e.bare.clear();
    return e;
  }
  return Constant(like.type, like.bpchar, *u.pg_text);
}

Status Translator::Unify(Expr* a, Expr* b) {
  if (a->untyped && !b->untyped) {
    OUTPOST_ASSIGN_OR_RETURN(*a, Retype(*a, *b));
  } else if (b->untyped && !a->untyped) {
    OUTPOST_ASSIGN_OR_RETURN(*b, Retype(*b, *a));
  } else if (a->untyped && b->untyped) {
    a->untyped = b->untyped = false;  // two literals compare as text
  }
  return Status::Ok();
}

Status Translator::CheckComparable(const Expr& a, const Expr& b, const std::string& op) {
  if (a.is_null || b.is_null) return Status::Ok();
  const TypeKind x = a.type.kind, y = b.type.kind;
  const bool ordering = IsOrdering(op);
  auto fail = [&](const std::string& why) {
    return Unsupported("comparison " + KindText(a) + " " + op + " " + KindText(b) + why);
  };
  if (IsNumberKind(x) && IsNumberKind(y)) return Status::Ok();
  if (IsTextKind(x) && IsTextKind(y)) {
    if (ordering && !a.binary_order && !b.binary_order) {
      return fail(" (text orders by the database's collation)");
    }
    return Status::Ok();
  }
  if (IsTimeKind(x) && IsTimeKind(y)) {
    if ((x == TypeKind::kTimestamptz) != (y == TypeKind::kTimestamptz)) {
      return fail(" (depends on the session's time zone)");
    }
    return Status::Ok();
  }
  if (x != y) return fail("");
  switch (x) {
    case TypeKind::kBoolean:
    case TypeKind::kUuid:
    case TypeKind::kBytea: return Status::Ok();
    case TypeKind::kEnum:
      if (a.type.enum_values != b.type.enum_values) return fail(" (different enums)");
      return Status::Ok();
    case TypeKind::kArray:
      if (ordering) return fail(" (arrays compare only for equality locally)");
      if (a.type.element != b.type.element) return fail("");
      return Status::Ok();
    default: return fail(" (only the server compares " + KindText(a) + " values)");
  }
}

Result<Expr> Translator::ResolveType(const TypeName& type) {
  static const std::map<std::string, std::pair<TypeKind, bool>> kBuiltin = {
      {"text", {TypeKind::kText, false}},
      {"character varying", {TypeKind::kText, false}},
      {"varchar", {TypeKind::kText, false}},
      {"name", {TypeKind::kText, false}},
      {"character", {TypeKind::kText, true}},
      {"char", {TypeKind::kText, true}},
      {"bpchar", {TypeKind::kText, true}},
      {"citext", {TypeKind::kCitext, false}},
      {"integer", {TypeKind::kInteger, false}},
      {"int", {TypeKind::kInteger, false}},
      {"int2", {TypeKind::kInteger, false}},
      {"int4", {TypeKind::kInteger, false}},
      {"int8", {TypeKind::kInteger, false}},
      {"smallint", {TypeKind::kInteger, false}},
      {"bigint", {TypeKind::kInteger, false}},
      {"numeric", {TypeKind::kNumeric, false}},
      {"decimal", {TypeKind::kNumeric, false}},
      {"real", {TypeKind::kReal, false}},
      {"float4", {TypeKind::kReal, false}},
      {"double precision", {TypeKind::kReal, false}},
      {"float8", {TypeKind::kReal, false}},
      {"boolean", {TypeKind::kBoolean, false}},
      {"bool", {TypeKind::kBoolean, false}},
      {"date", {TypeKind::kDate, false}},
      {"timestamp", {TypeKind::kTimestamp, false}},
      {"timestamp without time zone", {TypeKind::kTimestamp, false}},
      {"timestamptz", {TypeKind::kTimestamptz, false}},
      {"timestamp with time zone", {TypeKind::kTimestamptz, false}},
      {"json", {TypeKind::kJson, false}},
      {"jsonb", {TypeKind::kJson, false}},
      {"uuid", {TypeKind::kUuid, false}},
      {"inet", {TypeKind::kInet, false}},
      {"cidr", {TypeKind::kInet, false}},
      {"bytea", {TypeKind::kBytea, false}},
  };
  Expr t;
  t.type.pg_type = type.name;
  t.modifiers = type.modifiers;
  auto it = type.quoted ? kBuiltin.end() : kBuiltin.find(type.name);
  if (it != kBuiltin.end()) {
    t.type.kind = it->second.first;
    t.bpchar = it->second.second;
  } else {
    // Enums and domains: the table knows them through the columns that have them.
    const outpost::Column* found = nullptr;
    for (const auto& c : table_.columns) {
      if (BareTypeName(c.type.pg_type) == type.name) found = &c;
    }
    if (!found || found->type.kind == TypeKind::kOtherText ||
        (found->type.kind == TypeKind::kArray && found->type.element == TypeKind::kOtherText)) {
      return Unsupported("cast to " + type.name);
    }
    const bool array_column = found->type.kind == TypeKind::kArray;
    t.type.kind = array_column ? found->type.element : found->type.kind;
    t.type.enum_values = found->type.enum_values;
    t.domain = t.type.kind != TypeKind::kEnum;
  }
  t.key_kind = t.type.kind;
  if (type.array_dims > 0) {
    t.type.element = t.type.kind;
    t.type.kind = TypeKind::kArray;
    t.type.pg_type += "[]";
  }
  return t;
}

Result<Expr> Translator::Cast(Expr a, const Expr& target) {
  const std::string& name = target.type.pg_type;
  if (a.is_null) return Retype(a, target);
  if (a.pg_text) {
    // A constant converts through PostgreSQL's text, as the cast itself does.
    auto c = Constant(target.type, target.bpchar, *a.pg_text);
    if (c.ok()) {
      c->domain = target.domain;
      return c;
    }
    if (a.untyped) return c.status();
  }
  if (target.domain) {
    if (BareTypeName(a.type.pg_type) == name) return a;
    return Unsupported("cast to domain " + name + " (its CHECKs are the server's)");
  }
  const TypeKind s = a.type.kind, t = target.type.kind;
  if (target.modifiers &&
      (t == TypeKind::kText || t == TypeKind::kNumeric || IsTimeKind(t) || t == TypeKind::kArray)) {
    // varchar(n) truncates, numeric(p,s) and timestamp(p) round: not the value unchanged.
    return Unsupported("cast of " + KindText(a) + " to " + name +
                       " with a length or precision (it truncates or rounds)");
  }
  Expr e = a;
  e.type = target.type;
  e.bpchar = target.bpchar;
  e.untyped = false;
  e.pg_text.reset();
  e.bare.clear();
  auto fail = [&](const std::string& why) {
    return Unsupported("cast of " + KindText(a) + " to " + name + why);
  };
  if (IsTextKind(t)) {
    if (target.bpchar && !a.bpchar) return fail(" (padding to the declared length)");
    if (IsTextKind(s) || s == TypeKind::kEnum || s == TypeKind::kUuid) {
      if (s == TypeKind::kCitext && t == TypeKind::kText) e.sql = "(" + a.sql + " COLLATE BINARY)";
      if (t == TypeKind::kCitext && s != TypeKind::kCitext) {
        e.sql = "(" + a.sql + " COLLATE NOCASE)";
      }
      e.cmp = e.sql;
      e.binary_order = a.binary_order && t == TypeKind::kText;
      return e;
    }
    if (s == TypeKind::kInteger) {
      e.sql = e.cmp = "CAST(" + a.sql + " AS TEXT)";
      return e;
    }
    if (s == TypeKind::kBoolean) {
      e.sql = e.cmp = "CASE " + a.sql + " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END";
      return e;
    }
    return fail(" (its local text differs from PostgreSQL's)");
  }
  if (IsNumberKind(t)) {
    if (!IsNumberKind(s)) return fail("");
    if (t == TypeKind::kInteger && s == TypeKind::kReal) {
      return fail(" (PostgreSQL rounds half to even)");
    }
    if (t == TypeKind::kInteger && s == TypeKind::kNumeric) {
      e.sql = e.cmp = "CAST(round(" + a.cmp + ") AS INTEGER)";  // both round half away from 0
    } else if (t != TypeKind::kInteger && s == TypeKind::kInteger) {
      e.sql = e.cmp = "CAST(" + a.cmp + " AS REAL)";
    } else {
      e.sql = s == TypeKind::kNumeric && t == TypeKind::kNumeric ? a.sql : a.cmp;
      e.cmp = a.cmp;
    }
    return e;
  }
  if (IsTimeKind(t)) {
    if (!IsTimeKind(s)) return fail("");
    if ((s == TypeKind::kTimestamptz) != (t == TypeKind::kTimestamptz)) {
      return fail(" (depends on the session's time zone)");
    }
    // The local text stays; a date read as a timestamp is its midnight, a timestamp read as a
    // date drops its time: the key says which.
    e.key_kind = t == TypeKind::kDate ? TypeKind::kDate : a.key_kind;
    e.cmp = Comparable(e.sql, e);
    return e;
  }
  if (t == TypeKind::kEnum) {
    if (s == TypeKind::kEnum && a.type.enum_values == target.type.enum_values) return e;
    if (!IsTextKind(s)) return fail("");
    std::vector<std::string> labels;
    for (const auto& l : target.type.enum_values) labels.push_back(QuoteLiteral(l));
    e.sql = e.cmp = "CASE WHEN " + a.sql + " IS NULL OR " + a.sql + " COLLATE BINARY IN (" +
                    Join(labels, ", ") + ") THEN " + a.sql + " ELSE outpost_pg_error(" +
                    QuoteLiteral("invalid input value for enum " + name) + ", " + a.sql + ") END";
    return e;
  }
  if (t == TypeKind::kArray) {
    const bool same_element =
        a.type.element == target.type.element ||
        (IsTextKind(a.type.element) && IsTextKind(target.type.element) && !target.bpchar);
    if (s != TypeKind::kArray || !same_element || a.type.enum_values != target.type.enum_values) {
      return fail("");
    }
    e.cmp = Comparable(e.sql, e);
    return e;
  }
  if (s == t && (t == TypeKind::kBoolean || t == TypeKind::kUuid || t == TypeKind::kJson ||
                 t == TypeKind::kBytea || t == TypeKind::kInet)) {
    return e;
  }
  return fail("");
}

Result<Expr> Translator::Compare(const std::string& op, Expr a, Expr b) {
  OUTPOST_RETURN_IF_ERROR(Unify(&a, &b));
  OUTPOST_RETURN_IF_ERROR(CheckComparable(a, b, op));
  const std::string o = op == "!=" ? "<>" : op;
  if (IsOrdering(op) && a.type.kind == TypeKind::kEnum) {
    // Enums order by declaration, not by label.
    auto ordinal = [](const Expr& e) {
      const auto& labels = e.type.enum_values;
      if (e.pg_text) {
        auto at = std::find(labels.begin(), labels.end(), *e.pg_text);
        return std::to_string(at - labels.begin());
      }
      std::string out = "CASE " + e.sql;
      for (size_t i = 0; i < labels.size(); ++i) {
        out += " WHEN " + QuoteLiteral(labels[i]) + " THEN " + std::to_string(i);
      }
      return out + " END";
    };
    return Boolean("(" + ordinal(a) + " " + o + " " + ordinal(b) + ")");
  }
  return Boolean("(" + a.cmp + " " + o + " " + b.cmp + ")");
}

Result<Expr> Translator::Arithmetic(const std::string& op, Expr a, Expr b) {
  OUTPOST_RETURN_IF_ERROR(Unify(&a, &b));
  const TypeKind x = a.type.kind, y = b.type.kind;
  if (!IsNumberKind(x) || !IsNumberKind(y)) {
    return Unsupported("arithmetic " + KindText(a) + " " + op + " " + KindText(b));
  }
  Expr e;
  e.type.kind = (x == TypeKind::kReal || y == TypeKind::kReal)         ? TypeKind::kReal
                : (x == TypeKind::kNumeric || y == TypeKind::kNumeric) ? TypeKind::kNumeric
                                                                       : TypeKind::kInteger;
  e.type.pg_type = std::string(TypeKindName(e.type.kind));
  if (op == "%" && e.type.kind != TypeKind::kInteger) {
    return Unsupported("% of " + e.type.pg_type + " values");
  }
  std::string right = b.cmp;
  if (op == "/" || op == "%") {
    // PostgreSQL refuses a division by zero; SQLite would yield NULL, which passes a CHECK.
    if (b.pg_text) {
      if (std::strtod(b.pg_text->c_str(), nullptr) == 0) return Unsupported("division by zero");
    } else {
      right = "CASE WHEN " + b.cmp + " = 0 THEN outpost_pg_error('division by zero', " + b.cmp +
              ") ELSE " + b.cmp + " END";
    }
  }
  e.sql = e.cmp = "(" + a.cmp + " " + op + " " + right + ")";
  return e;
}

Result<Expr> Translator::Concat(Expr a, Expr b) {
  for (Expr* x : {&a, &b}) {
    x->untyped = false;
    const TypeKind k = x->type.kind;
    if (!x->is_null && !IsTextKind(k) && k != TypeKind::kEnum && k != TypeKind::kUuid &&
        k != TypeKind::kInteger) {
      return Unsupported("|| of " + KindText(*x) + " (its local text differs from PostgreSQL's)");
    }
  }
  Expr e;
  e.type.kind = TypeKind::kText;
  e.type.pg_type = "text";
  e.sql = e.cmp = "(" + a.sql + " || " + b.sql + ")";
  return e;
}

Result<Expr> Translator::Binary(const std::string& op, Expr a, Expr b) {
  if (op == "=" || op == "<>" || op == "!=" || IsOrdering(op)) return Compare(op, a, b);
  if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") return Arithmetic(op, a, b);
  if (op == "||") return Concat(a, b);
  if (op == "~" || op == "~*" || op == "!~" || op == "!~*" || op == "~~" || op == "~~*" ||
      op == "!~~" || op == "!~~*") {
    return Match(op, a, b);
  }
  return Unsupported("operator " + op);
}

Result<Expr> Translator::Between(const Node& n) {
  OUTPOST_ASSIGN_OR_RETURN(Expr x, Emit(n.args[0]));
  OUTPOST_ASSIGN_OR_RETURN(Expr lo, Emit(n.args[1]));
  OUTPOST_ASSIGN_OR_RETURN(Expr hi, Emit(n.args[2]));
  auto range = [&](const Expr& from, const Expr& to) -> Result<std::string> {
    OUTPOST_ASSIGN_OR_RETURN(Expr ge, Compare(">=", x, from));
    OUTPOST_ASSIGN_OR_RETURN(Expr le, Compare("<=", x, to));
    return "(" + ge.sql + " AND " + le.sql + ")";
  };
  OUTPOST_ASSIGN_OR_RETURN(std::string in, range(lo, hi));
  if (n.all) {  // SYMMETRIC
    OUTPOST_ASSIGN_OR_RETURN(std::string swapped, range(hi, lo));
    in = "(" + in + " OR " + swapped + ")";
  }
  return Boolean(n.negated ? "(NOT " + in + ")" : in);
}

Result<Expr> Translator::Case(const Node& n) {
  size_t k = 0;
  std::optional<Expr> operand;
  if (n.has_operand) {
    OUTPOST_ASSIGN_OR_RETURN(operand, Emit(n.args[0]));
    k = 1;
  }
  const size_t end = n.args.size() - (n.has_else ? 1 : 0);
  std::vector<std::string> conditions;
  std::vector<Expr> results;
  for (; k + 1 < end; k += 2) {
    OUTPOST_ASSIGN_OR_RETURN(Expr when, Emit(n.args[k]));
    if (operand) {
      OUTPOST_ASSIGN_OR_RETURN(when, Compare("=", *operand, when));
    }
    conditions.push_back(when.sql);
    OUTPOST_ASSIGN_OR_RETURN(Expr then, Emit(n.args[k + 1]));
    results.push_back(std::move(then));
  }
  if (n.has_else) {
    OUTPOST_ASSIGN_OR_RETURN(Expr otherwise, Emit(n.args.back()));
    results.push_back(std::move(otherwise));
  }
  // The results share one type: the first typed one's.
  const Expr* typed = nullptr;
  for (const auto& r : results) {
    if (!r.untyped && !typed) typed = &r;
  }
  Expr like = typed ? *typed : results[0];
  for (auto& r : results) {
    if (r.untyped && typed) {
      OUTPOST_ASSIGN_OR_RETURN(r, Retype(r, like));
    }
    r.untyped = false;
    if (!r.is_null && typed) {
      OUTPOST_RETURN_IF_ERROR(CheckComparable(like, r, "="));
    }
  }
  Expr e = like;
  e.untyped = e.is_null = false;
  e.pg_text.reset();
  e.bare.clear();
  e.sql = e.cmp = "CASE";
  for (size_t i = 0; i < conditions.size(); ++i) {
    e.sql += " WHEN " + conditions[i] + " THEN " + results[i].sql;
    e.cmp += " WHEN " + conditions[i] + " THEN " + results[i].cmp;
  }
  if (n.has_else) {
    e.sql += " ELSE " + results.back().sql;
    e.cmp += " ELSE " + results.back().cmp;
  }
  e.sql += " END";
  e.cmp += " END";
  return e;
}

Result<Expr> Translator::Emit(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kColumn: return Column(n.text);
    case Node::Kind::kString: {
      Expr e;
      e.untyped = true;
      e.pg_text = n.text;
      e.sql = e.cmp = QuoteLiteral(n.text);
      e.type.pg_type = "text";
      return e;
    }
    case Node::Kind::kNumber: {
      const bool integer =
          n.text.size() <= 18 &&
          std::all_of(n.text.begin(), n.text.end(), [](char c) { return c >= '0' && c <= '9'; });
      ColumnType t{integer ? TypeKind::kInteger : TypeKind::kNumeric,
                   integer ? "integer" : "numeric",
                   TypeKind::kText,
                   {}};
      return Constant(t, false, n.text);
    }
    case Node::Kind::kBool:
      return Constant(ColumnType{TypeKind::kBoolean, "boolean", TypeKind::kText, {}}, false,
                      n.text);
    case Node::Kind::kNull: {
      Expr e;
      e.untyped = e.is_null = true;
      e.sql = e.cmp = "NULL";
      return e;
    }
    case Node::Kind::kSpecial: {
      std::string name = n.text;
      for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return Unsupported(name + " (the current time or user: only the server evaluates it)");
    }
    case Node::Kind::kCast: {
      OUTPOST_ASSIGN_OR_RETURN(Expr target, ResolveType(n.type));
      if (n.args[0].kind == Node::Kind::kArray) return ArrayConstant(n.args[0], &target);
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      return Cast(std::move(a), target);
    }
    case Node::Kind::kUnary: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      if (!IsNumberKind(a.type.kind) || a.untyped) {
        return Unsupported("unary " + n.text + " of " + KindText(a));
      }
      if (n.text == "+") return a;
      Expr e = a;
      e.pg_text.reset();
      e.bare.clear();
      e.sql = e.cmp = "(- " + a.cmp + ")";
      return e;
    }
    case Node::Kind::kNot: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      return Boolean("(NOT " + a.sql + ")");
    }
    case Node::Kind::kAnd:
    case Node::Kind::kOr: {
      std::vector<std::string> parts;
      for (const auto& arg : n.args) {
        OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(arg));
        parts.push_back(a.sql);
      }
      return Boolean("(" + Join(parts, n.kind == Node::Kind::kAnd ? " AND " : " OR ") + ")");
    }
    case Node::Kind::kBinary: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      OUTPOST_ASSIGN_OR_RETURN(Expr b, Emit(n.args[1]));
      return Binary(n.text, std::move(a), std::move(b));
    }
    case Node::Kind::kAnyAll: return AnyAll(n);
    case Node::Kind::kIsNull: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      // A plain column stays a plain column, so that queries can use partial indexes on it.
      return Boolean("(" + (a.bare.empty() ? a.sql : a.bare) +
                     (n.negated ? " IS NOT NULL)" : " IS NULL)"));
    }
    case Node::Kind::kIsBool: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      if (n.text == "unknown") {
        return Boolean("(" + a.sql + (n.negated ? " IS NOT NULL)" : " IS NULL)"));
      }
      std::string value = n.text == "true" ? "TRUE" : "FALSE";
      return Boolean("(" + a.sql + (n.negated ? " IS NOT " : " IS ") + value + ")");
    }
    case Node::Kind::kDistinct: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      OUTPOST_ASSIGN_OR_RETURN(Expr b, Emit(n.args[1]));
      OUTPOST_RETURN_IF_ERROR(Unify(&a, &b));
      OUTPOST_RETURN_IF_ERROR(CheckComparable(a, b, "="));
      return Boolean("(" + a.cmp + (n.negated ? " IS " : " IS NOT ") + b.cmp + ")");
    }
    case Node::Kind::kIn: {
      OUTPOST_ASSIGN_OR_RETURN(Expr x, Emit(n.args[0]));
      std::vector<std::string> items;
      for (size_t i = 1; i < n.args.size(); ++i) {
        OUTPOST_ASSIGN_OR_RETURN(Expr e, Emit(n.args[i]));
        OUTPOST_RETURN_IF_ERROR(Unify(&x, &e));
        OUTPOST_RETURN_IF_ERROR(CheckComparable(x, e, "="));
        items.push_back(e.cmp);
      }
      return Boolean("(" + x.cmp + (n.negated ? " NOT IN (" : " IN (") + Join(items, ", ") + "))");
    }
    case Node::Kind::kBetween: return Between(n);
    case Node::Kind::kArray: return ArrayConstant(n, nullptr);
    case Node::Kind::kCall: return Call(n);
    case Node::Kind::kCase: return Case(n);
    case Node::Kind::kSubscript: return Unsupported("array subscript");
    case Node::Kind::kCollate: {
      OUTPOST_ASSIGN_OR_RETURN(Expr a, Emit(n.args[0]));
      const std::string c = Lower(n.text);
      if (c == "default") return a;
      if (a.type.kind != TypeKind::kText || (c != "c" && c != "posix")) {
        return Unsupported("COLLATE \"" + n.text + "\"");
      }
      a.sql = a.cmp = "(" + a.sql + " COLLATE BINARY)";
      a.binary_order = true;  // code point order, which is SQLite's BINARY order of UTF-8
      a.bare.clear();
      return a;
    }
  }
  return Status(Code::kInternal, "unknown expression node");
}

}  // namespace pg_expr

Result<std::string> TranslatePgExpression(std::string_view expression, const Table& table) {
  OUTPOST_ASSIGN_OR_RETURN(pg_expr::Node tree, pg_expr::Parse(expression));
  pg_expr::Translator tr(table);
  OUTPOST_ASSIGN_OR_RETURN(pg_expr::Expr e, tr.Emit(tree));
  return e.cmp;
}

Result<std::string> TranslatePgDefault(std::string_view expression, const Table& table,
                                       const Column& column) {
  using namespace pg_expr;
  OUTPOST_ASSIGN_OR_RETURN(Node tree, Parse(expression));
  Translator tr(table);
  OUTPOST_ASSIGN_OR_RETURN(Expr e, tr.Emit(tree));
  if (e.untyped || e.is_null) return "(" + e.sql + ")";
  const TypeKind x = e.type.kind, y = column.type.kind;
  const bool fits = x == y
                        ? (x != TypeKind::kArray || e.type.element == column.type.element)
                        : (IsNumberKind(x) && IsNumberKind(y)) || (IsTextKind(x) && IsTextKind(y));
  if (!fits)
    return Unsupported(KindText(e) + " expression for a " + column.type.pg_type + " column");
  return "(" + e.sql + ")";
}

std::vector<std::string> PgExpressionColumns(std::string_view expression) {
  std::vector<std::string> cols;
  auto tree = pg_expr::Parse(expression);
  if (tree.ok()) {
    std::vector<const pg_expr::Node*> stack = {&*tree};
    while (!stack.empty()) {
      const pg_expr::Node* n = stack.back();
      stack.pop_back();
      if (n->kind == pg_expr::Node::Kind::kColumn) cols.push_back(n->text);
      for (const auto& a : n->args) stack.push_back(&a);
    }
    return cols;
  }
  // Unparsable: every identifier that is not a function name, a type name or a keyword.
  auto tokens = pg_expr::Tokenize(expression);
  if (!tokens.ok()) return cols;
  const auto& t = *tokens;
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i].kind == pg_expr::Tok::kOp && t[i].text == "::") {
      while (i + 1 < t.size() &&
             (t[i + 1].kind == pg_expr::Tok::kIdent ||
              t[i + 1].kind == pg_expr::Tok::kQuotedIdent || t[i + 1].text == ".")) {
        ++i;
      }
      continue;
    }
    const bool call = t[i + 1].kind == pg_expr::Tok::kOp && t[i + 1].text == "(";
    static const std::set<std::string> kKeywords = {
        "and",       "or",      "not",  "is",    "null",    "true",   "false",    "between",
        "in",        "case",    "when", "then",  "else",    "end",    "any",      "all",
        "some",      "array",   "like", "ilike", "similar", "escape", "distinct", "from",
        "symmetric", "collate", "to",   "for",   "select",  "where"};
    if (call || (t[i].kind == pg_expr::Tok::kIdent && kKeywords.count(pg_expr::Lower(t[i].text)))) {
      continue;
    }
    if (t[i].kind == pg_expr::Tok::kQuotedIdent) cols.push_back(t[i].text);
    if (t[i].kind == pg_expr::Tok::kIdent) cols.push_back(t[i].text);
  }
  return cols;
}

}  // namespace outpost
