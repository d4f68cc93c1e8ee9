// The translator's functions, ANY/ALL, array constants and pattern matching (see
// pg_expr_translate.h; the rest is in pg_expr.cc).
#include <cctype>
#include <nlohmann/json.hpp>

#include "outpost/pg_eval.h"
#include "outpost/value.h"
#include "pg_expr_translate.h"

namespace outpost {
namespace pg_expr {

namespace {

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

Expr Typed(TypeKind kind, const char* name, std::string sql) {
  Expr e;
  e.type.kind = kind;
  e.type.pg_type = name;
  e.sql = e.cmp = std::move(sql);
  return e;
}

}  // namespace

Expr Translator::ElementOf(const Expr& array) {
  Expr e;
  e.type.kind = array.type.element;
  e.type.enum_values = array.type.enum_values;
  e.type.pg_type = array.type.pg_type;
  if (e.type.pg_type.size() > 2 &&
      e.type.pg_type.compare(e.type.pg_type.size() - 2, 2, "[]") == 0) {
    e.type.pg_type.resize(e.type.pg_type.size() - 2);
  }
  e.bpchar = array.bpchar;
  e.domain = array.domain;
  e.key_kind = e.type.kind;
  return e;
}

Result<Expr> Translator::ArrayConstant(const Node& n, const Expr* array_type) {
  Expr element;
  element.type.pg_type = "text";
  if (array_type) {
    if (array_type->type.kind != TypeKind::kArray) {
      return Unsupported("cast of ARRAY[...] to " + array_type->type.pg_type);
    }
    element = ElementOf(*array_type);
  }
  std::vector<Expr> elems;
  for (const Node& arg : n.args) {
    if (arg.kind == Node::Kind::kArray) return Unsupported("multidimensional ARRAY[...]");
    OUTPOST_ASSIGN_OR_RETURN(Expr e, Emit(arg));
    if (array_type) {
      OUTPOST_ASSIGN_OR_RETURN(e, Cast(std::move(e), element));
    }
    if (!e.pg_text && !e.is_null) {
      return Unsupported("ARRAY[...] of values that are not constants");
    }
    elems.push_back(std::move(e));
  }
  if (!array_type) {
    for (const auto& e : elems) {
      if (!e.untyped) {
        element = e;
        break;
      }
    }
  }
  // The elements as a PostgreSQL array literal, converted like any array value.
  std::string literal = "{";
  for (size_t i = 0; i < elems.size(); ++i) {
    if (i) literal += ",";
    if (elems[i].is_null) {
      literal += "NULL";
      continue;
    }
    literal += '"';
    for (char c : *elems[i].pg_text) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  literal += "}";
  ColumnType type{TypeKind::kArray, element.type.pg_type + "[]", element.type.kind,
                  element.type.enum_values};
  return Constant(type, element.bpchar, literal);
}

Result<std::optional<std::vector<Expr>>> Translator::LiteralArrayElements(const Node& n) {
  std::vector<const TypeName*> casts;  // outermost first
  const Node* at = &n;
  while (at->kind == Node::Kind::kCast) {
    casts.push_back(&at->type);
    at = &at->args[0];
  }
  std::vector<Expr> out;
  size_t applied = 0;  // casts already applied, innermost first
  if (at->kind == Node::Kind::kArray) {
    for (const Node& arg : at->args) {
      if (arg.kind == Node::Kind::kArray) return Unsupported("multidimensional ARRAY[...]");
      OUTPOST_ASSIGN_OR_RETURN(Expr e, Emit(arg));
      out.push_back(std::move(e));
    }
  } else if (at->kind == Node::Kind::kString && !casts.empty()) {
    OUTPOST_ASSIGN_OR_RETURN(Expr type, ResolveType(*casts.back()));
    if (type.type.kind != TypeKind::kArray) return std::optional<std::vector<Expr>>();
    auto v = PgTextToValue(type.type, at->text);
    if (!v.ok())
      return Unsupported("'" + at->text + "' as " + type.type.pg_type + ": " +
                         v.status().message());
    const auto j = nlohmann::json::parse(std::get<std::string>(*v));
    const Expr element = ElementOf(type);
    for (const auto& x : j) {
      if (x.is_array()) return Unsupported("multidimensional array literal");
      if (x.is_null()) {
        Expr null;
        null.sql = null.cmp = "NULL";
        null.untyped = null.is_null = true;
        OUTPOST_ASSIGN_OR_RETURN(Expr e, Retype(null, element));
        out.push_back(std::move(e));
        continue;
      }
      Value value;
      std::string text;
      if (x.is_string()) {
        value = text = x.get<std::string>();
      } else if (x.is_boolean()) {
        value = int64_t{x.get<bool>() ? 1 : 0};
        text = x.get<bool>() ? "true" : "false";
      } else if (x.is_number_integer()) {
        value = x.get<int64_t>();
        text = x.dump();
      } else {
        value = x.get<double>();
        text = x.dump();
      }
      OUTPOST_ASSIGN_OR_RETURN(Expr e, ConstantOf(element.type, element.bpchar, value, text));
      out.push_back(std::move(e));
    }
    applied = 1;
  } else {
    return std::optional<std::vector<Expr>>();
  }
  for (size_t k = applied; k < casts.size(); ++k) {
    OUTPOST_ASSIGN_OR_RETURN(Expr type, ResolveType(*casts[casts.size() - 1 - k]));
    if (type.type.kind != TypeKind::kArray) {
      return Unsupported("cast of an array to " + type.type.pg_type);
    }
    const Expr element = ElementOf(type);
    for (auto& e : out) {
      OUTPOST_ASSIGN_OR_RETURN(e, Cast(std::move(e), element));
    }
  }
  return std::optional<std::vector<Expr>>(std::move(out));
}

Result<Expr> Translator::AnyAll(const Node& n) {
  const std::string& op = n.text;
  OUTPOST_ASSIGN_OR_RETURN(Expr value, Emit(n.args[0]));
  OUTPOST_ASSIGN_OR_RETURN(auto elements, LiteralArrayElements(n.args[1]));
  if (!elements) {
    OUTPOST_ASSIGN_OR_RETURN(Expr array, Emit(n.args[1]));
    if (array.type.kind != TypeKind::kArray) {
      return Unsupported(op + (n.all ? " ALL" : " ANY") + " over " + KindText(array));
    }
    return ArrayColumnAnyAll(op, n.all, std::move(value), std::move(array));
  }
  const bool ne = op == "<>" || op == "!=";
  if ((op == "=" && !n.all) || (ne && n.all)) {
    // x = ANY (ARRAY[a, b]) is x IN (a, b); x <> ALL (...) is x NOT IN (...): the same
    // three-valued results, NULLs included.
    std::vector<std::string> items;
    for (auto& e : *elements) {
      OUTPOST_RETURN_IF_ERROR(Unify(&value, &e));
      OUTPOST_RETURN_IF_ERROR(CheckComparable(value, e, "="));
      items.push_back(e.cmp);
    }
    return Boolean("(" + value.cmp + (n.all ? " NOT IN (" : " IN (") + Join(items, ", ") + "))");
  }
  // Any other operator: ANY is the OR of the comparisons, ALL their AND.
  std::vector<std::string> parts;
  for (auto& e : *elements) {
    OUTPOST_ASSIGN_OR_RETURN(Expr one, Binary(op, value, e));
    parts.push_back(one.sql);
  }
  if (parts.empty()) return Boolean(n.all ? "1" : "0");
  return Boolean("(" + Join(parts, n.all ? " AND " : " OR ") + ")");
}

Result<Expr> Translator::ArrayColumnAnyAll(const std::string& op, bool all, Expr value,
                                           Expr array) {
  const bool ne = op == "<>" || op == "!=";
  if (!((op == "=" && !all) || (ne && all))) {
    return Unsupported(op + (all ? " ALL" : " ANY") +
                       " over an array value (only = ANY and <> ALL are mirrored)");
  }
  const Expr element = ElementOf(array);
  if (value.untyped) {
    OUTPOST_ASSIGN_OR_RETURN(value, Retype(value, element));
  }
  OUTPOST_RETURN_IF_ERROR(CheckComparable(value, element, "="));
  const char* mode = nullptr;
  switch (element.type.kind) {
    case TypeKind::kText: mode = element.bpchar ? "bpchar" : "text"; break;
    case TypeKind::kUuid:
    case TypeKind::kEnum: mode = "text"; break;
    case TypeKind::kCitext: mode = "nocase"; break;
    case TypeKind::kInteger:
    case TypeKind::kNumeric:
    case TypeKind::kReal:
    case TypeKind::kBoolean: mode = "number"; break;
    case TypeKind::kDate: mode = "date"; break;
    case TypeKind::kTimestamp: mode = "timestamp"; break;
    case TypeKind::kTimestamptz: mode = "timestamptz"; break;
    default: return Unsupported(op + " ANY over an array of " + KindText(element));
  }
  std::string call = "outpost_pg_array_has(" + array.sql + ", " + value.sql + ", '" + mode + "')";
  return Boolean(ne ? "(NOT " + call + ")" : call);
}

Result<Expr> Translator::Match(const std::string& op, Expr subject, Expr pattern) {
  const bool like = op.find("~~") != std::string::npos;
  const bool negated = op[0] == '!';
  bool icase = op.back() == '*';
  const char* what = like ? "LIKE" : "regular expression";
  if (subject.untyped) subject.untyped = false;
  if (!subject.is_null && !IsTextKind(subject.type.kind)) {
    return Unsupported(std::string(what) + " on " + KindText(subject));
  }
  if (!pattern.pg_text || !(pattern.untyped || IsTextKind(pattern.type.kind))) {
    return Unsupported(std::string(what) + " with a pattern that is not a text constant");
  }
  // citext's own ~ and LIKE ignore case.
  icase = icase || subject.type.kind == TypeKind::kCitext ||
          (!pattern.untyped && pattern.type.kind == TypeKind::kCitext);
  std::string re = *pattern.pg_text;
  if (like) {
    OUTPOST_ASSIGN_OR_RETURN(re, LikeToPgRegex(re));
  }
  if (icase) {
    // As an embedded option, so that SQLite's two-argument REGEXP carries it; the pattern's own
    // leading options come after and win, as they do over ~* in PostgreSQL.
    const bool has_options = re.size() > 2 && re[0] == '(' && re[1] == '?' &&
                             std::isalpha(static_cast<unsigned char>(re[2]));
    re = has_options ? "(?i" + re.substr(2) : "(?i)" + re;
  }
  OUTPOST_RETURN_IF_ERROR(PgRegex::Compile(re).status());
  return Boolean("(" + subject.sql + (negated ? " NOT REGEXP " : " REGEXP ") + QuoteLiteral(re) +
                 ")");
}

Result<Expr> Translator::Call(const Node& n) {
  // A quoted name is exact ("left" is quoted because LEFT is a keyword); function names are
  // lowercase, so a quoted name with capitals matches none below.
  const std::string& f = n.text;
  std::vector<Expr> a;
  for (const auto& arg : n.args) {
    OUTPOST_ASSIGN_OR_RETURN(Expr e, Emit(arg));
    a.push_back(std::move(e));
  }
  auto arity = [&](size_t lo, size_t hi) {
    if (a.size() < lo || a.size() > hi) {
      return Unsupported("function " + f + "() with " + std::to_string(a.size()) + " arguments");
    }
    return Status::Ok();
  };
  auto want = [&](size_t i, bool (*ok)(TypeKind), const char* what) {
    if (a[i].untyped) a[i].untyped = false;  // an untyped literal is text
    if (!a[i].is_null && !ok(a[i].type.kind)) {
      return Unsupported("function " + f + "() of " + KindText(a[i]) + " (expects " + what + ")");
    }
    return Status::Ok();
  };
  auto json_kind = [](TypeKind k) { return k == TypeKind::kJson; };
  auto text_or_bytes = [](TypeKind k) { return IsTextKind(k) || k == TypeKind::kBytea; };
  // A constant integer argument at least `min`, or nullopt.
  auto count = [&](size_t i, int64_t min) -> std::optional<int64_t> {
    if (a[i].type.kind != TypeKind::kInteger || !a[i].pg_text) return std::nullopt;
    const int64_t v = std::stoll(*a[i].pg_text);
    if (v < min) return std::nullopt;
    return v;
  };
  auto array_kind = [](TypeKind k) { return k == TypeKind::kArray; };
  if (f == "lower" || f == "upper" || f == "char_length" || f == "character_length") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 1));
    OUTPOST_RETURN_IF_ERROR(want(0, IsTextKind, "text"));
    if (f == "lower" || f == "upper") {
      return Typed(TypeKind::kText, "text", f + "(" + a[0].sql + ")");
    }
    return Typed(TypeKind::kInteger, "integer", "length(" + a[0].sql + ")");
  }
  if (f == "length" || f == "octet_length") {  // characters of text, bytes of bytea
    OUTPOST_RETURN_IF_ERROR(arity(1, 1));
    OUTPOST_RETURN_IF_ERROR(want(0, text_or_bytes, "text or bytea"));
    if (f == "octet_length") {
      return Typed(TypeKind::kInteger, "integer", "length(CAST(" + a[0].sql + " AS BLOB))");
    }
    return Typed(TypeKind::kInteger, "integer", "length(" + a[0].sql + ")");
  }
  if (f == "strpos") {  // also POSITION(sub IN s)
    OUTPOST_RETURN_IF_ERROR(arity(2, 2));
    OUTPOST_RETURN_IF_ERROR(want(0, IsTextKind, "text"));
    OUTPOST_RETURN_IF_ERROR(want(1, IsTextKind, "text"));
    return Typed(TypeKind::kInteger, "integer", "instr(" + a[0].sql + ", " + a[1].sql + ")");
  }
  if (f == "substr" || f == "left" || f == "right") {  // also SUBSTRING(s FROM a FOR b)
    OUTPOST_RETURN_IF_ERROR(f == "substr" ? arity(2, 3) : arity(2, 2));
    OUTPOST_RETURN_IF_ERROR(want(0, IsTextKind, "text"));
    // Positions before the start and negative counts mean different things in SQLite's substr:
    // constants from 1 only.
    std::vector<std::optional<int64_t>> counts;
    for (size_t i = 1; i < a.size(); ++i)
      counts.push_back(count(i, f == "substr" && i == 2 ? 0 : 1));
    for (const auto& c : counts) {
      if (!c)
        return Unsupported("function " + f + "() with positions that are not constants from 1");
    }
    std::string sql =
        f == "left"    ? "substr(" + a[0].sql + ", 1, " + std::to_string(*counts[0]) + ")"
        : f == "right" ? "substr(" + a[0].sql + ", -" + std::to_string(*counts[0]) + ")"
                       : "substr(" + a[0].sql + ", " + std::to_string(*counts[0]) +
                             (counts.size() > 1 ? ", " + std::to_string(*counts[1]) : "") + ")";
    return Typed(TypeKind::kText, "text", sql);
  }
  if (f == "btrim" || f == "ltrim" || f == "rtrim") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 2));
    std::vector<std::string> args;
    for (size_t i = 0; i < a.size(); ++i) {
      OUTPOST_RETURN_IF_ERROR(want(i, IsTextKind, "text"));
      args.push_back(a[i].sql);
    }
    return Typed(TypeKind::kText, "text",
                 (f == "btrim" ? std::string("trim") : f) + "(" + Join(args, ", ") + ")");
  }
  if (f == "abs") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 1));
    OUTPOST_RETURN_IF_ERROR(want(0, IsNumberKind, "a number"));
    Expr e = Typed(a[0].type.kind, "", "abs(" + a[0].cmp + ")");
    e.type = a[0].type;
    return e;
  }
  if (f == "coalesce" || f == "nullif") {
    OUTPOST_RETURN_IF_ERROR(f == "nullif" ? arity(2, 2) : arity(1, 1000));
    const Expr* typed = nullptr;
    for (const auto& e : a) {
      if (!e.untyped && !typed) typed = &e;
    }
    const Expr like = typed ? *typed : a[0];
    std::vector<std::string> sqls, cmps;
    for (auto& e : a) {
      if (e.untyped && typed) {
        OUTPOST_ASSIGN_OR_RETURN(e, Retype(e, like));
      }
      OUTPOST_RETURN_IF_ERROR(CheckComparable(like, e, "="));
      sqls.push_back(e.sql);
      cmps.push_back(e.cmp);
    }
    Expr e = like;
    e.untyped = e.is_null = false;
    e.pg_text.reset();
    e.bare.clear();
    e.cmp = f + "(" + Join(cmps, ", ") + ")";
    if (f == "coalesce" || (sqls[0] == cmps[0] && sqls[1] == cmps[1])) {
      e.sql = f + "(" + Join(sqls, ", ") + ")";
    } else {  // nullif compares the comparable forms and yields the first value's local form
      e.sql = "CASE WHEN " + cmps[0] + " = " + cmps[1] + " THEN NULL ELSE " + sqls[0] + " END";
    }
    return e;
  }
  if (f == "jsonb_typeof" || f == "json_typeof") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 1));
    OUTPOST_RETURN_IF_ERROR(want(0, json_kind, "json"));
    const std::string& x = a[0].sql;
    return Typed(TypeKind::kText, "text",
                 "CASE json_type(" + x +
                     ") WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' WHEN 'real' THEN "
                     "'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE "
                     "json_type(" +
                     x + ") END");
  }
  if (f == "json_array_length" || f == "jsonb_array_length") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 1));
    OUTPOST_RETURN_IF_ERROR(want(0, json_kind, "json"));
    const std::string& x = a[0].sql;
    // PostgreSQL refuses the length of an object or a scalar; SQLite would say 0.
    return Typed(TypeKind::kInteger, "integer",
                 "CASE WHEN " + x + " IS NULL THEN NULL WHEN json_type(" + x +
                     ") = 'array' THEN json_array_length(" + x +
                     ") ELSE outpost_pg_error('cannot get array length of a non-array', " + x +
                     ") END");
  }
  if (f == "cardinality") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 1));
    OUTPOST_RETURN_IF_ERROR(want(0, array_kind, "an array"));
    return Typed(TypeKind::kInteger, "integer", "outpost_pg_cardinality(" + a[0].sql + ")");
  }
  if (f == "array_length") {
    OUTPOST_RETURN_IF_ERROR(arity(2, 2));
    OUTPOST_RETURN_IF_ERROR(want(0, array_kind, "an array"));
    if (a[1].pg_text != "1" || a[1].type.kind != TypeKind::kInteger) {
      return Unsupported("array_length() of a dimension other than 1");
    }
    // PostgreSQL's length of an empty array is NULL; the outer length counts the first dimension.
    return Typed(TypeKind::kInteger, "integer", "nullif(json_array_length(" + a[0].sql + "), 0)");
  }
  if (f == "num_nonnulls" || f == "num_nulls") {
    OUTPOST_RETURN_IF_ERROR(arity(1, 1000));
    std::vector<std::string> terms;
    for (const auto& e : a) {
      terms.push_back("(" + (e.bare.empty() ? e.sql : e.bare) +
                      (f == "num_nulls" ? " IS NULL)" : " IS NOT NULL)"));
    }
    return Typed(TypeKind::kInteger, "integer", "(" + Join(terms, " + ") + ")");
  }
  return Unsupported("function " + f + "()");
}

}  // namespace pg_expr
}  // namespace outpost
