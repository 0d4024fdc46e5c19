// The time source of dapi's decision loops, injectable so the broker, dispatcher and their tests never depend
// on real time (tests advance a ManualClock by hand).
#pragma once

#include <chrono>
#include <mutex>

namespace api::broker {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// std::chrono::steady_clock (monotonic: never jumps with the wall clock).
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to; starts at an arbitrary non-zero point. Thread-safe.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

}  // namespace api::broker
