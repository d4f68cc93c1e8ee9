// Endpoints, errors and cursors of the sync protocol (outpost/protocol.h).
#include "outpost/protocol.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "outpost/encoding.h"

namespace outpost::protocol {

using nlohmann::json;

namespace {

// The status of every code the protocol sends on purpose; anything else is a 500.
constexpr std::pair<Code, int> kHttpStatuses[] = {
    {Code::kMalformedRequest, 400}, {Code::kUnknownTable, 400},     {Code::kUnknownColumn, 400},
    {Code::kInvalidValue, 400},     {Code::kInvalidCursor, 400},    {Code::kUnauthorized, 401},
    {Code::kForbidden, 403},        {Code::kPermissionDenied, 403}, {Code::kNotFound, 404},
    {Code::kSchemaMismatch, 409},   {Code::kCursorExpired, 410},    {Code::kPayloadTooLarge, 413},
    {Code::kUnavailable, 503},
};

// The code a client assumes from a status alone (an answer from a proxy, or a body it cannot
// read).
constexpr std::pair<int, Code> kCodesOfStatus[] = {
    {400, Code::kMalformedRequest}, {401, Code::kUnauthorized},   {403, Code::kForbidden},
    {404, Code::kNotFound},         {409, Code::kSchemaMismatch}, {410, Code::kCursorExpired},
    {413, Code::kPayloadTooLarge},  {429, Code::kUnavailable},    {431, Code::kPayloadTooLarge},
    {502, Code::kUnavailable},      {503, Code::kUnavailable},    {504, Code::kUnavailable},
};

constexpr size_t kShownBodyBytes = 200;

}  // namespace

int HttpStatusOf(Code code) {
  for (const auto& [c, http] : kHttpStatuses) {
    if (c == code) return http;
  }
  return 500;
}

Code CodeOfHttpStatus(int http_status) {
  for (const auto& [http, c] : kCodesOfStatus) {
    if (http == http_status) return c;
  }
  return Code::kInternal;
}

std::string EncodeErrorBody(const Status& status) {
  const bool internal = HttpStatusOf(status.code()) == 500;
  json body = {{"error",
                {{"code", internal ? std::string("internal") : std::string(status.code_name())},
                 {"message", internal ? status.ToString() : status.message()}}}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status DecodeErrorAnswer(int http_status, std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  Code code = CodeOfHttpStatus(http_status);
  std::string message;
  if (!doc.is_discarded() && doc.is_object()) {
    auto error = doc.find("error");
    if (error != doc.end() && error->is_object()) {
      auto c = error->find("code");
      // A code of this client's own (ok, malformed_answer) is not something a server says.
      std::optional<Code> named;
      if (c != error->end() && c->is_string()) named = CodeFromName(c->get<std::string>());
      if (named && *named != Code::kOk && *named != Code::kMalformedAnswer) code = *named;
      auto m = error->find("message");
      if (m != error->end() && m->is_string()) message = m->get<std::string>();
    }
  }
  if (message.empty()) message = std::string(body.substr(0, kShownBodyBytes));
  return Status(code, "server answered " + std::to_string(http_status) + ": " + message);
}

bool JsonDepthWithin(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
      case '"':
        // Skip the string: a backslash escapes the next character.
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\') ++i;
        }
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default: break;
    }
  }
  return true;
}

std::string Quoted(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t n = max;
  // Back up to the first byte of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n)) + "...";
}

std::string WrapCursor(const json& fields) {
  return Base64UrlEncode(fields.dump());
}

Result<json> UnwrapCursor(std::string_view cursor) {
  auto invalid = [](const char* why) {
    return Status(Code::kInvalidCursor, std::string("invalid cursor: ") + why);
  };
  if (cursor.empty() || cursor.size() > kMaxCursorBytes) return invalid("empty or too long");
  auto raw = Base64UrlDecode(cursor);
  if (!raw.ok()) return invalid("not base64url");
  if (!JsonDepthWithin(*raw, kMaxSmallJsonDepth)) return invalid("nested too deep");
  json j = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid("not a JSON object");
  return j;
}

std::optional<uint64_t> ParseDecimalU64(const json& field) {
  if (!field.is_string()) return std::nullopt;
  const auto& s = field.get_ref<const std::string&>();
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> CursorWatermark(std::string_view cursor) {
  auto fields = UnwrapCursor(cursor);
  if (!fields.ok()) return std::nullopt;
  auto w = fields->find("w");
  if (w == fields->end()) return std::nullopt;
  return ParseDecimalU64(*w);
}

}  // namespace outpost::protocol
