// JSON Web Tokens for the sync protocol (docs/protocol.md, "Authentication"; docs/server.md,
// "Security measures").
//
// Compact JWS only: base64url (unpadded) header.payload.signature. Verification accepts exactly
// the algorithm of the configured key (HS256 for a shared secret, EdDSA for an Ed25519 public
// key); "none" and every other algorithm are refused, as are a "crit" header, bad base64url,
// trailing garbage and tokens over kMaxTokenBytes. Signatures are checked with libsodium (HMAC
// compared in constant time).
//
// Threading: every function is reentrant; a JwtKey is immutable once built.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model.h"
#include "outpost/encoding.h"
#include "outpost/status.h"

namespace outpost::server {

inline constexpr size_t kMaxTokenBytes = 16 * 1024;
inline constexpr int64_t kJwtLeewaySeconds = 30;

struct JwtKey {
  enum class Kind { kHs256, kEd25519 };
  Kind kind = Kind::kHs256;
  std::string bytes;  // kHs256: the secret; kEd25519: the 32-byte public key

  static JwtKey Hs256(std::string secret) { return JwtKey{Kind::kHs256, std::move(secret)}; }
  // `text`: the 32-byte public key as 64 hex digits, or base64url/base64 (padding optional).
  // Errors: kInvalidArgument.
  static Result<JwtKey> Ed25519PublicKey(std::string_view text);
};

// Verifies signature, algorithm, `exp` (required) and `nbf` (if present) against `now` (seconds
// since the epoch) with kJwtLeewaySeconds of leeway. Header and claims nested deeper than
// protocol::kMaxSmallJsonDepth are refused before they are parsed. Returns the claims object.
// Errors: kUnauthorized, with a message saying what was wrong (never the secret).
Result<nlohmann::json> VerifyJwt(std::string_view token, const JwtKey& key, int64_t now);

// Checks the claims the protocol requires and builds the Principal: `sub` (non-empty string),
// `role` (string) and, when `require_tenant`, `tenant` (non-empty string; when present it must be
// a string). Errors: kUnauthorized (a claim missing or of the wrong type), kForbidden (`role` is
// not one of `roles`).
Result<Principal> PrincipalFromClaims(const nlohmann::json& claims,
                                      const std::vector<std::string>& roles, bool require_tenant);

// Rewrites the tenant claim and the claims of the row filters that apply to `who`'s role into the
// canonical PostgreSQL text of the column they are compared with (a UUID in lower case, an
// integer in plain decimal): rows, change history and tokens then compare as the same text.
// Errors: kUnauthorized when a claim is not a value of its column's type (or holds U+0000).
Status CanonicalizeClaims(const ServerModel& model, Principal* who);

// VerifyJwt, PrincipalFromClaims with the model's roles and tenant requirement, then
// CanonicalizeClaims: every request sees canonical claims.
Result<Principal> Authenticate(std::string_view token, const JwtKey& key, const ServerModel& model,
                               int64_t now);

// Minting (the `token` subcommand, tests, demos). `claims` must be an object. MintEdDsa takes
// libsodium's 64-byte Ed25519 secret key.
std::string MintHs256(const nlohmann::json& claims, std::string_view secret);
std::string MintEdDsa(const nlohmann::json& claims, std::string_view secret_key);

// Seconds since the epoch (system clock).
int64_t UnixNow();

}  // namespace outpost::server
