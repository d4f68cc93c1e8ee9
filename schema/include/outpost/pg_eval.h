// PostgreSQL semantics that the local mirror evaluates at run time: the pieces of translated CHECK
// constraints, index predicates and index keys (TranslatePgExpression, outpost/mirror.h) that
// SQLite has no built-in for. Core registers them as SQL functions on every store connection
// (core/src/pg_functions.cc); here they are plain C++ so that the translation can validate its
// input with the same code that later evaluates it, and so that both are unit-testable.
//
// Threading: pure functions; a compiled PgRegex is immutable and may be shared across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "outpost/schema.h"
#include "outpost/status.h"

namespace outpost {

// A PostgreSQL advanced regular expression (the `~` family) restricted to a subset whose meaning
// does not depend on the database's locale, matched the way `~` matches: anywhere in the text,
// by characters (UTF-8 code points), `.` matching every character including newline, `^` and `$`
// only at the ends of the text.
//
// Supported: literal characters; `.`; bracket expressions with characters, ranges, negation and
// the escapes \d \s inside; `^` `$`; `*` `+` `?` `{m}` `{m,}` `{m,n}` (greedy or non-greedy, the
// same for a yes/no match); groups `( )` and `(?: )`; alternation `|`; the escapes \d \D \s \S,
// \t \n \r \f \v, \xhh, \uhhhh, \Uhhhhhhhh and a backslash before any non-alphanumeric character;
// a leading embedded-option group `(?i)` / `(?c)` (case-insensitive / sensitive). `{` not followed
// by a digit is a literal character, as in PostgreSQL.
//
// Refused with kUnsupported, naming the construct (a pattern outside the subset is reported by
// the mirror as not enforced rather than evaluated differently): \w \W and [[:class:]] (letters
// and word characters follow the database's locale), back references, \b (a backspace in
// PostgreSQL, a word boundary elsewhere), the constraint escapes \A \Z \m \M \y \Y, lookahead
// and lookbehind, collating elements and equivalence classes, the *** directors, other embedded
// options, and case-insensitive matching of non-ASCII characters (case folding beyond ASCII is the
// locale's). \s is the space class of glibc's UTF-8 locales; \d is 0-9.
class PgRegex {
 public:
  // `case_insensitive`: as `~*` (a leading "(?c)" in the pattern switches it off again, as in
  // PostgreSQL).
  static Result<PgRegex> Compile(std::string_view pattern, bool case_insensitive = false);
  // True when the pattern matches somewhere in `text` (UTF-8; invalid bytes count as characters
  // that match nothing but `.` and negated classes). Linear in text size times pattern size; no
  // recursion, so long texts cannot exhaust the stack.
  bool Search(std::string_view text) const;

  struct Program;

 private:
  explicit PgRegex(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

// A LIKE pattern (backslash escapes, PostgreSQL's default) as an equivalent PgRegex pattern: `%`
// any run of characters, `_` one character, everything else literal. kUnsupported for a pattern
// that ends with the escape character (PostgreSQL refuses it too).
Result<std::string> LikeToPgRegex(std::string_view like);

// The comparison key of a date or time in the mirror's local form (docs/types.md) or any ISO
// form PostgreSQL accepts ("YYYY-MM-DD", "YYYY-MM-DD[T ]HH:MM[:SS[.f]]", a "Z" or "+HH[:MM]"
// offset, a " BC" suffix, "infinity", "-infinity"): microseconds since 2000-01-01 00:00, such that
// keys order as PostgreSQL orders the values. `kind` is kDate (the time of day is ignored: the key
// of the day at midnight, so a date and a timestamp compare as PostgreSQL compares them),
// kTimestamp (an offset is ignored, as PostgreSQL's timestamp input ignores it) or kTimestamptz
// (an offset is applied; no offset is UTC). nullopt for text that is not such a value.
std::optional<int64_t> PgTimeKey(std::string_view text, TypeKind kind);

// How array elements compare with a value in PgArrayContains: by the text (kText), ASCII case-
// insensitively (kNoCase: citext), ignoring trailing spaces (kBpchar: char(n)), as numbers
// (kNumber), or as dates and times (kDate, kTimestamp, kTimestamptz: PgTimeKey).
enum class PgElementCompare { kText, kNoCase, kBpchar, kNumber, kDate, kTimestamp, kTimestamptz };

// A value for PgArrayContains: SQLite's NULL, integer, real or text.
struct PgScalar {
  enum class Kind { kNull, kInteger, kReal, kText } kind = Kind::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string_view text;
};

// `value = ANY (array)` with PostgreSQL's three-valued result over a local array (a JSON array,
// nested for more dimensions; every element counts): 1 when an element equals `value`, nullopt
// (SQL NULL) when none does but an element or `value` is NULL, 0 otherwise (always 0 for an empty
// array). kInvalidArgument when `array_json` is not a JSON array.
Result<std::optional<bool>> PgArrayContains(std::string_view array_json, const PgScalar& value,
                                            PgElementCompare compare);

// PostgreSQL's cardinality(): the number of elements of a local array, all dimensions counted.
// kInvalidArgument when `array_json` is not a JSON array.
Result<int64_t> PgArrayCardinality(std::string_view array_json);

}  // namespace outpost
