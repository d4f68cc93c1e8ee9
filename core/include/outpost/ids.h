// Identifiers the client creates: UUIDv7 row keys and hybrid logical clock timestamps.
#pragma once

#include <cstdint>
#include <string>

#include "outpost/env.h"

namespace outpost {

// Generates RFC 9562 UUIDv7 strings (lowercase, canonical layout): 48 bits of Unix milliseconds,
// then 74 random bits from Env::RandomBytes. Within one millisecond the 12-bit rand_a field is
// used as a counter (RFC 9562 §6.2 method 1), so ids from one generator sort in creation order.
// Not thread-safe: one generator per store.
class UuidV7Generator {
 public:
  explicit UuidV7Generator(Env* env) : env_(env) {}
  std::string Next();

 private:
  Env* env_;
  int64_t last_ms_ = -1;
  uint16_t counter_ = 0;
};

// A hybrid logical clock (Kulkarni et al.): 48 bits of physical milliseconds and a 16-bit logical
// counter packed into one uint64, so timestamps compare as integers. Now() is strictly increasing
// for one clock; Observe() merges a timestamp seen from elsewhere so that later local events sort
// after it. Not thread-safe.
class HybridLogicalClock {
 public:
  explicit HybridLogicalClock(Env* env) : env_(env) {}

  uint64_t Now();
  void Observe(uint64_t remote);
  // Never go below `floor` (used to restore the clock from stored state).
  void Restore(uint64_t floor) { Observe(floor); }

  static uint64_t Pack(uint64_t millis, uint16_t logical) { return (millis << 16) | logical; }
  static uint64_t Millis(uint64_t hlc) { return hlc >> 16; }

 private:
  Env* env_;
  uint64_t last_ = 0;
};

}  // namespace outpost
