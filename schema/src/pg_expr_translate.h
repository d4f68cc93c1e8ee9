// Private to the schema module: the translator from a parsed PostgreSQL expression
// (pg_expr_parse.h) to SQLite over a table's local columns. Implemented in pg_expr.cc (values,
// columns, casts, comparisons, arithmetic) and pg_expr_calls.cc (functions, ANY/ALL, pattern
// matching). docs/types.md, "CHECK constraints, index predicates and defaults", lists what it
// translates and how.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "outpost/mirror.h"
#include "pg_expr_parse.h"

namespace outpost {

// A Value as an SQLite literal (defined in mirror.cc).
std::string SqlLiteral(const Value& v);

// A column default that is not a plain literal (mirror.cc handles those), translated to an
// SQLite expression yielding the column's local form: ARRAY[...] of constants, arithmetic and
// functions of constants. kUnsupported otherwise.
Result<std::string> TranslatePgDefault(std::string_view expression, const Table& table,
                                       const Column& column);

namespace pg_expr {

// A translated value. Two SQLite forms: `sql` is the value in its local form (docs/types.md),
// `cmp` the form in which it compares, orders and computes as PostgreSQL's value does: numeric
// as REAL, dates and times as outpost_pg_time_key(...), arrays as normalised JSON. The two are
// equal for every other kind.
struct Expr {
  std::string sql;
  std::string cmp;
  ColumnType type;            // kind, PostgreSQL name (pg_type), array element, enum labels
  bool untyped = false;       // a string literal or NULL that takes its type from its context
  bool is_null = false;       // the NULL literal
  bool bpchar = false;        // char(n) (or char(n)[] elements): trailing spaces do not count
  bool domain = false;        // a domain type: its own CHECKs are the server's
  bool binary_order = false;  // text under COLLATE "C": ordered by code point, as SQLite orders
  bool modifiers = false;     // a cast target with a length, precision or scale
  TypeKind key_kind = TypeKind::kText;  // dates and times: the kind of outpost_pg_time_key
  std::optional<std::string> pg_text;   // a constant: PostgreSQL's text of its value
  std::string bare;                     // a plain column reference: the quoted column (for IS NULL)
};

class Translator {
 public:
  explicit Translator(const Table& table) : table_(table) {}

  Result<Expr> Emit(const Node& n);

 private:
  // pg_expr.cc
  Result<Expr> Column(const std::string& name);
  Result<Expr> Constant(const ColumnType& type, bool bpchar, const std::string& pg_text);
  // A constant whose local value is known; `pg_text` is the text further casts convert.
  Result<Expr> ConstantOf(const ColumnType& type, bool bpchar, Value value, std::string pg_text);
  Result<Expr> Retype(const Expr& untyped, const Expr& like);
  Status Unify(Expr* a, Expr* b);
  Status CheckComparable(const Expr& a, const Expr& b, const std::string& op);
  Result<Expr> ResolveType(const TypeName& type);
  Result<Expr> Cast(Expr a, const Expr& target);
  Result<Expr> Binary(const std::string& op, Expr a, Expr b);
  Result<Expr> Compare(const std::string& op, Expr a, Expr b);
  Result<Expr> Arithmetic(const std::string& op, Expr a, Expr b);
  Result<Expr> Concat(Expr a, Expr b);
  Result<Expr> Between(const Node& n);
  Result<Expr> Case(const Node& n);
  static std::string Comparable(const std::string& sql, const Expr& e);
  static Expr Boolean(std::string sql);

  // pg_expr_calls.cc
  Result<Expr> Call(const Node& n);
  Result<Expr> AnyAll(const Node& n);
  // The elements of a literal array (ARRAY[...] or 'literal'::type[], under casts); nullopt when
  // `n` is not one.
  Result<std::optional<std::vector<Expr>>> LiteralArrayElements(const Node& n);
  static Expr ElementOf(const Expr& array);
  Result<Expr> ArrayColumnAnyAll(const std::string& op, bool all, Expr value, Expr array);
  Result<Expr> Match(const std::string& op, Expr subject, Expr pattern);
  // ARRAY[...] of constants as a local array constant; `array_type`: cast to that array type.
  Result<Expr> ArrayConstant(const Node& n, const Expr* array_type);

  const Table& table_;
};

// Helpers shared by the two files.
Status Unsupported(std::string what);
bool IsTextKind(TypeKind k);          // text, citext
bool IsNumberKind(TypeKind k);        // integer, numeric, real
bool IsTimeKind(TypeKind k);          // date, timestamp, timestamptz
std::string KindText(const Expr& e);  // "text", "integer", "order_status", ... for messages

}  // namespace pg_expr
}  // namespace outpost
