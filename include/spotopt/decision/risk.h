// Interruption risk of a spot pool, shared by every built-in engine and by the
// guards: one model, so the rules, the scoring and the risk_threshold check agree.
//
// The risk is the chance of at least one interruption within a month, 1 - exp(-rate),
// where the monthly rate adds up what is known about the pool:
//   - the Spot Advisor band of its type: the share of instances AWS interrupted over the
//     trailing month, taken at the band's midpoint (the open top band as 20-30 %);
//   - the fleet's own evidence: termination notices and rebalance recommendations the
//     tenant's agents reported from this pool within the signal window;
//   - how much its price moved today (relative deviation of its measured buckets): a
//     pool in flux is one whose spare capacity is changing. Half weight: a single big
//     step (a 50 % drop gives 0.34) must not by itself put a pool above the default
//     risk ceiling.
#ifndef SPOTOPT_DECISION_RISK_H_
#define SPOTOPT_DECISION_RISK_H_

#include <array>

#include "spotopt/decision/input.h"

namespace spotopt::decision {

struct RiskModel {
  // Monthly interruption rate per Advisor band index 0..4 (<5 %, 5-10 %, 10-15 %,
  // 15-20 %, >20 %).
  std::array<double, 5> band_rate = {0.025, 0.075, 0.125, 0.175, 0.25};
  double unknown_band_rate = 0.15;  // no Advisor entry: between the middle bands
  double per_termination = 0.5;     // added per termination notice seen in the pool
  double per_rebalance = 0.15;      // added per rebalance recommendation
  double per_volatility = 0.5;      // times the day's relative price deviation
};

// The pool's expected interruptions per month.
SPOTOPT_EXPORT double MonthlyRate(const PoolMarket& p, const RiskModel& model = {});
// 1 - exp(-MonthlyRate): in [0, 1).
SPOTOPT_EXPORT double Risk(const PoolMarket& p, const RiskModel& model = {});
// Interruptions per hour, for expected-cost arithmetic.
SPOTOPT_EXPORT double HourlyHazard(const PoolMarket& p, const RiskModel& model = {});

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_RISK_H_
