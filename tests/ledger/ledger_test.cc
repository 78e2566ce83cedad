// The savings ledger (spotopt/ledger/ledger.h) on synthetic timelines with exact
// expected dollars. Runs under TZ=UTC and TZ=America/New_York.
#include "spotopt/ledger/ledger.h"

#include <doctest/doctest.h>

#include <numeric>
#include <vector>

namespace spotopt::ledger {
namespace {

const absl::TimeZone kUtc = absl::UTCTimeZone();

Time At(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), kUtc);
}

Money Usd(std::string_view text) { return *Money::ParsePrice(text, "test"); }

Placement Spot(std::string_view az, std::string_view instance = "i-0000000000000000a") {
  return Placement{std::string(instance), "m5.large", "us-east-1", std::string(az), Mode::kSpot};
}

RunSegment Segment(const Placement& p, Time start, std::optional<Time> end,
                   RunRole role = RunRole::kPrimary) {
  RunSegment s;
  s.id = "seg";
  s.tenant_id = "t";
  s.agent_id = "agent";
  s.instance_id = p.instance_id;
  s.role = role;
  s.placement = p;
  s.started_at = start;
  s.ended_at = end;
  return s;
}

std::vector<CostInterval> Concat(std::vector<std::vector<CostInterval>> parts) {
  std::vector<CostInterval> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The single lifetime figure.
Figures Lifetime(const std::vector<CostInterval>& intervals) {
  const std::vector<Figures> f = Rollup(intervals, Period::kLifetime);
  REQUIRE(f.size() == 1);
  return f[0];
}

const std::vector<PriceStep> kOnDemand{{At(2025, 1, 1), Usd("0.096")}};

TEST_CASE("four hours on one spot price") {
  const std::vector<PriceStep> spot{{At(2026, 3, 1), Usd("0.0389")}};
  const auto i = Intervals(Segment(Spot("us-east-1a"), At(2026, 3, 2, 10), At(2026, 3, 2, 14)),
                           spot, kOnDemand, At(2026, 4, 1));
  REQUIRE(i.size() == 1);
  const Figures f = Lifetime(i);
  CHECK(f.cost == Usd("0.1556"));
  CHECK(f.baseline == Usd("0.384"));
  CHECK(f.savings == Usd("0.2284"));
  CHECK(f.run == absl::Hours(4));
}

TEST_CASE("a price change splits the interval") {
  const std::vector<PriceStep> spot{{At(2026, 3, 1), Usd("0.0389")},
                                    {At(2026, 3, 2, 12), Usd("0.05")}};
  const auto i = Intervals(Segment(Spot("us-east-1a"), At(2026, 3, 2, 10), At(2026, 3, 2, 14)),
                           spot, kOnDemand, At(2026, 4, 1));
  REQUIRE(i.size() == 2);
  CHECK(i[0].actual == Usd("0.0389"));
  CHECK(i[0].end == At(2026, 3, 2, 12));
  CHECK(i[1].actual == Usd("0.05"));
  CHECK(Lifetime(i).cost == Usd("0.1778"));  // 2 h x 0.0389 + 2 h x 0.05
}

TEST_CASE("a switch: two segments in two pools") {
  const std::vector<PriceStep> a{{At(2026, 3, 1), Usd("0.04")}};
  const std::vector<PriceStep> b{{At(2026, 3, 1), Usd("0.03")}};
  const auto intervals =
      Concat({Intervals(Segment(Spot("us-east-1a"), At(2026, 3, 2), At(2026, 3, 2, 6)), a,
                        kOnDemand, At(2026, 4, 1)),
              Intervals(Segment(Spot("us-east-1b", "i-0000000000000000b"), At(2026, 3, 2, 6),
                                std::nullopt),
                        b, kOnDemand, At(2026, 3, 3))});
  const Figures f = Lifetime(intervals);
  CHECK(f.cost == Usd("0.78"));       // 6 h x 0.04 + 18 h x 0.03
  CHECK(f.baseline == Usd("2.304"));  // 24 h x 0.096
  CHECK(f.savings == Usd("1.524"));
  const std::vector<Figures> days = Rollup(intervals, Period::kDay);
  REQUIRE(days.size() == 1);
  CHECK(days[0].start == At(2026, 3, 2));
  CHECK(days[0].savings == f.savings);
}

TEST_CASE("a replica's cost is counted against the savings") {
  const std::vector<PriceStep> spot{{At(2026, 3, 1), Usd("0.03")}};
  const auto intervals =
      Concat({Intervals(Segment(Spot("us-east-1a"), At(2026, 3, 2), At(2026, 3, 2, 10)), spot,
                        kOnDemand, At(2026, 4, 1)),
              Intervals(Segment(Spot("us-east-1b", "i-0000000000000000c"), At(2026, 3, 2, 8),
                                At(2026, 3, 2, 10), RunRole::kReplica),
                        spot, kOnDemand, At(2026, 4, 1))});
  REQUIRE(intervals.size() == 2);
  CHECK(intervals[1].baseline == Money());  // a standby has no on-demand counterpart
  const Figures f = Lifetime(intervals);
  CHECK(f.cost == Usd("0.36"));      // 10 h + 2 h replica, x 0.03
  CHECK(f.baseline == Usd("0.96"));  // the primary's 10 h only
  CHECK(f.savings == Usd("0.6"));
  CHECK(f.run == absl::Hours(12));
}

TEST_CASE("a month with no switch: days sum to the month, months to the lifetime") {
  const std::vector<PriceStep> spot{{At(2026, 1, 20), Usd("0.0389")}};
  // All of February 2026 and one day of March.
  const auto intervals = Intervals(Segment(Spot("us-east-1a"), At(2026, 2, 1), At(2026, 3, 2)),
                                   spot, kOnDemand, At(2026, 4, 1));
  const std::vector<Figures> months = Rollup(intervals, Period::kMonth);
  REQUIRE(months.size() == 2);
  CHECK(months[0].start == At(2026, 2, 1));
  CHECK(months[0].end == At(2026, 3, 1));
  CHECK(months[0].cost == Usd("26.1408"));     // 672 h x 0.0389
  CHECK(months[0].baseline == Usd("64.512"));  // 672 h x 0.096
  CHECK(months[0].savings == Usd("38.3712"));
  CHECK(months[1].cost == Usd("0.9336"));
  const std::vector<Figures> days = Rollup(intervals, Period::kDay);
  REQUIRE(days.size() == 29);
  Money feb;
  for (int d = 0; d < 28; ++d) {
    CHECK(days[d].run == absl::Hours(24));  // UTC days, whatever TZ says
    feb = feb + *days[d].cost;
  }
  CHECK(feb == *months[0].cost);
  CHECK(*months[0].cost + *months[1].cost == *Lifetime(intervals).cost);
}

TEST_CASE("awkward rates still conserve: rounding telescopes") {
  // 1 micro-dollar per hour, 30 minutes a day: half a micro-dollar each day.
  const std::vector<PriceStep> spot{{At(2026, 1, 1), Money::FromMicros(1)}};
  const std::vector<PriceStep> od{{At(2026, 1, 1), Money::FromMicros(7)}};
  std::vector<CostInterval> intervals;
  for (int d = 1; d <= 31; ++d) {
    auto part = Intervals(Segment(Spot("us-east-1a"), At(2026, 1, d, 10), At(2026, 1, d, 10, 30)),
                          spot, od, At(2026, 4, 1));
    intervals.insert(intervals.end(), part.begin(), part.end());
  }
  const std::vector<Figures> days = Rollup(intervals, Period::kDay);
  const std::vector<Figures> months = Rollup(intervals, Period::kMonth);
  REQUIRE(months.size() == 1);
  int64_t cost = 0, savings = 0;
  for (const Figures& f : days) {
    cost += f.cost->micros();
    savings += f.savings->micros();
    CHECK(f.cost->micros() >= 0);
    CHECK(f.cost->micros() <= 1);
  }
  CHECK(cost == months[0].cost->micros());
  CHECK(cost == 16);  // 15.5 micro-dollars, rounded half away from zero
  CHECK(savings == months[0].savings->micros());
  CHECK(savings == 93);  // 31 x 3 exactly
  // Recomputable: the same input gives the same figures.
  CHECK(Rollup(intervals, Period::kDay) == days);
}

TEST_CASE("unknown prices make figures unknown, never 0") {
  const std::vector<PriceStep> spot{{At(2026, 3, 2, 12), Usd("0.03")}};
  // No on-demand price at all; no spot price before noon.
  const auto intervals =
      Intervals(Segment(Spot("us-east-1a"), At(2026, 3, 2, 10), At(2026, 3, 2, 14)), spot, {},
                At(2026, 4, 1));
  REQUIRE(intervals.size() == 2);
  CHECK_FALSE(intervals[0].actual.has_value());
  CHECK(intervals[1].actual == Usd("0.03"));
  const Figures f = Lifetime(intervals);
  CHECK_FALSE(f.cost.has_value());
  CHECK_FALSE(f.baseline.has_value());
  CHECK_FALSE(f.savings.has_value());
  CHECK(f.run == absl::Hours(4));

  // A known spot price but unknown on-demand: cost known, savings unknown.
  const auto known_cost =
      Intervals(Segment(Spot("us-east-1a"), At(2026, 3, 2, 12), At(2026, 3, 2, 14)), spot, {},
                At(2026, 4, 1));
  const Figures g = Lifetime(known_cost);
  CHECK(g.cost == Usd("0.06"));
  CHECK_FALSE(g.savings.has_value());
}

TEST_CASE("only measured prices step; interpolation never enters the ledger") {
  sef::Options o;
  std::vector<sef::Sample> samples{
      {0, ToMicros(At(2026, 3, 2, 10)), 30'000, 1, PriceSource::kPrimary},
      {0, ToMicros(At(2026, 3, 2, 10, 1)), 30'000, 2, PriceSource::kReplica},
      {0, ToMicros(At(2026, 3, 2, 11)), 50'000, 3, PriceSource::kPrimary},
      {0, ToMicros(At(2026, 3, 2, 11, 5)), 50'000, 4, PriceSource::kPrimary}};
  const std::vector<sef::MeasuredBucket> measured = sef::Bucketize(samples, o);
  // Two price changes only; the 11 empty buckets between them are not steps.
  CHECK(StepsFrom(measured) ==
        std::vector<PriceStep>{{At(2026, 3, 2, 10), Money::FromMicros(30'000)},
                               {At(2026, 3, 2, 11), Money::FromMicros(50'000)}});
  // catalog_only keeps catalog picks and nothing else.
  CHECK(StepsFrom(measured, true).empty());
}

TEST_CASE("replica runs come from the replica's own history") {
  Replica r;
  r.id = "r1";
  r.agent_id = "agent";
  r.pool = Pool{"us-east-1", "us-east-1b", "m5.large"};
  r.entered_at[static_cast<int>(ReplicaState::kLaunching)] = At(2026, 3, 2, 8);
  CHECK_FALSE(ReplicaRun(r).has_value());  // no instance yet
  r.instance_id = "i-0000000000000000c";
  r.entered_at[static_cast<int>(ReplicaState::kSyncing)] = At(2026, 3, 2, 8, 5);
  std::optional<RunSegment> run = ReplicaRun(r);
  REQUIRE(run.has_value());
  CHECK(run->started_at == At(2026, 3, 2, 8, 5));
  CHECK_FALSE(run->ended_at.has_value());
  CHECK(run->role == RunRole::kReplica);
  r.entered_at[static_cast<int>(ReplicaState::kPromoted)] = At(2026, 3, 2, 9);
  CHECK(ReplicaRun(r)->ended_at == At(2026, 3, 2, 9));
}

TEST_CASE("switch downtime is its own interval") {
  SwitchRecord s;
  s.agent_id = "agent";
  s.to = Spot("us-east-1b", "i-0000000000000000b");
  s.timings.ready_at = At(2026, 3, 2, 6);
  s.timings.traffic_switched_at = At(2026, 3, 2, 6) + absl::Seconds(2);
  const std::optional<CostInterval> d = Downtime(s);
  REQUIRE(d.has_value());
  CHECK(d->kind == IntervalKind::kDowntime);
  const Figures f = Lifetime({*d});
  CHECK(f.downtime == absl::Seconds(2));
  CHECK(f.run == absl::ZeroDuration());
  CHECK(f.cost == Money());
  s.timings.traffic_switched_at.reset();
  CHECK_FALSE(Downtime(s).has_value());
}

TEST_CASE("periods parse from their names") {
  CHECK(*ParsePeriod("day") == Period::kDay);
  CHECK(*ParsePeriod("month") == Period::kMonth);
  CHECK(*ParsePeriod("lifetime") == Period::kLifetime);
  CHECK(absl::IsInvalidArgument(ParsePeriod("week").status()));
  CHECK(Rollup({}, Period::kLifetime).empty());
}

}  // namespace
}  // namespace spotopt::ledger
