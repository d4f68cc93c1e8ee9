// GET /v1/pull: the query and the answer's lines (outpost/protocol_pull.h).
#include <charconv>
#include <cmath>

#include "json_scan.h"
#include "outpost/encoding.h"
#include "outpost/protocol_pull.h"

namespace outpost::protocol {

namespace {

// Percent-encodes everything but unreserved characters (and ':', which cursors and versions
// never need escaped).
std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool ParseSmallInt(const std::string& s, long long* out) {
  if (s.empty() || s.size() > 12) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Status BadLine(const std::string& what) {
  return Status(Code::kMalformedAnswer, "pull answer: " + what);
}

// Kinds stored as text locally: a number the server wrote for them is their text.
bool IsTextKind(TypeKind k) {
  return k != TypeKind::kInteger && k != TypeKind::kBoolean && k != TypeKind::kReal &&
         k != TypeKind::kBytea;
}

}  // namespace

std::string EncodePullTarget(const PullQuery& query) {
  std::string target = std::string(kPullPath) + "?schema=" + QueryEscape(query.schema);
  if (query.cursor) target += "&cursor=" + QueryEscape(*query.cursor);
  if (query.limit) target += "&limit=" + std::to_string(*query.limit);
  if (query.wait_seconds > 0) target += "&wait=" + std::to_string(query.wait_seconds);
  if (query.client_id) target += "&client=" + QueryEscape(*query.client_id);
  return target;
}

Result<PullQuery> DecodePullQuery(
    const std::function<std::optional<std::string>(std::string_view name)>& param) {
  PullQuery q;
  auto schema = param("schema");
  if (!schema || schema->empty()) {
    return Status(Code::kMalformedRequest, "the schema parameter is required");
  }
  q.schema = std::move(*schema);
  q.cursor = param("cursor");
  if (auto limit = param("limit")) {
    long long v = 0;
    if (!ParseSmallInt(*limit, &v) || v < 1 || v > static_cast<long long>(kMaxPullLimit)) {
      return Status(Code::kMalformedRequest,
                    "limit must be an integer from 1 to " + std::to_string(kMaxPullLimit));
    }
    q.limit = static_cast<size_t>(v);
  }
  if (auto wait = param("wait")) {
    long long v = 0;
    if (!ParseSmallInt(*wait, &v) || v < 0 || v > kMaxPullWaitSeconds) {
      return Status(Code::kMalformedRequest,
                    "wait must be an integer from 0 to " + std::to_string(kMaxPullWaitSeconds));
    }
    q.wait_seconds = static_cast<int>(v);
  }
  if (auto client = param("client")) {
    if (client->empty() || client->size() > kMaxClientIdBytes) {
      return Status(Code::kMalformedRequest,
                    "client must be 1 to " + std::to_string(kMaxClientIdBytes) + " bytes");
    }
    q.client_id = std::move(*client);
  }
  return q;
}

void AppendResetLine(std::string* out) {
  out->append("{\"type\":\"reset\"}\n");
}

void AppendRowsLineStart(std::string_view table, std::string_view columns_json, std::string* out) {
  out->append("{\"type\":\"rows\",\"table\":");
  AppendJsonString(table, out);
  out->append(",\"columns\":");
  out->append(columns_json);
  out->append(",\"rows\":[");
}

void AppendDeletesLineStart(std::string_view table, std::string* out) {
  out->append("{\"type\":\"deletes\",\"table\":");
  AppendJsonString(table, out);
  out->append(",\"keys\":[");
}

void AppendArrayLineEnd(std::string* out) {
  out->append("]}\n");
}

void AppendCursorLine(std::string_view cursor, bool bootstrap, bool more,
                      std::optional<uint64_t> total, std::string* out) {
  out->append("{\"type\":\"cursor\",\"cursor\":");
  AppendJsonString(cursor, out);
  out->append(bootstrap ? ",\"bootstrap\":true" : ",\"bootstrap\":false");
  if (total) out->append(",\"total\":" + std::to_string(*total));
  out->append(more ? ",\"more\":true}\n" : ",\"more\":false}\n");
}

Result<PullLine> ReadPullLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  PullLine line;
  if (text.empty()) return line;
  if (text.size() > kMaxPullLineBytes) {
    return BadLine("a line of " + std::to_string(text.size()) + " bytes (limit " +
                   std::to_string(kMaxPullLineBytes) + ")");
  }
  JsonScanner sc(text);
  std::string type, scratch;
  bool has_cursor = false;
  OUTPOST_RETURN_IF_ERROR(sc.Expect('{'));
  if (!sc.Consume('}')) {
    do {
      OUTPOST_ASSIGN_OR_RETURN(std::string_view key_view, sc.String(&scratch));
      const std::string key(key_view);
      OUTPOST_RETURN_IF_ERROR(sc.Expect(':'));
      if (key == "type" || key == "table" || key == "cursor") {
        OUTPOST_ASSIGN_OR_RETURN(std::string_view v, sc.String(&scratch));
        if (key == "type") type = v;
        if (key == "table") line.table = v;
        if (key == "cursor") {
          line.cursor = v;
          has_cursor = true;
        }
      } else if (key == "columns") {
        OUTPOST_RETURN_IF_ERROR(sc.Expect('['));
        if (!sc.Consume(']')) {
          do {
            OUTPOST_ASSIGN_OR_RETURN(std::string_view c, sc.String(&scratch));
            line.columns.emplace_back(c);
          } while (sc.Consume(','));
          OUTPOST_RETURN_IF_ERROR(sc.Expect(']'));
        }
      } else if (key == "rows" || key == "keys") {
        sc.Peek();
        line.array_begin = sc.pos();
        // The server writes the array last, after type, table and columns: it is not scanned
        // twice (this is most of a bootstrap's parsing). TupleReader scans it and checks that
        // the object's closing brace follows.
        const bool known = (type == "rows" && !line.columns.empty()) || type == "deletes";
        if (known && !line.table.empty() && text.back() == '}') {
          line.array_is_last = true;
          break;
        }
        OUTPOST_RETURN_IF_ERROR(sc.SkipValue().status());
      } else if (key == "bootstrap" || key == "more" || key == "total") {
        JsonScalar v;
        OUTPOST_RETURN_IF_ERROR(sc.Scalar(&v, &scratch));
        if (key == "total" && v.kind == JsonScalar::Kind::kInt) line.total = v.i;
        if (key == "bootstrap") line.bootstrap = v.kind == JsonScalar::Kind::kBool && v.i == 1;
        if (key == "more") line.more = v.kind == JsonScalar::Kind::kBool && v.i == 1;
      } else {
        OUTPOST_RETURN_IF_ERROR(sc.SkipValue().status());
      }
    } while (sc.Consume(','));
    if (!line.array_is_last) OUTPOST_RETURN_IF_ERROR(sc.Expect('}'));
  }
  if (!line.array_is_last && !sc.AtEnd()) return sc.Error("text after the JSON object");

  if (type == "rows" || type == "deletes") {
    if (line.table.empty() || line.array_begin == 0 || (type == "rows" && line.columns.empty())) {
      return BadLine("incomplete \"" + type + "\" line");
    }
    line.type = type == "rows" ? PullLine::Type::kRows : PullLine::Type::kDeletes;
  } else if (type == "reset") {
    line.type = PullLine::Type::kReset;
  } else if (type == "cursor") {
    if (!has_cursor || line.cursor.empty()) return BadLine("cursor line without a cursor");
    line.type = PullLine::Type::kCursor;
  }
  return line;
}

TupleReader::TupleReader(std::string_view text, const PullLine& line, std::vector<TypeKind> kinds)
    : text_(text),
      array_is_last_(line.array_is_last),
      kinds_(std::move(kinds)),
      pos_(line.array_begin),
      scratch_(kinds_.size()),
      blobs_(kinds_.size()) {}

Result<bool> TupleReader::Next(std::vector<ValueView>* values) {
  JsonScanner sc(text_, pos_);
  if (state_ == 2) return false;
  if (state_ == 0) {
    OUTPOST_RETURN_IF_ERROR(sc.Expect('['));
    if (sc.Consume(']')) {
      state_ = 2;
    } else {
      state_ = 1;
    }
  } else if (!sc.Consume(',')) {
    OUTPOST_RETURN_IF_ERROR(sc.Expect(']'));
    state_ = 2;
  }
  if (state_ == 2) {
    if (array_is_last_) {
      OUTPOST_RETURN_IF_ERROR(sc.Expect('}'));
      if (!sc.AtEnd()) {
        return sc.Error("the \"rows\" or \"keys\" array must end its line (text after it)");
      }
    }
    pos_ = sc.pos();
    return false;
  }
  const size_t n = kinds_.size();
  values->resize(n);
  OUTPOST_RETURN_IF_ERROR(sc.Expect('['));
  JsonScalar v;
  for (size_t i = 0; i < n; ++i) {
    if (i) OUTPOST_RETURN_IF_ERROR(sc.Expect(','));
    OUTPOST_RETURN_IF_ERROR(sc.Scalar(&v, &scratch_[i]));
    const TypeKind kind = kinds_[i];
    ValueView& out = (*values)[i];
    switch (v.kind) {
      case JsonScalar::Kind::kNull: out = ValueView::MakeNull(); break;
      case JsonScalar::Kind::kBool: out = ValueView::MakeInteger(v.i); break;
      case JsonScalar::Kind::kInt:
        if (kind == TypeKind::kReal) {
          out = ValueView::MakeReal(static_cast<double>(v.i));
        } else if (IsTextKind(kind)) {
          out = ValueView::MakeText(v.text);
        } else {
          out = ValueView::MakeInteger(v.i);
        }
        break;
      case JsonScalar::Kind::kDouble:
        out = IsTextKind(kind) ? ValueView::MakeText(v.text) : ValueView::MakeReal(v.d);
        break;
      case JsonScalar::Kind::kString:
        if (kind == TypeKind::kReal && (v.text == "Infinity" || v.text == "-Infinity")) {
          out = ValueView::MakeReal(v.text[0] == '-' ? -HUGE_VAL : HUGE_VAL);
        } else {
          out = ValueView::MakeText(v.text);
        }
        break;
      case JsonScalar::Kind::kBlob: {
        auto bytes = Base64Decode(v.text);
        if (!bytes.ok()) return sc.Error("a $blob that is not base64");
        blobs_[i] = std::move(bytes).value();
        out = ValueView::MakeBlob(
            std::string_view(reinterpret_cast<const char*>(blobs_[i].data()), blobs_[i].size()));
        break;
      }
      case JsonScalar::Kind::kRaw: out = ValueView::MakeText(v.text); break;
    }
  }
  if (!sc.Consume(']')) return sc.Error("a tuple has more values than its columns");
  pos_ = sc.pos();
  return true;
}

}  // namespace outpost::protocol
