// JWT verification (sync/server/src/jwt.h): no database.
#include "jwt.h"

#include <sodium.h>

#include <catch2/catch.hpp>

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

// Issue 13: a correctly signed token whose claims nest deeply (as deep as the token size limit
// allows) is refused.
TEST_CASE("a token whose header or claims nest deeply is unauthorized", "[jwt][security]") {
  JwtKey key = JwtKey::Hs256(kSecret);
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  std::string payload = Base64UrlEncode(R"({"exp":1900000000,"sub":"u1","x":)" + deep + "}");
  std::string input = header + "." + payload;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(kSecret.data()),
                              kSecret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string token =
      input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), sizeof mac));
  REQUIRE(token.size() < kMaxTokenBytes);
  auto r = VerifyJwt(token, key, kNow);
  CHECK(r.status().code() == Code::kUnauthorized);
  std::string deep_header = Base64UrlEncode(R"({"alg":"HS256","x":)" + deep + "}");
  CHECK(VerifyJwt(deep_header + "." + payload + ".AAAA", key, kNow).status().code() ==
        Code::kUnauthorized);
}

}  // namespace
}  // namespace outpost::server
