// Conversion between PostgreSQL text and Outpost's local values (see value.h and docs/types.md).
#include "outpost/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "outpost/encoding.h"

namespace outpost {
namespace {

using nlohmann::json;

Status Invalid(const ColumnType& type, std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 80));
  if (text.size() > 80) shown += "...";
  return Status(Code::kInvalidArgument,
                "invalid " + type.pg_type + " value \"" + shown + "\": " + std::string(why));
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Canonical lowercase 8-4-4-4-12, or empty when `text` is not a UUID in that layout.
std::string CanonicalUuid(std::string_view text) {
  if (text.size() != 36) return {};
  std::string out(text);
  for (size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !IsHex(text[i])) return {};
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  }
  return out;
}

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* b = text.data();
  const char* e = b + text.size();
  if (*b == '+') ++b;
  auto r = std::from_chars(b, e, *out);
  return r.ec == std::errc() && r.ptr == e;
}

bool IsNumericText(std::string_view t) {
  if (t == "NaN" || t == "Infinity" || t == "-Infinity") return true;
  size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  size_t digits = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    size_t exp = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == t.size();
}

std::string DoubleToText(double d) {
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  // Shortest of %.15g..%.17g that reads back to the same double (floating-point to_chars is
  // missing from the libc++ of Emscripten 3.1.6).
  char buf[64];
  for (int precision = 15; precision <= 17; ++precision) {
    snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

Result<double> ParseDouble(const ColumnType& type, std::string_view text) {
  if (text == "Infinity" || text == "inf") return HUGE_VAL;
  if (text == "-Infinity" || text == "-inf") return -HUGE_VAL;
  if (text == "NaN") {
    return Status(Code::kUnsupported, "NaN in " + type.pg_type +
                                          " cannot be stored locally (SQLite stores NaN as NULL)");
  }
  // Only plain decimal syntax (strtod alone would also take hex, "nan" and leading spaces).
  bool digits = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E') {
      return Invalid(type, text, "not a number");
    }
  }
  if (!digits) return Invalid(type, text, "not a number");
  std::string copy(text);
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return Invalid(type, text, "not a number");
  return d;
}

// "YYYY-MM-DD HH:MM:SS[.f]" (PostgreSQL ISO output) -> "YYYY-MM-DDTHH:MM:SS[.f]"; the optional
// " BC" suffix is kept. With `utc`, a "+00" offset becomes "Z".
Result<std::string> TimestampFromPg(const ColumnType& type, std::string_view text, bool utc) {
  if (text == "infinity" || text == "-infinity") return std::string(text);
  std::string s(text);
  std::string bc;
  if (s.size() > 3 && s.compare(s.size() - 3, 3, " BC") == 0) {
    bc = " BC";
    s.resize(s.size() - 3);
  }
  auto space = s.find(' ');
  if (space == std::string::npos || space < 10) {
    return Invalid(type, text, "expected ISO date and time");
  }
  s[space] = 'T';
  if (utc) {
    if (s.size() > 3 && s.compare(s.size() - 3, 3, "+00") == 0) {
      s.resize(s.size() - 3);
      s += 'Z';
    } else if (s.empty() || s.back() != 'Z') {
      return Invalid(type, text, "expected a UTC timestamp (server TimeZone must be UTC)");
    }
  }
  return s + bc;
}

Result<std::vector<uint8_t>> ByteaFromPg(const ColumnType& type, std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return Invalid(type, text, "expected hex bytea output (\\x...)");
  }
  std::vector<uint8_t> out;
  out.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    if (!IsHex(text[i]) || !IsHex(text[i + 1])) return Invalid(type, text, "bad hex digit");
    out.push_back(static_cast<uint8_t>(HexVal(text[i]) * 16 + HexVal(text[i + 1])));
  }
  return out;
}

ColumnType ElementType(const ColumnType& array) {
  ColumnType e;
  e.kind = array.element;
  e.pg_type = array.pg_type;
  if (e.pg_type.size() > 2 && e.pg_type.compare(e.pg_type.size() - 2, 2, "[]") == 0) {
    e.pg_type.resize(e.pg_type.size() - 2);
  }
  e.enum_values = array.enum_values;
  return e;
}

// An array element as JSON (bytea elements in PostgreSQL hex form, inside the array text).
Result<json> ArrayElementJson(const Value& v) {
  switch (v.index()) {
    case 0: return json(nullptr);
    case 1: return json(std::get<int64_t>(v));
    case 2: {
      double d = std::get<double>(v);
      if (std::isinf(d)) return json(DoubleToText(d));
      return json(d);
    }
    case 3: return json(std::get<std::string>(v));
    default: {
      const auto& b = std::get<Blob>(v).bytes;
      return json("\\x" + HexEncode(b.data(), b.size()));
    }
  }
}

// Parses one level of a PostgreSQL array literal starting at text[*pos] == '{'.
Result<json> ParseArrayLevel(const ColumnType& element, std::string_view text, size_t* pos) {
  json out = json::array();
  size_t& i = *pos;
  ++i;  // '{'
  auto fail = [&](const char* why) {
    return Status(Code::kInvalidArgument,
                  "invalid array literal \"" + std::string(text.substr(0, 80)) + "\": " + why);
  };
  if (i < text.size() && text[i] == '}') {
    ++i;
    return out;
  }
  while (true) {
    if (i >= text.size()) return fail("unterminated");
    if (text[i] == '{') {
      OUTPOST_ASSIGN_OR_RETURN(json nested, ParseArrayLevel(element, text, pos));
      out.push_back(std::move(nested));
    } else {
      std::string item;
      bool quoted = false;
      if (text[i] == '"') {
        quoted = true;
        ++i;
        while (true) {
          if (i >= text.size()) return fail("unterminated quoted element");
          char c = text[i++];
          if (c == '"') break;
          if (c == '\\') {
            if (i >= text.size()) return fail("dangling backslash");
            c = text[i++];
          }
          item.push_back(c);
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '}') {
          char c = text[i++];
          if (c == '\\' && i < text.size()) c = text[i++];
          item.push_back(c);
        }
        while (!item.empty() && item.back() == ' ') item.pop_back();
      }
      bool is_null =
          !quoted && (item.size() == 4 && (item == "NULL" || item == "null" || item == "Null"));
      if (is_null) {
        out.push_back(nullptr);
      } else if (element.kind == TypeKind::kBoolean) {
        out.push_back(item == "t" || item == "true");
      } else {
        OUTPOST_ASSIGN_OR_RETURN(Value v, PgTextToValue(element, item));
        OUTPOST_ASSIGN_OR_RETURN(json jv, ArrayElementJson(v));
        out.push_back(std::move(jv));
      }
    }
    if (i >= text.size()) return fail("unterminated");
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] == '}') {
      ++i;
      return out;
    }
    return fail("expected ',' or '}'");
  }
}

Status WriteArrayLevel(const ColumnType& element, const json& arr, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& e : arr) {
    if (!first) out->push_back(',');
    first = false;
    if (e.is_array()) {
      OUTPOST_RETURN_IF_ERROR(WriteArrayLevel(element, e, out));
      continue;
    }
    if (e.is_null()) {
      *out += "NULL";
      continue;
    }
    Value v;
    if (e.is_boolean()) {
      v = int64_t{e.get<bool>() ? 1 : 0};
    } else if (e.is_number_integer()) {
      v = e.get<int64_t>();
    } else if (e.is_number_float()) {
      v = e.get<double>();
    } else if (e.is_string()) {
      if (element.kind == TypeKind::kReal) {
        OUTPOST_ASSIGN_OR_RETURN(v, ParseDouble(element, e.get<std::string>()));
      } else if (element.kind == TypeKind::kBytea) {
        OUTPOST_ASSIGN_OR_RETURN(auto bytes, ByteaFromPg(element, e.get<std::string>()));
        v = Blob{std::move(bytes)};
      } else {
        v = e.get<std::string>();
      }
    } else {
      return Status(Code::kInvalidArgument,
                    "array element of " + element.pg_type + " cannot be a JSON object");
    }
    OUTPOST_ASSIGN_OR_RETURN(std::string text, ValueToPgText(element, v));
    out->push_back('"');
    for (char c : text) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
  }
  out->push_back('}');
  return Status::Ok();
}

Status WrongClass(const ColumnType& type, const Value& v) {
  static const char* kNames[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB"};
  return Status(Code::kInvalidArgument, "a " + std::string(kNames[v.index()]) +
                                            " value cannot be stored in a " + type.pg_type +
                                            " column");
}

}  // namespace

Result<Value> PgTextToValue(const ColumnType& type, std::string_view text) {
  switch (type.kind) {
    case TypeKind::kUuid: {
      std::string u = CanonicalUuid(text);
      if (u.empty()) return Invalid(type, text, "not a UUID");
      return Value(std::move(u));
    }
    case TypeKind::kInteger: {
      int64_t n = 0;
      if (!ParseInt64(text, &n)) return Invalid(type, text, "not an integer");
      return Value(n);
    }
    case TypeKind::kNumeric:
      if (!IsNumericText(text)) return Invalid(type, text, "not a decimal number");
      return Value(std::string(text));
    case TypeKind::kReal: {
      OUTPOST_ASSIGN_OR_RETURN(double d, ParseDouble(type, text));
      return Value(d);
    }
    case TypeKind::kBoolean:
      if (text == "t" || text == "true") return Value(int64_t{1});
      if (text == "f" || text == "false") return Value(int64_t{0});
      return Invalid(type, text, "not a boolean");
    case TypeKind::kTimestamp: {
      OUTPOST_ASSIGN_OR_RETURN(std::string s, TimestampFromPg(type, text, false));
      return Value(std::move(s));
    }
    case TypeKind::kTimestamptz: {
      OUTPOST_ASSIGN_OR_RETURN(std::string s, TimestampFromPg(type, text, true));
      return Value(std::move(s));
    }
    case TypeKind::kEnum:
      if (std::find(type.enum_values.begin(), type.enum_values.end(), text) ==
          type.enum_values.end()) {
        return Invalid(type, text, "not a label of the enum");
      }
      return Value(std::string(text));
    case TypeKind::kArray: {
      OUTPOST_ASSIGN_OR_RETURN(std::string j, PgArrayToJson(type, text));
      return Value(std::move(j));
    }
    case TypeKind::kBytea: {
      OUTPOST_ASSIGN_OR_RETURN(auto bytes, ByteaFromPg(type, text));
      return Value(Blob{std::move(bytes)});
    }
    case TypeKind::kText:
    case TypeKind::kCitext:
    case TypeKind::kDate:
    case TypeKind::kJson:
    case TypeKind::kInet:
    case TypeKind::kOtherText: return Value(std::string(text));
  }
  return Status(Code::kInternal, "unhandled type kind");
}

Result<std::string> ValueToPgText(const ColumnType& type, const Value& value) {
  if (IsNull(value)) return Status(Code::kInvalidArgument, "NULL has no PostgreSQL text form");
  switch (type.kind) {
    case TypeKind::kInteger:
      if (auto* n = std::get_if<int64_t>(&value)) return std::to_string(*n);
      return WrongClass(type, value);
    case TypeKind::kBoolean:
      if (auto* n = std::get_if<int64_t>(&value)) {
        if (*n == 0 || *n == 1) return std::string(*n ? "t" : "f");
        return Status(Code::kInvalidArgument,
                      "boolean column holds " + std::to_string(*n) + " (expected 0 or 1)");
      }
      return WrongClass(type, value);
    case TypeKind::kReal:
      if (auto* d = std::get_if<double>(&value)) return DoubleToText(*d);
      if (auto* n = std::get_if<int64_t>(&value)) return std::to_string(*n);
      return WrongClass(type, value);
    case TypeKind::kNumeric:
      if (auto* s = std::get_if<std::string>(&value)) {
        if (!IsNumericText(*s)) return Invalid(type, *s, "not a decimal number");
        return *s;
      }
      if (auto* n = std::get_if<int64_t>(&value)) return std::to_string(*n);
      if (auto* d = std::get_if<double>(&value)) {
        if (std::isinf(*d)) return Invalid(type, DoubleToText(*d), "not a finite number");
        return DoubleToText(*d);
      }
      return WrongClass(type, value);
    case TypeKind::kBytea:
      if (auto* b = std::get_if<Blob>(&value)) {
        return "\\x" + HexEncode(b->bytes.data(), b->bytes.size());
      }
      return WrongClass(type, value);
    case TypeKind::kUuid:
      if (auto* s = std::get_if<std::string>(&value)) {
        std::string u = CanonicalUuid(*s);
        if (u.empty()) return Invalid(type, *s, "not a UUID");
        return u;
      }
      return WrongClass(type, value);
    case TypeKind::kArray:
      if (auto* s = std::get_if<std::string>(&value)) return JsonToPgArray(type, *s);
      return WrongClass(type, value);
    case TypeKind::kEnum:
      if (auto* s = std::get_if<std::string>(&value)) {
        if (std::find(type.enum_values.begin(), type.enum_values.end(), *s) ==
            type.enum_values.end()) {
          return Invalid(type, *s, "not a label of the enum");
        }
        return *s;
      }
      return WrongClass(type, value);
    case TypeKind::kText:
    case TypeKind::kCitext:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz:
    case TypeKind::kJson:
    case TypeKind::kInet:
    case TypeKind::kOtherText:
      if (auto* s = std::get_if<std::string>(&value)) return *s;
      return WrongClass(type, value);
  }
  return Status(Code::kInternal, "unhandled type kind");
}

Result<std::string> PgArrayToJson(const ColumnType& type, std::string_view literal) {
  if (literal.empty() || literal[0] != '{') {
    if (!literal.empty() && literal[0] == '[') {
      return Status(Code::kUnsupported, "arrays with explicit bounds (" +
                                            std::string(literal.substr(0, 40)) +
                                            ") cannot be mirrored");
    }
    return Invalid(type, literal, "not an array literal");
  }
  size_t pos = 0;
  OUTPOST_ASSIGN_OR_RETURN(json j, ParseArrayLevel(ElementType(type), literal, &pos));
  if (pos != literal.size()) return Invalid(type, literal, "trailing characters");
  return j.dump();
}

Result<std::string> JsonToPgArray(const ColumnType& type, std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Invalid(type, json_text, "expected a JSON array");
  }
  std::string out;
  OUTPOST_RETURN_IF_ERROR(WriteArrayLevel(ElementType(type), j, &out));
  return out;
}

Result<Value> ValueFromJson(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return Value(Null{});
    case json::value_t::boolean: return Value(int64_t{j.get<bool>() ? 1 : 0});
    case json::value_t::number_integer: return Value(j.get<int64_t>());
    case json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) {
        return Status(Code::kInvalidArgument,
                      "integer " + j.dump() + " is out of the 64-bit range");
      }
      return Value(static_cast<int64_t>(u));
    }
    case json::value_t::number_float: return Value(j.get<double>());
    case json::value_t::string: return Value(j.get<std::string>());
    case json::value_t::object:
      if (j.size() == 1 && j.contains("$blob")) {
        const json& b = j["$blob"];
        if (!b.is_string()) {
          return Status(Code::kInvalidArgument, "\"$blob\" must be a base64 string");
        }
        OUTPOST_ASSIGN_OR_RETURN(auto bytes, Base64Decode(b.get<std::string>()));
        return Value(Blob{std::move(bytes)});
      }
      return Value(j.dump());
    default: return Value(j.dump());
  }
}

Result<Value> ValueFromJson(const ColumnType& type, const json& j) {
  if (j.is_null()) return Value(Null{});
  auto wrong = [&]() {
    std::string shown = j.dump();
    if (shown.size() > 80) shown = shown.substr(0, 80) + "...";
    return Status(Code::kInvalidArgument, "JSON " + std::string(j.type_name()) + " " + shown +
                                              " is not a " + type.pg_type + " value");
  };
  Value v;
  switch (type.kind) {
    case TypeKind::kBoolean:
      if (j.is_boolean()) return Value(int64_t{j.get<bool>() ? 1 : 0});
      if (!j.is_number_integer()) return wrong();
      break;
    case TypeKind::kInteger:
      if (!j.is_number_integer()) return wrong();
      break;
    case TypeKind::kReal:
      if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (s == "NaN") {
          return Status(Code::kUnsupported, "NaN in " + type.pg_type + " cannot be stored locally");
        }
        if (s != "Infinity" && s != "-Infinity") return wrong();
        return Value(s[0] == '-' ? -HUGE_VAL : HUGE_VAL);
      }
      if (!j.is_number()) return wrong();
      break;
    case TypeKind::kNumeric:
      if (!j.is_string() && !j.is_number()) return wrong();
      break;
    case TypeKind::kBytea:
      if (!j.is_object()) return wrong();
      break;
    case TypeKind::kJson:
      if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (!json::accept(s)) {
          return Status(Code::kInvalidArgument, "a " + type.pg_type + " value must be JSON text");
        }
        return Value(s);
      }
      return Value(j.dump());
    case TypeKind::kArray:
      if (j.is_array()) {
        v = j.dump();
        OUTPOST_RETURN_IF_ERROR(ValueToPgText(type, v).status());
        return v;
      }
      if (!j.is_string()) return wrong();
      break;
    case TypeKind::kUuid: {
      if (!j.is_string()) return wrong();
      OUTPOST_ASSIGN_OR_RETURN(std::string u, ValueToPgText(type, Value(j.get<std::string>())));
      return Value(std::move(u));
    }
    case TypeKind::kText:
    case TypeKind::kCitext:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz:
    case TypeKind::kEnum:
    case TypeKind::kInet:
    case TypeKind::kOtherText:
      if (!j.is_string()) return wrong();
      break;
  }
  OUTPOST_ASSIGN_OR_RETURN(v, ValueFromJson(j));
  OUTPOST_RETURN_IF_ERROR(ValueToPgText(type, v).status());
  return v;
}

namespace {

// The one definition of the JSON form of a local value, written to any sink: nlohmann::json
// (ValueToJson) or JSON text (AppendValueJson). A sink has Null(), Bool(b), Integer(i), Real(d)
// for finite reals, String(text) and Blob(base64).
template <typename Sink>
void EmitValueJson(const ValueView& v, bool boolean, Sink& sink) {
  switch (v.kind) {
    case ValueView::Kind::kNull: sink.Null(); return;
    case ValueView::Kind::kInteger:
      if (boolean && (v.integer == 0 || v.integer == 1)) {
        sink.Bool(v.integer == 1);
      } else {
        sink.Integer(v.integer);
      }
      return;
    case ValueView::Kind::kReal:
      if (std::isinf(v.real)) {
        sink.String(v.real > 0 ? "Infinity" : "-Infinity");
      } else {
        sink.Real(v.real);
      }
      return;
    case ValueView::Kind::kText: sink.String(v.bytes); return;
    case ValueView::Kind::kBlob:
      sink.Blob(Base64Encode(reinterpret_cast<const uint8_t*>(v.bytes.data()), v.bytes.size()));
      return;
  }
}

struct JsonSink {
  json out;
  void Null() { out = nullptr; }
  void Bool(bool b) { out = b; }
  void Integer(int64_t i) { out = i; }
  void Real(double d) { out = d; }
  void String(std::string_view s) { out = std::string(s); }
  void Blob(std::string b64) { out = json{{"$blob", std::move(b64)}}; }
};

struct TextSink {
  std::string* out;
  void Null() { out->append("null"); }
  void Bool(bool b) { out->append(b ? "true" : "false"); }
  void Integer(int64_t i) {
    char buf[24];
    out->append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, i).ptr - buf));
  }
  void Real(double d) {
    // nlohmann::json's form (the shortest text that reads back as the same double, "1.0" rather
    // than "1"), so that the two sinks agree byte for byte. (std::to_chars for doubles is missing
    // from the WebAssembly build's C++ library.)
    out->append(json(d).dump());
  }
  void String(std::string_view s) { AppendJsonString(s, out); }
  void Blob(const std::string& b64) {
    out->append("{\"$blob\":\"");
    out->append(b64);
    out->append("\"}");
  }
};

}  // namespace

ValueView ValueView::Of(const Value& v) {
  switch (v.index()) {
    case 1: return MakeInteger(std::get<int64_t>(v));
    case 2: return MakeReal(std::get<double>(v));
    case 3: return MakeText(std::get<std::string>(v));
    case 4: {
      const auto& b = std::get<outpost::Blob>(v).bytes;
      return MakeBlob(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    }
    default: return MakeNull();
  }
}

Value ValueView::ToValue() const {
  switch (kind) {
    case Kind::kNull: return outpost::Null{};
    case Kind::kInteger: return integer;
    case Kind::kReal: return real;
    case Kind::kText: return std::string(bytes);
    case Kind::kBlob: return outpost::Blob{std::vector<uint8_t>(bytes.begin(), bytes.end())};
  }
  return outpost::Null{};
}

json ValueToJson(const ValueView& value, bool boolean) {
  JsonSink sink;
  EmitValueJson(value, boolean, sink);
  return std::move(sink.out);
}

void AppendValueJson(const ValueView& value, bool boolean, std::string* out) {
  TextSink sink{out};
  EmitValueJson(value, boolean, sink);
}

json ValueToJson(const ColumnType& type, const Value& value) {
  return ValueToJson(ValueView::Of(value), type.kind == TypeKind::kBoolean);
}

Result<std::optional<std::string>> JsonToPgText(const ColumnType& type, const json& j) {
  OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(type, j));
  if (IsNull(v)) return std::optional<std::string>();
  OUTPOST_ASSIGN_OR_RETURN(std::string text, ValueToPgText(type, v));
  return std::optional<std::string>(std::move(text));
}

Result<json> PgTextToJson(const ColumnType& type, std::string_view text) {
  OUTPOST_ASSIGN_OR_RETURN(Value v, PgTextToValue(type, text));
  return ValueToJson(type, v);
}

}  // namespace outpost
