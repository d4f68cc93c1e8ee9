#include "jwt.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "outpost/protocol.h"
#include "outpost/value.h"

namespace outpost::server {

namespace {

using nlohmann::json;

Status Unauthorized(std::string message) {
  return Status(Code::kUnauthorized, std::move(message));
}

bool EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

// A JSON number of seconds (integer or real), or nullopt.
std::optional<double> Seconds(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::string SigningInput(const json& header, const json& claims) {
  return Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
}

}  // namespace

Result<JwtKey> JwtKey::Ed25519PublicKey(std::string_view text) {
  std::string bytes;
  bool hex = text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
             });
  if (hex) {
    for (size_t i = 0; i < 64; i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    }
  } else {
    std::string t(text);
    while (!t.empty() && t.back() == '=') t.pop_back();
    std::replace(t.begin(), t.end(), '+', '-');
    std::replace(t.begin(), t.end(), '/', '_');
    auto d = Base64UrlDecode(t);
    if (!d.ok()) return Status(Code::kInvalidArgument, "Ed25519 public key: not hex or base64");
    bytes = std::move(d).value();
  }
  if (bytes.size() != crypto_sign_PUBLICKEYBYTES) {
    return Status(Code::kInvalidArgument, "Ed25519 public key must be 32 bytes");
  }
  return JwtKey{Kind::kEd25519, std::move(bytes)};
}

Result<json> VerifyJwt(std::string_view token, const JwtKey& key, int64_t now) {
  if (!EnsureSodium()) return Status(Code::kInternal, "libsodium failed to initialise");
  if (token.empty()) return Unauthorized("missing token");
  if (token.size() > kMaxTokenBytes) return Unauthorized("token too long");
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Unauthorized("malformed token: expected header.payload.signature");
  }
  std::string_view header_b64 = token.substr(0, d1);
  std::string_view payload_b64 = token.substr(d1 + 1, d2 - d1 - 1);
  std::string_view sig_b64 = token.substr(d2 + 1);
  auto header_text = Base64UrlDecode(header_b64);
  auto payload_text = Base64UrlDecode(payload_b64);
  auto sig = Base64UrlDecode(sig_b64);
  if (!header_text.ok() || !payload_text.ok() || !sig.ok()) {
    return Unauthorized("malformed token: bad base64url");
  }
  // Depth first: the header is read before the signature is checked, so anyone can send it.
  if (!protocol::JsonDepthWithin(*header_text, protocol::kMaxSmallJsonDepth) ||
      !protocol::JsonDepthWithin(*payload_text, protocol::kMaxSmallJsonDepth)) {
    return Unauthorized("malformed token: JSON nested deeper than " +
                        std::to_string(protocol::kMaxSmallJsonDepth) + " levels");
  }
  json header = json::parse(*header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return Unauthorized("malformed token: header is not a JSON object");
  }
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Unauthorized("token header has no alg");
  const std::string& a = alg->get_ref<const std::string&>();
  const char* expected = key.kind == JwtKey::Kind::kHs256 ? "HS256" : "EdDSA";
  if (a != expected) {
    return Unauthorized("token algorithm \"" + a.substr(0, 16) + "\" is not accepted (expected " +
                        expected + ")");
  }
  if (header.contains("crit")) return Unauthorized("token header has unsupported crit");
  std::string_view signing_input = token.substr(0, d2);
  if (key.kind == JwtKey::Kind::kHs256) {
    std::string mac = HmacSha256(key.bytes, signing_input);
    if (sig->size() != mac.size() || sodium_memcmp(sig->data(), mac.data(), mac.size()) != 0) {
      return Unauthorized("bad token signature");
    }
  } else {
    if (sig->size() != crypto_sign_BYTES || key.bytes.size() != crypto_sign_PUBLICKEYBYTES ||
        crypto_sign_verify_detached(
            reinterpret_cast<const unsigned char*>(sig->data()),
            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
            reinterpret_cast<const unsigned char*>(key.bytes.data())) != 0) {
      return Unauthorized("bad token signature");
    }
  }
  json claims = json::parse(*payload_text, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return Unauthorized("malformed token: claims are not a JSON object");
  }
  auto exp = Seconds(claims, "exp");
  if (!exp) return Unauthorized("token has no numeric exp");
  if (static_cast<double>(now) > *exp + kJwtLeewaySeconds) return Unauthorized("token expired");
  if (claims.contains("nbf")) {
    auto nbf = Seconds(claims, "nbf");
    if (!nbf) return Unauthorized("token nbf is not a number");
    if (static_cast<double>(now) + kJwtLeewaySeconds < *nbf) {
      return Unauthorized("token not valid yet (nbf)");
    }
  }
  return claims;
}

Result<Principal> PrincipalFromClaims(const json& claims, const std::vector<std::string>& roles,
                                      bool require_tenant) {
  auto str = [&](const char* name) -> const std::string* {
    auto it = claims.find(name);
    if (it == claims.end() || !it->is_string()) return nullptr;
    return &it->get_ref<const std::string&>();
  };
  Principal p;
  const std::string* sub = str("sub");
  if (!sub || sub->empty()) return Unauthorized("token has no sub claim (string)");
  const std::string* role = str("role");
  if (!role) return Unauthorized("token has no role claim (string)");
  if (claims.contains("tenant")) {
    const std::string* tenant = str("tenant");
    if (!tenant) return Unauthorized("token tenant claim must be a string");
    p.tenant = *tenant;
  }
  if (require_tenant && p.tenant.empty()) return Unauthorized("token has no tenant claim");
  if (std::find(roles.begin(), roles.end(), *role) == roles.end()) {
    return Status(Code::kForbidden, "role \"" + role->substr(0, 64) + "\" is not in the rules");
  }
  p.user = *sub;
  p.role = *role;
  p.claims = claims;
  return p;
}

namespace {

// The canonical PostgreSQL text of `text` as a value of `type` (lower-case UUID, decimal integer
// without sign or leading zeros, ...), or nullopt when it is not one. U+0000 is never a value:
// libpq would cut the parameter there.
std::optional<std::string> CanonicalClaim(const ColumnType& type, const std::string& text) {
  if (text.find('\0') != std::string::npos) return std::nullopt;
  auto v = PgTextToValue(type, text);
  if (!v.ok()) return std::nullopt;
  auto canon = ValueToPgText(type, *v);
  if (!canon.ok()) return std::nullopt;
  if (type.kind == TypeKind::kInteger) {
    // The column's own range: a claim PostgreSQL cannot cast would fail a pull mid-answer.
    int64_t n = std::get<int64_t>(*v);
    if ((type.pg_type == "integer" && (n < INT32_MIN || n > INT32_MAX)) ||
        (type.pg_type == "smallint" && (n < INT16_MIN || n > INT16_MAX))) {
      return std::nullopt;
    }
  }
  return std::move(canon).value();
}

}  // namespace

Status CanonicalizeClaims(const ServerModel& model, Principal* who) {
  for (const auto& t : model.tables()) {
    const Scope& s = t.rule().scope;
    if ((s.kind == ScopeKind::kTenantColumn || s.kind == ScopeKind::kTenantKey) &&
        !who->tenant.empty()) {
      const Column* c = t.full->FindColumn(s.column);
      if (!c) continue;
      auto canon = CanonicalClaim(c->type, who->tenant);
      if (!canon) {
        return Unauthorized("token tenant claim is not a " + c->type.pg_type + " value (\"" +
                            t.name() + "\"." + s.column + ")");
      }
      who->tenant = *canon;
      if (who->claims.contains("tenant")) who->claims["tenant"] = *canon;
    }
    if (!model.Filtered(t, *who)) continue;
    const RowFilter& f = *t.rule().filter;
    auto claim = who->claims.find(f.claim);
    // A missing claim: the filter refuses the table's rows and writes (ScopePredicate).
    if (claim == who->claims.end() || claim->is_null() || claim->is_structured()) continue;
    const Column* c = t.full->FindColumn(f.column);
    if (!c) continue;
    std::string text = claim->is_string() ? claim->get<std::string>() : claim->dump();
    auto canon = CanonicalClaim(c->type, text);
    if (!canon) {
      return Unauthorized("token claim \"" + protocol::Quoted(f.claim) + "\" is not a " +
                          c->type.pg_type + " value (row filter of \"" + t.name() + "\")");
    }
    *claim = *canon;
    if (f.claim == "sub") who->user = *canon;
    if (f.claim == "tenant") who->tenant = *canon;
  }
  return Status::Ok();
}

Result<Principal> Authenticate(std::string_view token, const JwtKey& key, const ServerModel& model,
                               int64_t now) {
  OUTPOST_ASSIGN_OR_RETURN(json claims, VerifyJwt(token, key, now));
  OUTPOST_ASSIGN_OR_RETURN(
      Principal who, PrincipalFromClaims(claims, model.view().roles, model.has_tenant_scope()));
  OUTPOST_RETURN_IF_ERROR(CanonicalizeClaims(model, &who));
  return who;
}

std::string MintHs256(const json& claims, std::string_view secret) {
  std::string input = SigningInput(json{{"alg", "HS256"}, {"typ", "JWT"}}, claims);
  return input + "." + Base64UrlEncode(HmacSha256(secret, input));
}

std::string MintEdDsa(const json& claims, std::string_view secret_key) {
  EnsureSodium();
  std::string input = SigningInput(json{{"alg", "EdDSA"}, {"typ", "JWT"}}, claims);
  std::string sig(crypto_sign_BYTES, '\0');
  if (secret_key.size() == crypto_sign_SECRETKEYBYTES) {
    crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                         reinterpret_cast<const unsigned char*>(secret_key.data()));
  }
  return input + "." + Base64UrlEncode(sig);
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace outpost::server
