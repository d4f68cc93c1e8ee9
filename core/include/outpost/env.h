// Env: the platform services the core needs besides SQLite, in the spirit of LevelDB's Env.
//
// The core never reads a clock or a random source directly; it asks its Env. Native builds and the
// browser build supply their own, and tests inject a controllable one.
//
// Thread safety: implementations must be safe to call from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace outpost {

class Env {
 public:
  virtual ~Env() = default;
  // Wall-clock time in microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;
  // Fills `out` with cryptographically secure random bytes.
  virtual void RandomBytes(uint8_t* out, size_t size) = 0;

  // The process-wide default: the system clock and libsodium's randombytes (which, under
  // Emscripten, uses crypto.getRandomValues). Never null, never deleted.
  static Env* Default();
};

}  // namespace outpost
