#include "outpost/ids.h"

namespace outpost {

uint64_t HybridLogicalClock::Now() {
  uint64_t physical = Pack(static_cast<uint64_t>(env_->NowMicros() / 1000), 0);
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

void HybridLogicalClock::Observe(uint64_t remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace outpost
