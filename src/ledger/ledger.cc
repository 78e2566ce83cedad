#include "spotopt/ledger/ledger.h"

#include <algorithm>
#include <map>

#include "absl/numeric/int128.h"
#include "absl/time/civil_time.h"

namespace spotopt::ledger {
namespace {

// Micro-dollars per hour times microseconds: one micro-dollar is this many units.
constexpr int64_t kUnitsPerMicro = int64_t{3'600'000'000};

using Exact = absl::int128;

int64_t RoundToMicros(Exact units) {
  Exact q = units / kUnitsPerMicro;
  const Exact r = units % kUnitsPerMicro;
  if (2 * (r < 0 ? -r : r) >= kUnitsPerMicro) q += units < 0 ? -1 : 1;
  return static_cast<int64_t>(absl::Int128Low64(q));
}

// The price in effect at `t` (the last step at or before it), if any.
std::optional<Money> PriceAt(std::span<const PriceStep> steps, Time t) {
  auto it = std::upper_bound(steps.begin(), steps.end(), t,
                             [](Time x, const PriceStep& s) { return x < s.from; });
  if (it == steps.begin()) return std::nullopt;
  return std::prev(it)->price;
}

// Start of the period containing t, and of the next one.
Time PeriodStart(Time t, Period p) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  if (p == Period::kDay) return absl::FromCivil(absl::CivilDay(absl::ToCivilDay(t, utc)), utc);
  return absl::FromCivil(absl::CivilMonth(absl::ToCivilMonth(t, utc)), utc);
}
Time NextPeriod(Time start, Period p) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  if (p == Period::kDay) return absl::FromCivil(absl::ToCivilDay(start, utc) + 1, utc);
  return absl::FromCivil(absl::ToCivilMonth(start, utc) + 1, utc);
}

// One quantity (cost or baseline) of one period: the exact known amount and
// whether any contributing interval lacked its price.
struct Quantity {
  Exact known = 0;
  bool unknown = false;
  void Add(std::optional<int64_t> rate, Duration d) {
    if (!rate) {
      unknown = true;
      return;
    }
    known += static_cast<Exact>(*rate) * absl::ToInt64Microseconds(d);
  }
};

struct Accumulator {
  Time end;
  Quantity cost, baseline;
  Duration run, downtime;
  void Add(const CostInterval& i, Duration d) {
    if (i.kind == IntervalKind::kDowntime) {
      downtime += d;
      return;
    }
    run += d;
    const std::optional<int64_t> actual =
        i.actual ? std::optional<int64_t>(i.actual->micros()) : std::nullopt;
    const std::optional<int64_t> base =
        i.baseline ? std::optional<int64_t>(i.baseline->micros()) : std::nullopt;
    cost.Add(actual, d);
    baseline.Add(base, d);
  }
};

// Turns per-period exact amounts into figures: each is the difference of the rounded
// running totals at its ends, so consecutive periods add up exactly.
std::vector<Figures> Telescope(const std::map<Time, Accumulator>& periods) {
  std::vector<Figures> out;
  Exact cost_total = 0, baseline_total = 0;
  const auto step = [](Exact& total, const Quantity& q) -> std::optional<Money> {
    const int64_t before = RoundToMicros(total);
    total += q.known;
    if (q.unknown) return std::nullopt;
    return Money::FromMicros(RoundToMicros(total) - before);
  };
  for (const auto& [start, acc] : periods) {
    Figures f;
    f.start = start;
    f.end = acc.end;
    f.cost = step(cost_total, acc.cost);
    f.baseline = step(baseline_total, acc.baseline);
    // The difference of two telescoped figures telescopes too, and keeps
    // savings == baseline - cost exact in every period.
    if (f.cost && f.baseline) f.savings = *f.baseline - *f.cost;
    f.run = acc.run;
    f.downtime = acc.downtime;
    out.push_back(f);
  }
  return out;
}

}  // namespace

std::vector<PriceStep> StepsFrom(std::span<const sef::MeasuredBucket> measured, bool catalog_only) {
  std::vector<PriceStep> out;
  for (const sef::MeasuredBucket& b : measured) {
    const std::optional<sef::Pick>& catalog = b.picks[static_cast<int>(PriceSource::kCatalog)];
    if (catalog_only && !catalog) continue;
    const sef::Pick& p = catalog_only ? *catalog : b.chosen();
    if (!out.empty() && out.back().price.micros() == p.price_micros) continue;
    out.push_back(PriceStep{FromMicros(p.observed_us), Money::FromMicros(p.price_micros)});
  }
  return out;
}

std::string_view ToString(IntervalKind k) { return k == IntervalKind::kRun ? "run" : "downtime"; }

std::vector<CostInterval> Intervals(const RunSegment& segment, std::span<const PriceStep> spot,
                                    std::span<const PriceStep> on_demand, Time now) {
  const Time end = segment.ended_at ? std::min(*segment.ended_at, now) : now;
  if (end <= segment.started_at) return {};
  const bool on_spot = segment.placement.mode == Mode::kSpot;
  // Every moment inside the segment where a price changes starts a new interval.
  std::vector<Time> cuts{segment.started_at};
  const auto add_cuts = [&](std::span<const PriceStep> steps) {
    for (const PriceStep& s : steps) {
      if (s.from > segment.started_at && s.from < end) cuts.push_back(s.from);
    }
  };
  add_cuts(on_demand);
  if (on_spot) add_cuts(spot);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  cuts.push_back(end);

  std::vector<CostInterval> out;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    CostInterval i;
    i.agent_id = segment.agent_id;
    i.instance_id = segment.instance_id;
    i.role = segment.role;
    i.placement = segment.placement;
    i.start = cuts[k];
    i.end = cuts[k + 1];
    const std::optional<Money> od = PriceAt(on_demand, i.start);
    i.actual = on_spot ? PriceAt(spot, i.start) : od;
    // A standby or a draining old primary adds cost and no baseline: it is what
    // the savings pay for.
    i.baseline = segment.role == RunRole::kPrimary ? od : std::optional<Money>(Money());
    // Neighbours with the same prices are one interval.
    if (!out.empty() && out.back().actual == i.actual && out.back().baseline == i.baseline) {
      out.back().end = i.end;
      continue;
    }
    out.push_back(std::move(i));
  }
  return out;
}

std::optional<RunSegment> ReplicaRun(const Replica& r) {
  const auto entered = [&](ReplicaState s) { return r.entered_at[static_cast<int>(s)]; };
  if (r.instance_id.empty()) return std::nullopt;
  std::optional<Time> start;
  for (ReplicaState s : {ReplicaState::kSyncing, ReplicaState::kReady, ReplicaState::kPromoting}) {
    if (entered(s)) {
      start = entered(s);
      break;
    }
  }
  if (!start) return std::nullopt;
  RunSegment seg;
  seg.id = r.id;
  seg.tenant_id = r.tenant_id;
  seg.agent_id = r.agent_id;
  seg.instance_id = r.instance_id;
  seg.role = RunRole::kReplica;
  seg.placement =
      Placement{r.instance_id, r.pool.instance_type, r.pool.region, r.pool.az, Mode::kSpot};
  seg.started_at = *start;
  for (ReplicaState s :
       {ReplicaState::kPromoted, ReplicaState::kFailed, ReplicaState::kTerminated}) {
    if (entered(s) && (!seg.ended_at || *entered(s) < *seg.ended_at)) seg.ended_at = entered(s);
  }
  return seg;
}

std::optional<CostInterval> Downtime(const SwitchRecord& s) {
  const std::optional<Time>& from = s.timings.ready_at;
  const std::optional<Time>& to = s.timings.traffic_switched_at;
  if (!from || !to || *to <= *from) return std::nullopt;
  CostInterval i;
  i.agent_id = s.agent_id;
  i.instance_id = s.to.instance_id;
  i.kind = IntervalKind::kDowntime;
  i.placement = s.to;
  i.start = *from;
  i.end = *to;
  return i;
}

std::string_view ToString(Period p) {
  switch (p) {
    case Period::kDay:
      return "day";
    case Period::kMonth:
      return "month";
    case Period::kLifetime:
      return "lifetime";
  }
  return "unknown";
}

absl::StatusOr<Period> ParsePeriod(std::string_view text) {
  for (Period p : {Period::kDay, Period::kMonth, Period::kLifetime}) {
    if (ToString(p) == text) return p;
  }
  return absl::InvalidArgumentError("period: one of day, month, lifetime");
}

std::vector<Figures> Rollup(std::span<const CostInterval> intervals, Period period) {
  std::map<Time, Accumulator> periods;
  if (period == Period::kLifetime) {
    if (intervals.empty()) return {};
    Accumulator acc;
    Time start = absl::InfiniteFuture();
    acc.end = absl::InfinitePast();
    for (const CostInterval& i : intervals) {
      start = std::min(start, i.start);
      acc.end = std::max(acc.end, i.end);
      acc.Add(i, i.end - i.start);
    }
    periods.emplace(start, acc);
    return Telescope(periods);
  }
  for (const CostInterval& i : intervals) {
    for (Time from = i.start; from < i.end;) {
      const Time start = PeriodStart(from, period);
      const Time next = NextPeriod(start, period);
      const Time to = std::min(next, i.end);
      Accumulator& acc = periods[start];
      acc.end = next;
      acc.Add(i, to - from);
      from = to;
    }
  }
  return Telescope(periods);
}

}  // namespace spotopt::ledger
