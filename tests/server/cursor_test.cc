// Pull cursors (sync/server/src/cursor.h): the server's encoding, strict decoding of forged
// cursors, and the public part the client reads (protocol::CursorWatermark). No database.
#include "cursor.h"

#include <catch2/catch.hpp>

#include "outpost/encoding.h"
#include "outpost/protocol.h"

namespace outpost::server {
namespace {

using nlohmann::json;

TEST_CASE("cursors round trip and forged ones are refused", "[cursor]") {
  std::vector<size_t> arity = {1, 2, 1};
  Cursor inc;
  inc.w = 12345;
  Cursor boot;
  boot.kind = Cursor::Kind::kBootstrap;
  boot.w = 7;
  boot.table = 1;
  boot.key = json::array({"a", "b"});
  Cursor boot_start = boot;
  boot_start.key = nullptr;
  Cursor block = boot_start;
  block.by_block = true;
  block.block = 4096;
  block.filenode = 16384;
  Cursor window;
  window.kind = Cursor::Kind::kWindow;
  window.w = 100;
  window.end = 200;
  window.last_xid = 150;
  window.last_id = 99999;
  for (const Cursor& c : {inc, boot, boot_start, block, window}) {
    auto d = DecodeCursor(EncodeCursor(c), arity);
    REQUIRE(d.ok());
    CHECK(*d == c);
  }
  auto b64 = [](const std::string& s) { return Base64UrlEncode(s); };
  for (std::string bad : {std::string(""),
                          std::string("not a cursor"),
                          b64("[]"),
                          b64("{}"),
                          b64("null"),
                          b64(R"({"w":"abc"})"),
                          b64(R"({"v":2,"w":"1"})"),
                          b64(R"({"v":1,"w":1})"),
                          b64(R"({"v":1,"w":"-1"})"),
                          b64(R"({"v":1,"w":"01"})"),
                          b64(R"({"v":1,"w":"99999999999999999999"})"),
                          b64(R"({"v":1,"w":"1","x":"2"})"),
                          b64(R"({"v":1,"w":"3","t":3,"k":null})"),
                          b64(R"({"v":1,"w":"3","t":-1,"k":null})"),
                          b64(R"({"v":1,"w":"3","t":1,"k":["a"]})"),
                          b64(R"({"v":1,"w":"3","t":0,"k":[1]})"),
                          b64(R"({"v":1,"w":"3","t":0,"k":"a"})"),
                          b64(R"({"v":1,"w":"3","t":0,"b":"4294967296","f":"1"})"),
                          b64(R"({"v":1,"w":"5","e":"4","x":"4","i":"1"})"),
                          b64(R"({"v":1,"w":"5","e":"9","x":"9","i":"1"})"),
                          b64(R"({"v":1,"w":"5","e":"9","x":"6","i":"1","extra":1})"),
                          b64(R"({"v":1,"w":"1"})") + "=",
                          std::string(protocol::kMaxCursorBytes + 1, 'A')}) {
    INFO(bad);
    auto d = DecodeCursor(bad, arity);
    CHECK(d.status().code() == Code::kInvalidCursor);
  }
  // Key values are carried as text, whatever they contain: they only ever travel as parameters.
  auto injected = DecodeCursor(b64(R"({"v":1,"w":"3","t":0,"k":["' OR 1=1 --"]})"), arity);
  CHECK(injected.ok());
}

TEST_CASE("the client reads a server cursor's watermark and nothing else", "[cursor]") {
  Cursor c;
  c.kind = Cursor::Kind::kWindow;
  c.w = 123456789012;
  c.end = 123456789020;
  c.last_xid = 123456789013;
  c.last_id = 4;
  CHECK(protocol::CursorWatermark(EncodeCursor(c)) == 123456789012u);
  CHECK_FALSE(protocol::CursorWatermark("not base64 !").has_value());
  CHECK_FALSE(protocol::CursorWatermark("e30").has_value());  // {}
  CHECK_FALSE(protocol::CursorWatermark(Base64UrlEncode(R"({"w":123})")).has_value());
}

}  // namespace
}  // namespace outpost::server
