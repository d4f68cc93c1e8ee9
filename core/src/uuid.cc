#include "outpost/ids.h"

namespace outpost {

std::string UuidV7Generator::Next() {
  int64_t ms = env_->NowMicros() / 1000;
  uint8_t b[16];
  env_->RandomBytes(b, sizeof b);
  if (ms > last_ms_) {
    last_ms_ = ms;
    counter_ = static_cast<uint16_t>(((b[6] & 0x0f) << 8 | b[7]) & 0x7ff);  // leave headroom
  } else {
    // Same (or an earlier, if the clock stepped back) millisecond: keep the last one and count.
    if (++counter_ > 0xfff) {
      ++last_ms_;
      counter_ = 0;
    }
  }
  uint64_t t = static_cast<uint64_t>(last_ms_);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(t >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | (counter_ >> 8));
  b[7] = static_cast<uint8_t>(counter_ & 0xff);
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

}  // namespace outpost
