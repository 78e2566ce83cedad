// When spot capacity is reclaimed, pool by pool. Every strategy of a run faces the same
// draw: an interruption hits whichever instance of the agent is its primary in that
// pool at that moment, after a rebalance recommendation and the 2-minute notice.
//
// Two sources:
//  - hazard: a Poisson process per pool. The rate comes from the Advisor band of the
//    pool's type (the share of instances interrupted over a month; see BandMonthlyShare)
//    times a seeded factor per pool in [0.5, 1.5] (AZs of one type do not have the same
//    spare capacity; the band is per type).
//  - replay: each pool gets one of the SkyPilot preemption traces, placed at a seeded
//    offset; every drop in available instances is an interruption (of a k-node trace,
//    a drop from a to b hits our instance with probability (a - b) / a).
//
// Each pool also has a capacity signal: the rate its model gives it at a moment, in
// expected interruptions per instance-month. AWS's capacity-aware allocation strategies
// see it (AWS knows its own spare capacity); the rest of the harness does not.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_INTERRUPTIONS_H_
#define SPOTOPT_EXAMPLES_BACKTEST_INTERRUPTIONS_H_

#include <vector>

#include "data.h"
#include "market.h"

namespace spotopt::backtest {

struct Interruption {
  Sec rebalance_at = 0;  // the rebalance recommendation
  Sec notice_at = 0;     // the termination notice: at - 120 s
  Sec at = 0;            // the instance is reclaimed
};

enum class InterruptionMode { kNone, kHazard, kReplay };

struct InterruptionOptions {
  InterruptionMode mode = InterruptionMode::kHazard;
  uint64_t seed = 1;
  // The rebalance recommendation comes this much before the interruption (uniform).
  Sec rebalance_lead_min = 300;
  Sec rebalance_lead_max = 3600;
};

// The share of instances interrupted per month for an Advisor band index: the middle of
// the band ("<5%" 2.5 %, "5-10%" 7.5 %, "10-15%" 12.5 %, "15-20%" 17.5 %, ">20%" 25 %).
double BandMonthlyShare(int band);

class Interruptions {
 public:
  explicit Interruptions(size_t series) : events_(series), windows_(series) {}

  // Adds an interruption of a pool; events of a pool must be added in time order. One
  // whose notice would come before the pool's previous reclaim is dropped: an instance
  // gets one notice, and is reclaimed at its deadline (the ledger relies on it).
  void Add(SeriesId pool, const Interruption& i) {
    std::vector<Interruption>& events = events_[pool];
    if (events.empty() || i.notice_at >= events.back().at) events.push_back(i);
  }
  // The pool's capacity signal is `per_month` over [from, to).
  void SetRate(SeriesId pool, Sec from, Sec to, double per_month) {
    windows_[pool].push_back(Window{from, to, per_month});
  }

  const std::vector<Interruption>& Of(SeriesId pool) const { return events_[pool]; }
  // Expected interruptions per instance-month of the pool at t (0: none expected).
  double Rate(SeriesId pool, Sec t) const;

 private:
  struct Window {
    Sec from, to;
    double per_month;
  };
  std::vector<std::vector<Interruption>> events_;  // by series; on-demand: none
  std::vector<std::vector<Window>> windows_;
};

// InvalidArgument when replay is asked for and there is no trace, or the lead range is
// not 120 s < min <= max.
absl::StatusOr<Interruptions> DrawInterruptions(const Market& market, const Dataset* data,
                                                const InterruptionOptions& options);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_INTERRUPTIONS_H_
