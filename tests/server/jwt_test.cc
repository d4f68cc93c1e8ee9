// JWT verification (sync/server/src/jwt.h) and pull cursor encoding (cursor.h): no database.
#include "jwt.h"

#include <sodium.h>

#include <catch2/catch.hpp>

#include "cursor.h"

namespace outpost::server {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "unit-test-secret-0123456789";

json Claims(int64_t exp = kNow + 3600) {
  return json{{"tenant", "t1"}, {"sub", "u1"}, {"role", "admin"}, {"exp", exp}};
}

std::string Part(const std::string& token, int i) {
  size_t a = 0;
  for (int k = 0; k < i; ++k) a = token.find('.', a) + 1;
  size_t b = token.find('.', a);
  return token.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

TEST_CASE("base64url round trip and strictness", "[jwt]") {
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

TEST_CASE("HS256 tokens verify; tampering, expiry and other algorithms are refused", "[jwt]") {
  JwtKey key = JwtKey::Hs256(kSecret);
  std::string token = MintHs256(Claims(), kSecret);
  auto ok = VerifyJwt(token, key, kNow);
  REQUIRE(ok.ok());
  CHECK((*ok)["sub"] == "u1");

  auto code = [&](const std::string& t, int64_t now = kNow) {
    auto r = VerifyJwt(t, key, now);
    return r.ok() ? Code::kOk : r.status().code();
  };
  CHECK(code(MintHs256(Claims(), "another-secret-0123456789")) == Code::kUnauthorized);
  // exp with 30 s of leeway.
  CHECK(code(MintHs256(Claims(kNow - 29), kSecret)) == Code::kOk);
  CHECK(code(MintHs256(Claims(kNow - 31), kSecret)) == Code::kUnauthorized);
  json no_exp = Claims();
  no_exp.erase("exp");
  CHECK(code(MintHs256(no_exp, kSecret)) == Code::kUnauthorized);
  json string_exp = Claims();
  string_exp["exp"] = std::to_string(kNow + 100);
  CHECK(code(MintHs256(string_exp, kSecret)) == Code::kUnauthorized);
  json nbf = Claims();
  nbf["nbf"] = kNow + 100;
  CHECK(code(MintHs256(nbf, kSecret)) == Code::kUnauthorized);
  nbf["nbf"] = kNow + 20;
  CHECK(code(MintHs256(nbf, kSecret)) == Code::kOk);
  // Payload swapped under a valid signature.
  json other = Claims();
  other["tenant"] = "t2";
  std::string forged = Part(token, 0) + "." + Base64UrlEncode(other.dump()) + "." + Part(token, 2);
  CHECK(code(forged) == Code::kUnauthorized);
  // alg none, other algorithms, an EdDSA header on an HS256 key.
  for (std::string alg : std::vector<std::string>{"none", "HS512", "RS256", "EdDSA", "hs256"}) {
    std::string header = Base64UrlEncode(json{{"alg", alg}, {"typ", "JWT"}}.dump());
    std::string body = Base64UrlEncode(Claims().dump());
    CHECK(code(header + "." + body + ".") == Code::kUnauthorized);
    CHECK(code(header + "." + body + "." + Part(token, 2)) == Code::kUnauthorized);
  }
  // Shape.
  for (std::string bad : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "abc.def.ghi",
                                                  token + "x", token + ".", " " + token}) {
    CHECK(code(bad) == Code::kUnauthorized);
  }
  CHECK(code(std::string(kMaxTokenBytes + 1, 'a')) == Code::kUnauthorized);
}

TEST_CASE("EdDSA tokens verify with the public key only", "[jwt]") {
  REQUIRE(sodium_init() >= 0);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  std::string pub(reinterpret_cast<char*>(pk), sizeof pk);
  std::string sec(reinterpret_cast<char*>(sk), sizeof sk);
  auto key = JwtKey::Ed25519PublicKey(Base64UrlEncode(pub));
  REQUIRE(key.ok());
  std::string hex;
  for (unsigned char c : pub) {
    static const char* d = "0123456789abcdef";
    hex += d[c >> 4];
    hex += d[c & 15];
  }
  auto key_hex = JwtKey::Ed25519PublicKey(hex);
  REQUIRE(key_hex.ok());
  CHECK(key_hex->bytes == key->bytes);
  CHECK_FALSE(JwtKey::Ed25519PublicKey("abcd").ok());

  std::string token = MintEdDsa(Claims(), sec);
  CHECK(VerifyJwt(token, *key, kNow).ok());
  // An HS256 token signed with the public key as secret (algorithm confusion) is refused.
  CHECK(VerifyJwt(MintHs256(Claims(), pub), *key, kNow).status().code() == Code::kUnauthorized);
  // Another key pair's signature.
  unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk2, sk2);
  std::string other = MintEdDsa(Claims(), std::string(reinterpret_cast<char*>(sk2), sizeof sk2));
  CHECK(VerifyJwt(other, *key, kNow).status().code() == Code::kUnauthorized);
  // An HS256 key refuses EdDSA tokens.
  CHECK(VerifyJwt(token, JwtKey::Hs256(kSecret), kNow).status().code() == Code::kUnauthorized);
}

TEST_CASE("claims become a principal", "[jwt]") {
  std::vector<std::string> roles = {"admin", "employee"};
  auto p = PrincipalFromClaims(Claims(), roles, true);
  REQUIRE(p.ok());
  CHECK(p->tenant == "t1");
  CHECK(p->user == "u1");
  CHECK(p->role == "admin");
  json c = Claims();
  c["role"] = "superuser";
  CHECK(PrincipalFromClaims(c, roles, true).status().code() == Code::kForbidden);
  for (const char* missing : {"sub", "role", "tenant"}) {
    json m = Claims();
    m.erase(missing);
    CHECK(PrincipalFromClaims(m, roles, true).status().code() == Code::kUnauthorized);
  }
  json no_tenant = Claims();
  no_tenant.erase("tenant");
  CHECK(PrincipalFromClaims(no_tenant, roles, false).ok());
  json numeric_tenant = Claims();
  numeric_tenant["tenant"] = 5;
  CHECK(PrincipalFromClaims(numeric_tenant, roles, true).status().code() == Code::kUnauthorized);
}

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
                          std::string(kMaxCursorBytes + 1, 'A')}) {
    INFO(bad);
    auto d = DecodeCursor(bad, arity);
    CHECK(d.status().code() == Code::kInvalidCursor);
  }
  // Key values are carried as text, whatever they contain: they only ever travel as parameters.
  auto injected = DecodeCursor(b64(R"({"v":1,"w":"3","t":0,"k":["' OR 1=1 --"]})"), arity);
  CHECK(injected.ok());
}

}  // namespace
}  // namespace outpost::server
