// Error answers and cursors (outpost/protocol.h): one table of HTTP statuses and codes for both
// sides, and the cursor's public part.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "outpost/encoding.h"
#include "outpost/protocol.h"

namespace outpost::protocol {
namespace {

using nlohmann::json;

TEST_CASE("every error code has its HTTP status, and back", "[protocol][errors]") {
  CHECK(HttpStatusOf(Code::kMalformedRequest) == 400);
  CHECK(HttpStatusOf(Code::kInvalidCursor) == 400);
  CHECK(HttpStatusOf(Code::kUnauthorized) == 401);
  CHECK(HttpStatusOf(Code::kPermissionDenied) == 403);
  CHECK(HttpStatusOf(Code::kSchemaMismatch) == 409);
  CHECK(HttpStatusOf(Code::kCursorExpired) == 410);
  CHECK(HttpStatusOf(Code::kPayloadTooLarge) == 413);
  CHECK(HttpStatusOf(Code::kUnavailable) == 503);
  CHECK(HttpStatusOf(Code::kPostgres) == 500);
  CHECK(HttpStatusOf(Code::kInternal) == 500);
  for (int http : {400, 401, 403, 404, 409, 410, 413, 503}) {
    INFO(http);
    CHECK(HttpStatusOf(CodeOfHttpStatus(http)) == http);
  }
  CHECK(CodeOfHttpStatus(502) == Code::kUnavailable);
  CHECK(CodeOfHttpStatus(418) == Code::kInternal);
}

TEST_CASE("error bodies name their code; the client reads them back", "[protocol][errors]") {
  std::string body = EncodeErrorBody(Status(Code::kInvalidCursor, "invalid cursor: bad table"));
  CHECK(json::parse(body) ==
        json{{"error", {{"code", "invalid_cursor"}, {"message", "invalid cursor: bad table"}}}});
  // Codes that are not the client's business are "internal" with the whole status as message.
  CHECK(json::parse(EncodeErrorBody(Status(Code::kPostgres, "boom")))["error"] ==
        json{{"code", "internal"}, {"message", "postgres_error: boom"}});
  // Invalid UTF-8 in a message is replaced, never sent.
  CHECK(json::parse(EncodeErrorBody(Status(Code::kInvalidValue, "bad \xff byte"))).is_object());

  Status s = DecodeErrorAnswer(400, body);
  CHECK(s.code() == Code::kInvalidCursor);
  CHECK(s.message() == "server answered 400: invalid cursor: bad table");
  // A code this client does not know: the status says what it is.
  CHECK(DecodeErrorAnswer(401, R"({"error":{"code":"new_thing","message":"m"}})").code() ==
        Code::kUnauthorized);
  // A proxy's page.
  Status html = DecodeErrorAnswer(502, "<html>Bad gateway</html>");
  CHECK(html.code() == Code::kUnavailable);
  CHECK(html.message().find("Bad gateway") != std::string::npos);
  CHECK(DecodeErrorAnswer(500, std::string(10000, 'x')).message().size() < 300);
  // The client's own codes are never taken from a server.
  CHECK(DecodeErrorAnswer(400, R"({"error":{"code":"malformed_answer","message":"m"}})").code() ==
        Code::kMalformedRequest);
  CHECK(DecodeErrorAnswer(410, R"({"error":{"code":"ok","message":"m"}})").code() ==
        Code::kCursorExpired);
}

TEST_CASE("a cursor's public part is its watermark", "[protocol][cursor]") {
  std::string cursor = WrapCursor(json{{"v", 1}, {"w", "18446744073709551615"}, {"t", 3}});
  CHECK(CursorWatermark(cursor) == UINT64_MAX);
  auto fields = UnwrapCursor(cursor);
  REQUIRE(fields.ok());
  CHECK((*fields)["t"] == 3);
  CHECK(UnwrapCursor("").status().code() == Code::kInvalidCursor);
  CHECK(UnwrapCursor(std::string(kMaxCursorBytes + 1, 'A')).status().code() ==
        Code::kInvalidCursor);
  CHECK(UnwrapCursor("a+b").status().code() == Code::kInvalidCursor);
  CHECK(UnwrapCursor(Base64UrlEncode("[1]")).status().code() == Code::kInvalidCursor);
  for (const char* w : {"", "01", "-1", "1.5", "18446744073709551616", "abc"}) {
    INFO(w);
    CHECK_FALSE(CursorWatermark(WrapCursor(json{{"w", w}})).has_value());
  }
  CHECK_FALSE(CursorWatermark(WrapCursor(json{{"w", 5}})).has_value());  // a number, not text
  CHECK(ParseDecimalU64(json("0")) == 0u);
}

}  // namespace
}  // namespace outpost::protocol
