#include "rows.h"

#include <cmath>
#include <cstring>

#include "outpost/value.h"

namespace outpost::server {

namespace {

using nlohmann::json;

constexpr char kHexDigits[] = "0123456789abcdef";

// True for the bytes a JSON string may carry unescaped.
struct SafeTable {
  bool safe[256];
  constexpr SafeTable() : safe() {
    for (int c = 0; c < 256; ++c) safe[c] = c >= 0x20 && c != '"' && c != '\\';
  }
};
constexpr SafeTable kSafe;

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
  const Value& value = *v;
  switch (value.index()) {
    case 0: out->append("null"); break;
    case 1: {
      int64_t n = std::get<int64_t>(value);
      if (type.kind == TypeKind::kBoolean && (n == 0 || n == 1)) {
        out->append(n ? "true" : "false");
      } else {
        out->append(std::to_string(n));
      }
      break;
    }
    case 2: {
      double d = std::get<double>(value);
      if (std::isinf(d)) {
        out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else {
        out->append(json(d).dump());
      }
      break;
    }
    case 3: AppendJsonString(std::get<std::string>(value), out); break;
    default: {
      const auto& b = std::get<Blob>(value).bytes;
      out->append("{\"$blob\":\"");
      out->append(Base64Encode(b.data(), b.size()));
      out->append("\"}");
    }
  }
  return Status::Ok();
}

// True when `s` holds a character that a JSON string must escape.
bool NeedsEscape(std::string_view s) {
  for (char c : s) {
    if (!kSafe.safe[static_cast<unsigned char>(c)]) return true;
  }
  return false;
}

void AppendQuotedRaw(std::string_view s, std::string* out) {
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const char* run = p;
    while (p < end && kSafe.safe[static_cast<unsigned char>(*p)]) ++p;
    if (p > run) out->append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    unsigned char c = static_cast<unsigned char>(*p++);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        char esc[7] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 15], 0};
        out->append(esc, 6);
      }
    }
  }
  out->push_back('"');
}

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
      if (text.empty() || NeedsEscape(text)) {
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
          (tz && text.substr(text.size() - 3) != "+00") || NeedsEscape(text)) {
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
      Status st = AppendPgValueJson(columns[static_cast<size_t>(c)].type, text, out);
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

std::string ViewColumnsSql(const SyncedTable& table, std::string_view alias) {
  std::string out;
  for (const auto& c : table.view->columns) {
    if (!out.empty()) out += ", ";
    out += std::string(alias) + "." + PgQuoteIdent(c.name);
  }
  return out;
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
