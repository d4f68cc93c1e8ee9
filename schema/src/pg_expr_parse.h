// Private to the schema module: PostgreSQL expressions as pg_get_expr() prints them (CHECK
// constraints, index predicates and keys, column defaults), tokenized and parsed into a tree that
// pg_expr.cc translates into SQLite. The parser follows PostgreSQL's operator precedence; it
// knows the syntax, not the meaning: whether a construct can be mirrored is the translator's call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "outpost/status.h"

namespace outpost::pg_expr {

enum class Tok { kIdent, kQuotedIdent, kString, kNumber, kOp, kEnd };

struct Token {
  Tok kind;
  std::string text;  // identifier (unquoted: original case), literal value, number or operator
};

// Operators are runs of PostgreSQL's operator characters; "::", "(", ")", "[", "]", ",", "." and
// ";" are tokens of their own. Errors: kUnsupported for an unterminated literal or identifier.
Result<std::vector<Token>> Tokenize(std::string_view s);

std::string Lower(std::string s);

// A type name after "::": the last component of a qualified name, lowercased unless quoted,
// multi-word names joined by one space ("character varying", "timestamp without time zone"),
// without its modifiers (`modifiers` says there were some); `array_dims` counts trailing "[]".
struct TypeName {
  std::string name;
  bool quoted = false;
  bool modifiers = false;  // a length, precision or scale: (255), (10,2), (3)
  int array_dims = 0;
};

struct Node {
  enum class Kind {
    kColumn,  // text: column name
    kString,  // text: the literal's value
    kNumber,  // text: as written
    kBool,    // text: "true" / "false"
    kNull,
    kSpecial,   // text: CURRENT_DATE, CURRENT_TIMESTAMP, ... (lowercased)
    kCast,      // args[0]::type
    kUnary,     // text: "-" or "+"; args[0]
    kNot,       // args[0]
    kAnd,       // args: two or more
    kOr,        // args: two or more
    kBinary,    // text: operator (comparison, arithmetic, ||, ~, ~~, ...); args[0], args[1]
    kAnyAll,    // args[0] text ANY/ALL (args[1]); `all`
    kIsNull,    // args[0] IS [NOT] NULL; `negated`
    kIsBool,    // args[0] IS [NOT] TRUE/FALSE/UNKNOWN; text: "true"/"false"/"unknown"
    kDistinct,  // args[0] IS [NOT] DISTINCT FROM args[1]; `negated`: IS NOT DISTINCT FROM
    kIn,        // args[0] [NOT] IN (args[1..]); `negated`
    kBetween,   // args[0] [NOT] BETWEEN [SYMMETRIC] args[1] AND args[2]; `negated`, `all`
    kArray,     // ARRAY[args...]
    kCall,      // text: function name (lowercased unless quoted); args
    kCase,  // [args[0] = operand if `has_operand`], then WHEN/THEN pairs, then ELSE if `has_else`
    kSubscript,  // args[0][...]
    kCollate,    // args[0] COLLATE text
  };
  Kind kind = Kind::kNull;
  std::string text;
  bool negated = false;
  bool all = false;
  bool has_operand = false;
  bool has_else = false;
  bool quoted = false;  // kCall: the name was quoted
  TypeName type;        // kCast
  std::vector<Node> args;
};

// Parses a whole expression. Errors: kUnsupported naming what could not be parsed, or a construct
// nothing could translate (subqueries, row constructors, SQL-standard function argument syntax
// such as EXTRACT(x FROM y), SIMILAR TO, LIKE ... ESCAPE).
Result<Node> Parse(std::string_view expression);

}  // namespace outpost::pg_expr
