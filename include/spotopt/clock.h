// The only source of "now". Nothing in libspotopt reads the wall clock directly:
// production injects SystemClock, tests and backtests a ManualClock.
#ifndef SPOTOPT_CLOCK_H_
#define SPOTOPT_CLOCK_H_

#include <mutex>

#include "spotopt/export.h"
#include "spotopt/types.h"

namespace spotopt {

class SPOTOPT_EXPORT Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
};

class SPOTOPT_EXPORT SystemClock final : public Clock {
 public:
  Time Now() const override { return absl::Now(); }
};

// A clock that moves only when told to. Thread-safe. (std::mutex rather than
// absl::Mutex: Debian's prebuilt Abseil is invisible to ThreadSanitizer.)
class SPOTOPT_EXPORT ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start) : now_(start) {}
  Time Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Set(Time t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void Advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  Time now_;  // guarded by mu_
};

}  // namespace spotopt

#endif  // SPOTOPT_CLOCK_H_
