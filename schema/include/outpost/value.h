// Values as Outpost stores them locally, and their conversion from and to PostgreSQL's text form.
//
// A Value is one SQLite value: NULL, INTEGER, REAL, TEXT or BLOB. For each TypeKind there is
// exactly one local form (docs/types.md); PgTextToValue and ValueToPgText convert between that
// form and the text PostgreSQL prints and parses, such that for every value PostgreSQL can produce
//     ValueToPgText(t, PgTextToValue(t, text)) parses in PostgreSQL to a value
//     IS NOT DISTINCT FROM the original.
// PostgreSQL text is expected in the server session settings Outpost uses: DateStyle ISO, TimeZone
// UTC, IntervalStyle postgres, bytea_output hex, extra_float_digits 1.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "outpost/schema.h"
#include "outpost/status.h"

namespace outpost {

struct Blob {
  std::vector<uint8_t> bytes;
  bool operator==(const Blob&) const = default;
};

struct Null {
  bool operator==(const Null&) const = default;
};

using Value = std::variant<Null, int64_t, double, std::string, Blob>;

inline bool IsNull(const Value& v) {
  return std::holds_alternative<Null>(v);
}

// A local value borrowed from somewhere else (a SQLite value, a decoded wire value): no copy.
// `bytes` must stay valid while the view is used.
struct ValueView {
  enum class Kind : uint8_t { kNull, kInteger, kReal, kText, kBlob };
  Kind kind = Kind::kNull;
  int64_t integer = 0;     // kInteger
  double real = 0;         // kReal
  std::string_view bytes;  // kText: UTF-8 text; kBlob: the bytes

  static ValueView MakeNull() { return {}; }
  static ValueView MakeInteger(int64_t v) { return {Kind::kInteger, v, 0, {}}; }
  static ValueView MakeReal(double v) { return {Kind::kReal, 0, v, {}}; }
  static ValueView MakeText(std::string_view v) { return {Kind::kText, 0, 0, v}; }
  static ValueView MakeBlob(std::string_view v) { return {Kind::kBlob, 0, 0, v}; }
  // A view of `v`, valid while `v` is.
  static ValueView Of(const Value& v);
  // An owning copy.
  Value ToValue() const;
};

// PostgreSQL text (as printed by the server) -> local value. Errors with kInvalidArgument when the
// text is not a valid value of the type, or kUnsupported when it cannot be stored losslessly
// (e.g. a double precision NaN, which SQLite turns into NULL).
Result<Value> PgTextToValue(const ColumnType& type, std::string_view text);

// Local value -> PostgreSQL input text. Null values must be handled by the caller (SQL NULL).
// Errors with kInvalidArgument when the value has the wrong storage class or form for the type
// (e.g. text in an integer column, a JSON array column holding an object).
Result<std::string> ValueToPgText(const ColumnType& type, const Value& value);

// Parses a PostgreSQL array literal ('{a,"b c",NULL}', nested for more dimensions) into a JSON
// array text, converting each element with the element kind: numbers stay numbers, booleans become
// true/false, everything else a JSON string. The inverse builds a PostgreSQL array literal.
Result<std::string> PgArrayToJson(const ColumnType& type, std::string_view literal);
Result<std::string> JsonToPgArray(const ColumnType& type, std::string_view json_text);

// Client JSON <-> Value (docs/types.md, "JSON encoding"): the one implementation shared by the
// core's Store::Execute parameters and the server's push and pull.

// Untyped: null; true/false as 1/0; integers (exact to 64 bits); reals; strings; {"$blob":
// "<base64>"} as a BLOB; any other object or array as its JSON text. Errors with kInvalidArgument
// for an unsigned integer beyond the int64 range or a malformed "$blob".
Result<Value> ValueFromJson(const nlohmann::json& j);

// Typed: the local value of `j` for a column of `type`, checked so that ValueToPgText(type, v)
// succeeds (null is always accepted; NOT NULL is the database's business). Accepted forms:
//   boolean: true/false or 0/1;  integer: a JSON integer;  real: a number or
//   "Infinity"/"-Infinity"; numeric: a decimal string or a number;  bytea: {"$blob": "<base64>"};
//   json: JSON text as a string (it must parse), or any other JSON value (stored as its text);
//   array: a JSON array, or its text as a string;  uuid: a UUID string (canonicalised to
//   lowercase);  enum: one of its labels;  every other kind: a string.
// Errors: kInvalidArgument (wrong JSON type or form), kUnsupported (a NaN real).
Result<Value> ValueFromJson(const ColumnType& type, const nlohmann::json& j);

// Local value -> client JSON (docs/types.md, "JSON encoding"), the one encoder of local values:
// null; integers (true/false when `boolean`, the value of a boolean column, is 0 or 1); reals
// (shortest round-trip form, always with a fraction or exponent so that they read back as reals;
// non-finite as "Infinity"/"-Infinity"); strings; BLOBs as {"$blob": "<base64>"}. ValueToJson
// builds a JSON value; AppendValueJson appends the same JSON as text (the capture triggers, the
// outbox form of keys), byte for byte what ValueToJson(...).dump() gives for valid UTF-8.
nlohmann::json ValueToJson(const ValueView& value, bool boolean = false);
void AppendValueJson(const ValueView& value, bool boolean, std::string* out);
// ValueToJson for a column of `type` (booleans by the column's kind).
nlohmann::json ValueToJson(const ColumnType& type, const Value& value);

// Shortcuts for the sync server. Client JSON -> PostgreSQL input text (nullopt for null), with
// the errors of ValueFromJson; PostgreSQL output text -> client JSON, with the errors of
// PgTextToValue.
Result<std::optional<std::string>> JsonToPgText(const ColumnType& type, const nlohmann::json& j);
Result<nlohmann::json> PgTextToJson(const ColumnType& type, std::string_view text);

}  // namespace outpost
