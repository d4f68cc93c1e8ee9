#include "outpost/env.h"

#include <sodium.h>

#include <chrono>
#include <cstdlib>

namespace outpost {
namespace {

class DefaultEnv final : public Env {
 public:
  DefaultEnv() {
    if (sodium_init() < 0) std::abort();  // no secure randomness: refuse to run
  }
  int64_t NowMicros() override {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  }
  void RandomBytes(uint8_t* out, size_t size) override { randombytes_buf(out, size); }
};

}  // namespace

Env* Env::Default() {
  static DefaultEnv* env = new DefaultEnv();  // intentionally leaked: usable during shutdown
  return env;
}

}  // namespace outpost
