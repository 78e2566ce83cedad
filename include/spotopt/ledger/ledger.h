// The savings ledger: what the fleet actually ran, priced, and folded into daily,
// monthly and lifetime figures. Pure functions over value types.
//
//   run segments (who ran where, when) + price steps  --Intervals-->  cost intervals
//   switch records                                    --Downtime-->   downtime intervals
//   intervals                                         --Rollup-->     period figures
//
// Money stays exact: an interval's amount is rate (micro-dollars per hour) times
// microseconds, kept in 128 bits; a period's figure is the difference of the rounded
// running total at its two ends, so days sum exactly to their month and months to the
// lifetime. Prices come from measured buckets only (never interpolated ones): a price
// holds from its observation until the next measured price of its series. An unknown
// price makes the figures that need it unknown (nullopt), never 0.
#ifndef SPOTOPT_LEDGER_LEDGER_H_
#define SPOTOPT_LEDGER_LEDGER_H_

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spotopt/domain/replica.h"
#include "spotopt/domain/report.h"
#include "spotopt/domain/run_segment.h"
#include "spotopt/pricing/sef.h"
#include "spotopt/types.h"

namespace spotopt::ledger {

// A price in effect from `from` until the next step.
struct PriceStep {
  Time from;
  Money price;
  friend bool operator==(const PriceStep&, const PriceStep&) = default;
};

// The steps of one series' measured buckets (one series, ordered by start): each
// bucket's chosen value from the time it was observed; repeats of the same price are
// dropped. With `catalog_only`, only catalog picks count (an operator's on-demand
// price list outranks any estimate an agent reports).
SPOTOPT_EXPORT std::vector<PriceStep> StepsFrom(std::span<const sef::MeasuredBucket> measured,
                                                bool catalog_only = false);

enum class IntervalKind { kRun, kDowntime };
SPOTOPT_EXPORT std::string_view ToString(IntervalKind k);  // run | downtime

struct CostInterval {
  std::string agent_id;
  std::string instance_id;
  RunRole role = RunRole::kPrimary;
  IntervalKind kind = IntervalKind::kRun;
  Placement placement;
  // $/h while it ran; absent = unknown. A downtime interval has neither.
  std::optional<Money> actual;
  // The on-demand $/h the agent would have paid without spot; 0 for a replica (a
  // standby is an extra the savings pay for), absent = unknown.
  std::optional<Money> baseline;
  Time start;
  Time end;
  friend bool operator==(const CostInterval&, const CostInterval&) = default;
};

// The intervals of one run segment up to `now` (an open segment runs until `now`),
// split wherever the actual or the baseline price changes. `spot` are the steps of
// the segment's pool (ignored on on-demand), `on_demand` those of its (region, type).
SPOTOPT_EXPORT std::vector<CostInterval> Intervals(const RunSegment& segment,
                                                   std::span<const PriceStep> spot,
                                                   std::span<const PriceStep> on_demand, Time now);

// A replica's run as a segment, read from its own state history: from the time its
// real instance was first known to be up (SYNCING, else READY, else PROMOTING) to
// when it was PROMOTED (its primary segment starts there), FAILED or TERMINATED.
// nullopt for a replica that never ran an instance.
SPOTOPT_EXPORT std::optional<RunSegment> ReplicaRun(const Replica& r);

// The cutover of a switch as the agent reported it, from the new instance being
// ready to traffic switched; nullopt when either time is missing or out of order.
SPOTOPT_EXPORT std::optional<CostInterval> Downtime(const SwitchRecord& s);

enum class Period { kDay, kMonth, kLifetime };
SPOTOPT_EXPORT std::string_view ToString(Period p);  // day | month | lifetime
SPOTOPT_EXPORT absl::StatusOr<Period> ParsePeriod(std::string_view text);

struct Figures {
  Time start;  // the UTC day or month; the lifetime starts at the first interval
  Time end;
  std::optional<Money> cost;      // sum of actual over time run
  std::optional<Money> baseline;  // what on-demand would have cost
  std::optional<Money> savings;   // baseline - cost
  Duration run;                   // instance time, primaries and replicas
  Duration downtime;
  friend bool operator==(const Figures&, const Figures&) = default;
};

// The figures of every UTC day or month that has intervals, in time order, or the
// single lifetime figure (none for no intervals).
SPOTOPT_EXPORT std::vector<Figures> Rollup(std::span<const CostInterval> intervals, Period period);

}  // namespace spotopt::ledger

#endif  // SPOTOPT_LEDGER_LEDGER_H_
