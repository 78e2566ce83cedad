#include "spotopt/decision/risk.h"

#include <algorithm>
#include <cmath>

namespace spotopt::decision {
namespace {

constexpr double kHoursPerMonth = 730.0;  // 365 x 24 / 12

}  // namespace

double MonthlyRate(const PoolMarket& p, const RiskModel& m) {
  double rate = m.unknown_band_rate;
  if (p.advisor) {
    const int band = std::clamp(p.advisor->band.index, 0, static_cast<int>(m.band_rate.size()) - 1);
    rate = m.band_rate[static_cast<size_t>(band)];
  }
  rate += m.per_termination * std::max(p.terminations, 0);
  rate += m.per_rebalance * std::max(p.rebalances, 0);
  if (std::isfinite(p.volatility_day)) rate += m.per_volatility * std::max(p.volatility_day, 0.0);
  return rate;
}

double Risk(const PoolMarket& p, const RiskModel& m) { return 1.0 - std::exp(-MonthlyRate(p, m)); }

double HourlyHazard(const PoolMarket& p, const RiskModel& m) {
  return MonthlyRate(p, m) / kHoursPerMonth;
}

}  // namespace spotopt::decision
