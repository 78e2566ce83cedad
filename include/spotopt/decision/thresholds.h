// Money against a configured fraction, compared exactly. The previous system compared
// floats: spot 0.08 against on-demand 0.10 (exactly 0.8) stayed, while 0.0204 against
// 0.0255 (also exactly 0.8) switched. Here a config fraction becomes an integer count
// of parts per million once, and every comparison multiplies integers in 128 bits, so
// both pairs are the same case.
#ifndef SPOTOPT_DECISION_THRESHOLDS_H_
#define SPOTOPT_DECISION_THRESHOLDS_H_

#include <cstdint>

#include "spotopt/types.h"

namespace spotopt::decision {

// A fraction in parts per million: 0.8 is 800'000, 30 % is 300'000. Config values are
// decimals with at most six fraction digits in practice; more are rounded half away
// from zero.
class SPOTOPT_EXPORT Fraction {
 public:
  static constexpr int64_t kOne = 1'000'000;
  constexpr Fraction() = default;
  static Fraction FromRatio(double ratio);      // 0.8 -> 800'000 ppm
  static Fraction FromPercent(double percent);  // 30.0 -> 300'000 ppm
  constexpr int64_t ppm() const { return ppm_; }
  friend constexpr auto operator<=>(Fraction, Fraction) = default;

 private:
  constexpr explicit Fraction(int64_t ppm) : ppm_(ppm) {}
  int64_t ppm_ = 0;
};

// a >= f x b
SPOTOPT_EXPORT bool AtLeast(Money a, Fraction f, Money b);
// a < f x b
SPOTOPT_EXPORT bool Below(Money a, Fraction f, Money b);
// Moving from a price of `from` to `to` saves at least f x from.
SPOTOPT_EXPORT bool SavesAtLeast(Money from, Money to, Fraction f);
// (from - to) / from in percent, for display and the command record; 0 when from is 0.
SPOTOPT_EXPORT double SavingsPercent(Money from, Money to);

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_THRESHOLDS_H_
