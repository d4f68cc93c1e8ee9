// The shared encodings (outpost/encoding.h) and the JSON form of local values (value.h).
#include "outpost/encoding.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "outpost/value.h"

namespace outpost {
namespace {

using nlohmann::json;

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST_CASE("base64 round trip; decoding accepts both alphabets and no padding", "[encoding]") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto enc = Base64Encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    CHECK(enc.size() % 4 == 0);
    auto dec = Base64Decode(enc);
    REQUIRE(dec.ok());
    CHECK(std::string(dec->begin(), dec->end()) == s);
  }
  CHECK(Base64Encode(reinterpret_cast<const uint8_t*>("foobar"), 6) == "Zm9vYmFy");
  CHECK(*Base64Decode("+/8") == Bytes("\xfb\xff"));
  CHECK(*Base64Decode("-_8=") == Bytes("\xfb\xff"));
  CHECK_FALSE(Base64Decode("%%%").ok());
  CHECK_FALSE(Base64Decode("Z").ok());  // impossible length
}

TEST_CASE("base64url round trip and strictness", "[encoding]") {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                std::string("\0\xff\xfe", 3)}) {
    auto enc = Base64UrlEncode(s);
    CHECK(enc.find('=') == std::string::npos);
    auto dec = Base64UrlDecode(enc);
    REQUIRE(dec.ok());
    CHECK(*dec == s);
  }
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK_FALSE(Base64UrlDecode("Zm9v=").ok());  // padding
  CHECK_FALSE(Base64UrlDecode("Zm+v").ok());   // not the URL alphabet
  CHECK_FALSE(Base64UrlDecode("Zh").ok());     // non-zero trailing bits
  CHECK_FALSE(Base64UrlDecode("Z").ok());      // impossible length
}

TEST_CASE("JSON string literals parse back to the same text", "[encoding]") {
  for (std::string s : {std::string(""), std::string("plain"), std::string("quote \" and \\"),
                        std::string("line\nfeed\ttab\r\b\f"), std::string("\x01\x1f"),
                        std::string("caf\xc3\xa9 \xe2\x82\xac"), std::string("nul\0in", 6)}) {
    std::string out;
    AppendJsonString(s, &out);
    CHECK(json::parse(out).get<std::string>() == s);
    CHECK(JsonStringNeedsEscape(s) == (out != "\"" + s + "\""));
  }
  std::string out;
  AppendJsonString("a\"b", &out);
  CHECK(out == "\"a\\\"b\"");
}

TEST_CASE("the text and the value encoders of local values agree", "[encoding][types]") {
  const std::vector<std::pair<Value, bool>> cases = {
      {Value(Null{}), false},
      {Value(int64_t{0}), true},
      {Value(int64_t{1}), true},
      {Value(int64_t{2}), true},
      {Value(int64_t{-9007199254740993}), false},
      {Value(1.0), false},
      {Value(0.1), false},
      {Value(-2.5e300), false},
      {Value(HUGE_VAL), false},
      {Value(-HUGE_VAL), false},
      {Value(std::string("t\u00e9xt \"q\"\n")), false},
      {Value(Blob{{}}), false},
      {Value(Blob{{0, 255, 7}}), false},
  };
  for (const auto& [v, boolean] : cases) {
    std::string text;
    AppendValueJson(ValueView::Of(v), boolean, &text);
    json dom = ValueToJson(ValueView::Of(v), boolean);
    INFO(text);
    CHECK(json::parse(text) == dom);
    CHECK(text == dom.dump());
    // Reals stay reals when read back, and every value reads back as itself (but infinities,
    // which only a column's type tells from the strings "Infinity" and "-Infinity").
    auto back = ValueFromJson(dom);
    REQUIRE(back.ok());
    const bool infinite = std::holds_alternative<double>(v) && std::isinf(std::get<double>(v));
    if (!boolean && !infinite) CHECK(*back == v);
  }
  CHECK(ValueToJson(ValueView::Of(Value(int64_t{1})), true) == json(true));
  CHECK(ValueToJson(ValueView::Of(Value(1.0))).is_number_float());
  CHECK(ValueToJson(ValueView::Of(Value(HUGE_VAL))) == "Infinity");
  CHECK(ValueToJson(ValueView::Of(Value(Blob{{0, 255, 7}}))) == json{{"$blob", "AP8H"}});
}

}  // namespace
}  // namespace outpost
