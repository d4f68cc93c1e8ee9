// EncryptionKey (outpost/encryption.h): the secret, wiped whenever a copy of it goes away.
#include "outpost/encryption.h"

#include <sodium.h>

#include <utility>

namespace outpost {

EncryptionKey::EncryptionKey(std::string secret, bool passphrase, EncryptionCost cost)
    : secret_(std::move(secret)), passphrase_(passphrase), cost_(cost) {}

EncryptionKey EncryptionKey::Passphrase(std::string_view text, EncryptionCost cost) {
  return EncryptionKey(std::string(text), true, cost);
}

Result<EncryptionKey> EncryptionKey::Raw(std::string_view bytes) {
  if (bytes.size() != 32) {
    return Status(Code::kInvalidArgument,
                  "a raw encryption key has 32 bytes, not " + std::to_string(bytes.size()));
  }
  return EncryptionKey(std::string(bytes), false, EncryptionCost());
}

Result<EncryptionKey> EncryptionKey::RawHex(std::string_view hex) {
  std::string bytes(32, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (hex.size() != 64 ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(),
                     hex.size(), nullptr, &len, &end) != 0 ||
      len != 32 || end != hex.data() + hex.size()) {
    sodium_memzero(bytes.data(), bytes.size());
    return Status(Code::kInvalidArgument, "a raw encryption key is 64 hexadecimal digits");
  }
  EncryptionKey key(std::move(bytes), false, EncryptionCost());
  return key;
}

EncryptionKey::EncryptionKey(const EncryptionKey& other)
    : secret_(other.secret_), passphrase_(other.passphrase_), cost_(other.cost_) {}

EncryptionKey& EncryptionKey::operator=(const EncryptionKey& other) {
  if (this != &other) {
    Wipe();
    secret_ = other.secret_;
    passphrase_ = other.passphrase_;
    cost_ = other.cost_;
  }
  return *this;
}

// Moving a std::string may leave the source's buffer (short strings live inside the object):
// copy, then wipe the source.
EncryptionKey::EncryptionKey(EncryptionKey&& other) noexcept
    : secret_(other.secret_), passphrase_(other.passphrase_), cost_(other.cost_) {
  other.Wipe();
}

EncryptionKey& EncryptionKey::operator=(EncryptionKey&& other) noexcept {
  if (this != &other) {
    Wipe();
    secret_ = other.secret_;
    passphrase_ = other.passphrase_;
    cost_ = other.cost_;
    other.Wipe();
  }
  return *this;
}

EncryptionKey::~EncryptionKey() {
  Wipe();
}

void EncryptionKey::Wipe() {
  if (!secret_.empty()) sodium_memzero(secret_.data(), secret_.size());
  secret_.clear();
}

}  // namespace outpost
