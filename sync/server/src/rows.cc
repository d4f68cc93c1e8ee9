#include "rows.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "outpost/civil_time.h"
#include "outpost/value.h"

namespace outpost::server {

namespace {

using nlohmann::json;

constexpr char kHexDigits[] = "0123456789abcdef";

// PostgreSQL's real output (shortest round trip, extra_float_digits 1) is a JSON number unless it
// is NaN/Infinity; check the JSON number grammar strictly anyway.
bool IsJsonNumber(std::string_view t) {
  size_t i = 0, n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i >= n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (t[i] >= '1' && t[i] <= '9') {
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    size_t d = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == d) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    size_t d = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == d) return false;
  }
  return i == n;
}

bool IsPlainInteger(std::string_view t) {
  size_t i = (!t.empty() && t[0] == '-') ? 1 : 0;
  if (i >= t.size() || t.size() - i > 19) return false;
  if (t[i] == '0' && t.size() - i > 1) return false;
  for (; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  return true;
}

// The slow, general path: value.h's conversion, then JSON text.
Status AppendViaValue(const ColumnType& type, std::string_view text, std::string* out) {
  auto v = PgTextToValue(type, text);
  if (!v.ok()) {
    if (v.status().code() == Code::kUnsupported && type.kind == TypeKind::kReal) {
      out->append("null");  // NaN: SQLite would store NULL
      return Status::Ok();
    }
    return v.status();
  }
  AppendValueJson(ValueView::Of(*v), type.kind == TypeKind::kBoolean, out);
  return Status::Ok();
}

void AppendQuotedRaw(std::string_view s, std::string* out) {
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

// --- Binary values (RowFormat::kBinary) --------------------------------------------------------

// Kinds read in PostgreSQL's binary form.
bool ReadInBinary(TypeKind kind) {
  switch (kind) {
    case TypeKind::kUuid:
    case TypeKind::kInteger:
    case TypeKind::kBoolean:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz:
    case TypeKind::kText:
    case TypeKind::kCitext:
    case TypeKind::kEnum: return true;
    default: return false;
  }
}

// Kinds whose binary form is their text form (textsend, bpcharsend, namesend, citextsend and
// enum_send send the same bytes as the output function, in the client encoding).
bool BinaryIsText(TypeKind kind) {
  return kind == TypeKind::kText || kind == TypeKind::kCitext || kind == TypeKind::kEnum;
}

// Kinds read as `col::text` in a binary result: types with no function cast to text in pg_cast,
// so the cast is an I/O conversion through the type's output function.
bool ReadAsTextCast(TypeKind kind) {
  switch (kind) {
    case TypeKind::kNumeric:
    case TypeKind::kReal:
    case TypeKind::kJson:
    case TypeKind::kArray:
    case TypeKind::kBytea: return true;
    default: return false;
  }
}

int64_t ReadBigEndianSigned(std::string_view b) {
  uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  const unsigned bits = static_cast<unsigned>(b.size() * 8);
  if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~uint64_t{0} << bits;  // sign-extend
  return static_cast<int64_t>(v);
}

// PostgreSQL's infinities are the minimum and maximum of the binary value's type `T`.
template <typename T>
const char* InfinityText(int64_t v) {
  if (v == std::numeric_limits<T>::min()) return "-infinity";
  if (v == std::numeric_limits<T>::max()) return "infinity";
  return nullptr;
}

void AppendZeroPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  for (int n = static_cast<int>(r.ptr - buf); n < width; ++n) out->push_back('0');
  out->append(buf, r.ptr);
}

// "YYYY-MM-DD" as PostgreSQL's ISO DateStyle prints it (at least 4 year digits; the year of a BC
// date counted from 1, the caller appending " BC").
void AppendYmd(int year, int month, int day, std::string* out) {
  AppendZeroPadded(year > 0 ? year : 1 - year, 4, out);
  out->push_back('-');
  AppendZeroPadded(month, 2, out);
  out->push_back('-');
  AppendZeroPadded(day, 2, out);
}

char* PutDigits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// The client JSON of binary value `b` of a column of a kind with ReadInBinary and not
// BinaryIsText, appended straight from the binary form for the common values: the same JSON as
// AppendPgValueJson(BinaryToPgText(b)). False (nothing appended) for the others (wrong sizes,
// infinities, years outside 1..9999), which take that general path.
bool AppendBinaryJsonFast(TypeKind kind, std::string_view b, std::string* out) {
  char buf[40];
  char* p = buf;
  switch (kind) {
    case TypeKind::kUuid: {
      if (b.size() != 16) return false;
      *p++ = '"';
      for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        const auto c = static_cast<unsigned char>(b[i]);
        *p++ = kHexDigits[c >> 4];
        *p++ = kHexDigits[c & 15];
      }
      *p++ = '"';
      break;
    }
    case TypeKind::kInteger: {
      if (b.size() != 2 && b.size() != 4 && b.size() != 8) return false;
      p = std::to_chars(buf, buf + sizeof buf, ReadBigEndianSigned(b)).ptr;
      break;
    }
    case TypeKind::kBoolean:
      if (b.size() != 1) return false;
      out->append(b[0] ? "true" : "false");
      return true;
    case TypeKind::kDate: {
      if (b.size() != 4) return false;
      const int64_t days = ReadBigEndianSigned(b);
      // 0001-01-01 .. 9999-12-31
      constexpr int64_t kLow = 1721426 - kPostgresEpochJulianDay,
                        kHigh = 5373484 - kPostgresEpochJulianDay;
      CivilTime c;
      if (days < kLow || days > kHigh || !CivilFromDays(days, &c)) return false;
      *p++ = '"';
      p = PutDigits(p, c.year, 4);
      *p++ = '-';
      p = PutDigits(p, c.month, 2);
      *p++ = '-';
      p = PutDigits(p, c.day, 2);
      *p++ = '"';
      break;
    }
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz: {
      if (b.size() != 8) return false;
      const int64_t t = ReadBigEndianSigned(b);
      // 0001-01-01 .. 9999-12-31
      constexpr int64_t kLow = -63082281600LL * 1000000, kHigh = 252455616000LL * 1000000;
      CivilTime c;
      if (t < kLow || t >= kHigh || !CivilFromMicros(t, &c)) return false;
      const int64_t secs = c.second_of_day, micros = c.micros;
      *p++ = '"';
      p = PutDigits(p, c.year, 4);
      *p++ = '-';
      p = PutDigits(p, c.month, 2);
      *p++ = '-';
      p = PutDigits(p, c.day, 2);
      *p++ = 'T';
      p = PutDigits(p, secs / 3600, 2);
      *p++ = ':';
      p = PutDigits(p, secs / 60 % 60, 2);
      *p++ = ':';
      p = PutDigits(p, secs % 60, 2);
      if (micros != 0) {
        *p++ = '.';
        p = PutDigits(p, micros, 6);
        while (p[-1] == '0') --p;
      }
      if (kind == TypeKind::kTimestamptz) *p++ = 'Z';
      *p++ = '"';
      break;
    }
    default: return false;
  }
  out->append(buf, static_cast<size_t>(p - buf));
  return true;
}

// The text PostgreSQL prints (DateStyle ISO, TimeZone UTC) for binary value `b` of a column of
// a kind with ReadInBinary and not BinaryIsText.
Status BinaryToPgText(const ColumnType& type, std::string_view b, std::string* text) {
  text->clear();
  auto wrong_size = [&]() {
    return Status(Code::kInternal, "binary " + std::string(TypeKindName(type.kind)) + " value of " +
                                       std::to_string(b.size()) + " bytes");
  };
  switch (type.kind) {
    case TypeKind::kUuid: {
      if (b.size() != 16) return wrong_size();
      for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text->push_back('-');
        const auto c = static_cast<unsigned char>(b[i]);
        text->push_back(kHexDigits[c >> 4]);
        text->push_back(kHexDigits[c & 15]);
      }
      return Status::Ok();
    }
    case TypeKind::kInteger: {
      if (b.size() != 2 && b.size() != 4 && b.size() != 8) return wrong_size();
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, ReadBigEndianSigned(b));
      text->append(buf, r.ptr);
      return Status::Ok();
    }
    case TypeKind::kBoolean:
      if (b.size() != 1) return wrong_size();
      text->push_back(b[0] ? 't' : 'f');
      return Status::Ok();
    case TypeKind::kDate: {
      if (b.size() != 4) return wrong_size();
      const int64_t days = ReadBigEndianSigned(b);
      if (const char* infinity = InfinityText<int32_t>(days)) {
        text->append(infinity);
        return Status::Ok();
      }
      CivilTime c;
      if (!CivilFromDays(days, &c)) return Status(Code::kInternal, "binary date out of range");
      AppendYmd(c.year, c.month, c.day, text);
      if (c.year <= 0) text->append(" BC");
      return Status::Ok();
    }
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz: {
      if (b.size() != 8) return wrong_size();
      const int64_t t = ReadBigEndianSigned(b);
      if (const char* infinity = InfinityText<int64_t>(t)) {
        text->append(infinity);
        return Status::Ok();
      }
      CivilTime c;
      if (!CivilFromMicros(t, &c)) {
        return Status(Code::kInternal, "binary timestamp out of range");
      }
      AppendYmd(c.year, c.month, c.day, text);
      const int64_t secs = c.second_of_day, micros = c.micros;
      text->push_back(' ');
      AppendZeroPadded(secs / 3600, 2, text);
      text->push_back(':');
      AppendZeroPadded(secs / 60 % 60, 2, text);
      text->push_back(':');
      AppendZeroPadded(secs % 60, 2, text);
      if (micros != 0) {
        // Six digits, trailing zeros dropped (PostgreSQL's AppendSeconds).
        text->push_back('.');
        AppendZeroPadded(micros, 6, text);
        while (text->back() == '0') text->pop_back();
      }
      if (type.kind == TypeKind::kTimestamptz) text->append("+00");
      if (c.year <= 0) text->append(" BC");
      return Status::Ok();
    }
    default:
      return Status(Code::kInternal,
                    "no binary decoder for " + std::string(TypeKindName(type.kind)));
  }
}

}  // namespace

Status AppendPgValueJson(const ColumnType& type, std::string_view text, std::string* out) {
  switch (type.kind) {
    case TypeKind::kUuid: {
      // PostgreSQL prints uuids in canonical lowercase form.
      bool ok = text.size() == 36;
      for (size_t i = 0; ok && i < 36; ++i) {
        char c = text[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        ok = dash ? c == '-' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
      }
      if (!ok) return AppendViaValue(type, text, out);
      AppendQuotedRaw(text, out);
      return Status::Ok();
    }
    case TypeKind::kInteger:
      if (!IsPlainInteger(text)) return AppendViaValue(type, text, out);
      out->append(text);
      return Status::Ok();
    case TypeKind::kBoolean:
      if (text == "t") {
        out->append("true");
        return Status::Ok();
      }
      if (text == "f") {
        out->append("false");
        return Status::Ok();
      }
      return AppendViaValue(type, text, out);
    case TypeKind::kReal:
      if (!IsJsonNumber(text)) return AppendViaValue(type, text, out);
      out->append(text);
      return Status::Ok();
    case TypeKind::kNumeric:
      // Digits, sign, point, exponent, NaN, Infinity: nothing to escape.
      if (text.empty() || JsonStringNeedsEscape(text)) {
        return AppendViaValue(type, text, out);
      }
      AppendQuotedRaw(text, out);
      return Status::Ok();
    case TypeKind::kTimestamp:
    case TypeKind::kTimestamptz: {
      // "YYYY-MM-DD HH:MM:SS[.f][+00]" -> "YYYY-MM-DDTHH:MM:SS[.f][Z]"; BC, infinity and other
      // rarities take the general path.
      bool tz = type.kind == TypeKind::kTimestamptz;
      if (text.size() < 19 || text[10] != ' ' || text[4] != '-' || text.back() == 'C' ||
          (tz && text.substr(text.size() - 3) != "+00") || JsonStringNeedsEscape(text)) {
        return AppendViaValue(type, text, out);
      }
      out->push_back('"');
      out->append(text.substr(0, 10));
      out->push_back('T');
      if (tz) {
        out->append(text.substr(11, text.size() - 14));
        out->push_back('Z');
      } else {
        out->append(text.substr(11));
      }
      out->push_back('"');
      return Status::Ok();
    }
    case TypeKind::kDate:
    case TypeKind::kText:
    case TypeKind::kCitext:
    case TypeKind::kJson:
    case TypeKind::kInet:
    case TypeKind::kEnum:
    case TypeKind::kOtherText: AppendJsonString(text, out); return Status::Ok();
    case TypeKind::kArray: {
      OUTPOST_ASSIGN_OR_RETURN(std::string j, PgArrayToJson(type, text));
      AppendJsonString(j, out);
      return Status::Ok();
    }
    case TypeKind::kBytea: {
      if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
        return AppendViaValue(type, text, out);
      }
      std::vector<uint8_t> bytes;
      bytes.reserve((text.size() - 2) / 2);
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      for (size_t i = 2; i < text.size(); i += 2) {
        int hi = hex(text[i]), lo = hex(text[i + 1]);
        if (hi < 0 || lo < 0) return AppendViaValue(type, text, out);
        bytes.push_back(static_cast<uint8_t>(hi * 16 + lo));
      }
      out->append("{\"$blob\":\"");
      out->append(Base64Encode(bytes.data(), bytes.size()));
      out->append("\"}");
      return Status::Ok();
    }
  }
  return AppendViaValue(type, text, out);
}

Status AppendRowsJson(const SyncedTable& table, const PgResult& result, int first_col,
                      std::string* out, const FlushFn* flush) {
  const auto& columns = table.view->columns;
  const int ncols = static_cast<int>(columns.size());
  if (result.columns() < first_col + ncols) {
    return Status(Code::kInternal, "result has too few columns for " + table.name());
  }
  PGresult* r = result.raw();
  const int nrows = result.rows();
  // Per column: true when its values come in binary and must be turned into text first.
  std::vector<char> decode(static_cast<size_t>(ncols));
  for (int c = 0; c < ncols; ++c) {
    const TypeKind kind = columns[static_cast<size_t>(c)].type.kind;
    decode[static_cast<size_t>(c)] =
        PQfformat(r, first_col + c) == 1 && ReadInBinary(kind) && !BinaryIsText(kind);
  }
  std::string scratch;
  for (int row = 0; row < nrows; ++row) {
    if (row) out->push_back(',');
    out->push_back('[');
    for (int c = 0; c < ncols; ++c) {
      if (c) out->push_back(',');
      int col = first_col + c;
      if (PQgetisnull(r, row, col)) {
        out->append("null");
        continue;
      }
      std::string_view text(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
      const ColumnType& type = columns[static_cast<size_t>(c)].type;
      if (decode[static_cast<size_t>(c)]) {
        if (AppendBinaryJsonFast(type.kind, text, out)) continue;
        Status st = BinaryToPgText(type, text, &scratch);
        if (!st.ok())
          return st.WithContext(table.name() + "." + columns[static_cast<size_t>(c)].name);
        text = scratch;
      }
      Status st = AppendPgValueJson(type, text, out);
      if (!st.ok())
        return st.WithContext(table.name() + "." + columns[static_cast<size_t>(c)].name);
    }
    out->push_back(']');
    if (flush && out->size() >= kFlushBytes) OUTPOST_RETURN_IF_ERROR((*flush)(out));
  }
  return Status::Ok();
}

Status AppendPkJson(const SyncedTable& table, const json& pk_text, std::string* out) {
  const auto& pk = table.view->primary_key;
  if (!pk_text.is_array() || pk_text.size() != pk.size()) {
    return Status(Code::kInternal, "change log key of " + table.name() + " has the wrong arity");
  }
  out->push_back('[');
  for (size_t i = 0; i < pk.size(); ++i) {
    if (i) out->push_back(',');
    const json& v = pk_text[i];
    if (v.is_null()) {
      out->append("null");
    } else if (v.is_string()) {
      const Column* c = table.view->FindColumn(pk[i]);
      if (!c) return Status(Code::kInternal, "key column " + pk[i] + " missing");
      OUTPOST_RETURN_IF_ERROR(AppendPgValueJson(c->type, v.get_ref<const std::string&>(), out));
    } else {
      out->append(v.dump());
    }
  }
  out->push_back(']');
  return Status::Ok();
}

RowFormat RowFormatFor(const SyncedTable& table) {
  for (const auto& c : table.view->columns) {
    if (!ReadInBinary(c.type.kind) && !ReadAsTextCast(c.type.kind)) return RowFormat::kText;
  }
  return RowFormat::kBinary;
}

std::string ViewColumnsSql(const SyncedTable& table, std::string_view alias, RowFormat format) {
  std::string out;
  for (const auto& c : table.view->columns) {
    if (!out.empty()) out += ", ";
    out += std::string(alias) + "." + QuoteIdent(c.name);
    if (format == RowFormat::kBinary && !ReadInBinary(c.type.kind)) out += "::text";
  }
  return out;
}

Status PgValueText(const ColumnType& type, const PgResult& result, int row, int col,
                   std::string* text) {
  std::string_view v = result.get(row, col);
  if (PQfformat(result.raw(), col) == 1 && ReadInBinary(type.kind) && !BinaryIsText(type.kind)) {
    return BinaryToPgText(type, v, text);
  }
  text->assign(v);
  return Status::Ok();
}

std::string ViewColumnsJson(const SyncedTable& table) {
  std::string out = "[";
  for (const auto& c : table.view->columns) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(c.name, &out);
  }
  out.push_back(']');
  return out;
}

Result<std::string> RowsByPkSql(const ServerModel& model, const SyncedTable& table,
                                const Principal& who, PgParams* params) {
  params->push_back(std::nullopt);  // $1: the keys
  OUTPOST_ASSIGN_OR_RETURN(std::string scope, model.ScopePredicate(table, "t", who, params));
  return "SELECT k.ord, " + ViewColumnsSql(table, "t") +
         " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS k(pk, ord) JOIN " + table.qname +
         " t ON " + model.PkMatchExpression(table, "t", "k.pk") + " WHERE " + scope;
}

Result<json> FetchRows(PgConnection& conn, const ServerModel& model, const SyncedTable& table,
                       const Principal& who, const std::vector<json>& pks) {
  json answer = json::array();
  if (pks.empty()) return answer;
  const size_t arity = table.view->primary_key.size();
  json keys = json::array();
  for (const auto& pk : pks) {
    if (!pk.is_array() || pk.size() != arity) {
      return Status(Code::kInvalidArgument, "a primary key of \"" + table.name() + "\" must be " +
                                                "an array of " + std::to_string(arity) + " values");
    }
    keys.push_back(pk);
    answer.push_back(nullptr);
  }
  PgParams params;
  OUTPOST_ASSIGN_OR_RETURN(std::string sql, RowsByPkSql(model, table, who, &params));
  params[0] = keys.dump();
  OUTPOST_ASSIGN_OR_RETURN(PgResult r, conn.Exec(sql, params));
  const auto& columns = table.view->columns;
  std::string text;
  for (int row = 0; row < r.rows(); ++row) {
    size_t ord = std::stoull(std::string(r.get(row, 0)));
    if (ord < 1 || ord > answer.size()) return Status(Code::kInternal, "bad key position");
    text.clear();
    text.push_back('{');
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c) text.push_back(',');
      AppendJsonString(columns[c].name, &text);
      text.push_back(':');
      int col = static_cast<int>(c) + 1;
      if (r.is_null(row, col)) {
        text.append("null");
      } else {
        Status st = AppendPgValueJson(columns[c].type, r.get(row, col), &text);
        if (!st.ok()) return st.WithContext(table.name() + "." + columns[c].name);
      }
    }
    text.push_back('}');
    json row_json = json::parse(text, nullptr, false);
    if (row_json.is_discarded())
      return Status(Code::kInternal, "row of " + table.name() + " is not valid JSON");
    answer[ord - 1] = std::move(row_json);
  }
  return answer;
}

}  // namespace outpost::server
