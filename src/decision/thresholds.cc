#include "spotopt/decision/thresholds.h"

#include <algorithm>
#include <cmath>

#include "absl/numeric/int128.h"

namespace spotopt::decision {
namespace {

// Config values are validated finite and bounded before they get here; the clamp
// keeps a stray value from overflowing the product below.
int64_t Round(double value, double scale) {
  if (!std::isfinite(value)) return 0;
  return std::llround(std::clamp(value, -1e6, 1e6) * scale);
}

}  // namespace

Fraction Fraction::FromRatio(double ratio) { return Fraction(Round(ratio, kOne)); }
Fraction Fraction::FromPercent(double percent) {
  return Fraction(Round(percent, static_cast<double>(kOne) / 100));
}

bool AtLeast(Money a, Fraction f, Money b) {
  return absl::int128(a.micros()) * Fraction::kOne >= absl::int128(f.ppm()) * b.micros();
}

bool Below(Money a, Fraction f, Money b) { return !AtLeast(a, f, b); }

bool SavesAtLeast(Money from, Money to, Fraction f) {
  return absl::int128(from.micros() - to.micros()) * Fraction::kOne >=
         absl::int128(f.ppm()) * from.micros();
}

double SavingsPercent(Money from, Money to) {
  if (from.micros() == 0) return 0;
  return 100.0 * static_cast<double>(from.micros() - to.micros()) /
         static_cast<double>(from.micros());
}

}  // namespace spotopt::decision
