#include "common/clock.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace cairn {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  void SleepMicros(int64_t micros) override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
};

}  // namespace

Clock* Clock::System() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

int64_t ManualClock::NowMicros() const {
  return std::atomic_ref<long long>(now_).load();
}
void ManualClock::SleepMicros(int64_t micros) { Advance(micros); }
void ManualClock::Advance(int64_t micros) { std::atomic_ref<long long>(now_).fetch_add(micros); }

}  // namespace cairn
