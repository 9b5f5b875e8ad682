#pragma once
// Time as an outside effect: code that needs "now" or sleeps takes a Clock, so tests can control
// time. Times are microseconds since the Unix epoch, UTC.

#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  virtual void SleepMicros(int64_t micros) = 0;
  // The real clock. Never null.
  static Clock* System();
};

// A clock that moves only when told; SleepMicros advances it. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros) : now_(start_micros) {}
  int64_t NowMicros() const override;
  void SleepMicros(int64_t micros) override;
  void Advance(int64_t micros);

 private:
  mutable long long now_;
};

}  // namespace cairn
