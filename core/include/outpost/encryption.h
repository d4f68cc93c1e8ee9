// Encryption at rest for a Store (docs/local-store.md, "Encryption at rest").
//
// A store opened with StoreOptions::encryption keeps every page of its database file, its WAL and
// its rollback journals encrypted and authenticated (XChaCha20-Poly1305, a fresh nonce per page
// write). The key is either a passphrase, stretched with Argon2id at the cost recorded in the
// file's header, or 32 raw bytes.
//
// Key material: an EncryptionKey holds its secret in memory it wipes (sodium_memzero) when it is
// destroyed or overwritten; the Store keeps only the derived page key, wiped when it closes.
//
// Threading: EncryptionKey is a value type; copies are independent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "outpost/status.h"

namespace outpost {

// Argon2id cost of deriving a key from a passphrase. Used when a file is created or rekeyed; an
// existing file is always opened with the cost stored in its header.
struct EncryptionCost {
  uint64_t ops_limit = 2;          // passes over memory
  uint64_t mem_limit = 64u << 20;  // bytes of memory

  // libsodium's "interactive" limits (2 passes, 64 MiB): the default; each open pays it once.
  static EncryptionCost Interactive() { return {}; }
  // libsodium's "moderate" limits (3 passes, 256 MiB): for machines that can afford ~1 s.
  static EncryptionCost Moderate() { return {3, 256u << 20}; }
  // The smallest Argon2id allows (1 pass, 8 KiB): for tests only, it protects nothing.
  static EncryptionCost ForTests() { return {1, 8u << 10}; }
};

class EncryptionKey {
 public:
  // A passphrase (any non-empty UTF-8 text); `cost` applies to files created or rekeyed with it.
  static EncryptionKey Passphrase(std::string_view text,
                                  EncryptionCost cost = EncryptionCost::Interactive());
  // Exactly 32 raw bytes. Errors: kInvalidArgument.
  static Result<EncryptionKey> Raw(std::string_view bytes);
  // 64 hexadecimal digits (32 bytes). Errors: kInvalidArgument.
  static Result<EncryptionKey> RawHex(std::string_view hex);

  EncryptionKey(const EncryptionKey& other);
  EncryptionKey& operator=(const EncryptionKey& other);
  EncryptionKey(EncryptionKey&& other) noexcept;
  EncryptionKey& operator=(EncryptionKey&& other) noexcept;
  ~EncryptionKey();  // wipes the secret

  bool is_passphrase() const { return passphrase_; }
  const EncryptionCost& cost() const { return cost_; }
  // The passphrase's bytes, or the 32 raw bytes. For core's key derivation.
  std::string_view secret() const { return secret_; }

 private:
  EncryptionKey(std::string secret, bool passphrase, EncryptionCost cost);
  void Wipe();
  std::string secret_;
  bool passphrase_ = false;
  EncryptionCost cost_;
};

}  // namespace outpost
