// Prices and savings through the Controller, on MemoryStore and SqliteStore: imports,
// clean series, market view, Advisor feed swap, retention, and the ledger of an agent
// that registers, switches and keeps a replica, with exact dollars.
#include <doctest/doctest.h>

#include "fixture.h"

namespace spotopt {
namespace {

using testing::InstanceId;
using testing::PoolId;
using testing::ServiceFixture;

const Pool kPoolA{"us-east-1", "us-east-1a", "m5.large"};
const Pool kPoolC{"us-east-1", "us-east-1c", "m5.large"};
const Pool kOnDemand{"us-east-1", "", "m5.large"};

Money Usd(std::string_view text) { return *Money::ParsePrice(text, "test"); }

void Import(ServiceFixture& f, const std::string& tenant, std::vector<CatalogPrice> prices) {
  absl::StatusOr<int64_t> n = f.controller().ImportPrices(tenant, prices);
  REQUIRE_MESSAGE(n.ok(), n.status().ToString());
  REQUIRE(*n == static_cast<int64_t>(prices.size()));
}

constexpr std::string_view kFeedV1 = R"({"ranges": [
  {"index": 0, "label": "<5%", "max": 5}, {"index": 1, "label": "5-10%", "max": 11}],
  "spot_advisor": {"us-east-1": {"Linux": {"m5.large": {"s": 60, "r": 0}}}}})";
constexpr std::string_view kFeedV2 = R"({"ranges": [
  {"index": 0, "label": "<5%", "max": 5}, {"index": 1, "label": "5-10%", "max": 11}],
  "spot_advisor": {"us-east-1": {"Linux": {"m5.large": {"s": 55, "r": 1}}}}})";

TEST_CASE_TEMPLATE("imported prices become clean series, a market view and gaps", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const Time t0 = f.clock().Now() - absl::Hours(2);  // on a bucket boundary
  Import(f, tenant,
         {{kPoolA, Usd("0.04"), t0},
          {kPoolA, Usd("0.05"), t0 + absl::Minutes(20)},  // three empty buckets between
          {kPoolA, Usd("0.06"), t0 + absl::Minutes(21)},  // later in the same bucket: loses
          {kPoolC, Usd("0.03"), t0},
          {kOnDemand, Usd("0.096"), t0 - absl::Hours(24)}});

  absl::StatusOr<std::vector<sef::CleanPoint>> clean =
      c.PriceSeries(tenant, kPoolA, t0, t0 + absl::Hours(1), SeriesView::kClean);
  REQUIRE_MESSAGE(clean.ok(), clean.status().ToString());
  REQUIRE(clean->size() == 2);
  CHECK((*clean)[0].price_micros == 40'000);
  CHECK((*clean)[1].price_micros == 50'000);
  CHECK((*clean)[1].source == sef::PointSource::kCatalog);

  absl::StatusOr<std::vector<sef::CleanPoint>> filled =
      c.PriceSeries(tenant, kPoolA, t0, t0 + absl::Hours(1), SeriesView::kInterpolated);
  REQUIRE(filled.ok());
  std::vector<int64_t> prices;
  for (const sef::CleanPoint& p : *filled) prices.push_back(p.price_micros);
  CHECK(prices == std::vector<int64_t>{40'000, 42'500, 45'000, 47'500, 50'000});
  CHECK((*filled)[2].source == sef::PointSource::kInterpolated);

  // Open ends read the whole series.
  CHECK(*c.PriceSeries(tenant, kPoolA, absl::InfinitePast(), absl::InfiniteFuture(),
                       SeriesView::kInterpolated) == *filled);

  // The raw series keeps every observation.
  CHECK(c.ListPriceObservations(tenant, kPoolA, t0, t0 + absl::Hours(1))->size() == 3);
  absl::StatusOr<std::vector<sef::Gap>> gaps = c.PriceGaps(tenant, kPoolA, t0, t0 + absl::Hours(1));
  REQUIRE(gaps.ok());
  REQUIRE(gaps->size() == 1);
  CHECK(gaps->front().missing_buckets == 3);
  CHECK(gaps->front().filled);

  // Latest clean price per series, with its age.
  absl::StatusOr<std::vector<LatestPrice>> latest = c.LatestCleanPrices(tenant);
  REQUIRE(latest.ok());
  REQUIRE(latest->size() == 3);  // on-demand, 1a, 1c
  CHECK((*latest)[0].pool == kOnDemand);
  CHECK((*latest)[1].pool == kPoolA);
  CHECK((*latest)[1].point.price_micros == 50'000);
  CHECK((*latest)[1].age == absl::Minutes(100));

  // The market view, before and after an Advisor feed is loaded and replaced.
  absl::StatusOr<MarketView> market = c.Market(tenant, "us-east-1", "m5.large");
  REQUIRE(market.ok());
  CHECK_FALSE(market->advisor.has_value());
  REQUIRE(market->pools.size() == 2);
  CHECK(market->pools[0].pool == kPoolA);
  CHECK(market->pools[0].latest->point.price_micros == 50'000);
  CHECK(market->pools[0].volatility_hour == 0);                        // nothing in the last hour
  CHECK(market->pools[0].volatility_day == doctest::Approx(1.0 / 9));  // 40k, 50k
  CHECK(market->pools[1].volatility_day == 0);
  REQUIRE(market->on_demand.has_value());
  CHECK(market->on_demand->point.price_micros == 96'000);
  REQUIRE(*c.LoadAdvisorFeed(kFeedV1) == 1);
  CHECK(c.Market(tenant, "us-east-1", "m5.large")->advisor->band.label == "<5%");
  CHECK(absl::IsInvalidArgument(c.LoadAdvisorFeed("{").status()));  // keeps the old one
  CHECK(c.Market(tenant, "us-east-1", "m5.large")->advisor->band.label == "<5%");
  REQUIRE(c.LoadAdvisorFeed(kFeedV2).ok());
  CHECK(c.Market(tenant, "us-east-1", "m5.large")->advisor ==
        AdvisorEntry{AdvisorBand{1, "5-10%", 11}, 55});

  // Tenants never see each other's prices.
  const std::string other = f.NewTenant("other");
  CHECK(c.PriceSeries(other, kPoolA, t0, t0 + absl::Hours(1), SeriesView::kClean)->empty());
  CHECK(c.LatestCleanPrices(other)->empty());
}

// Agents' reports, read back at once (SqliteStore holds them to write in batches):
// the primary's price wins its bucket over a replica's that came first, a second
// report in a bucket loses to the first, a missing report is a gap, and the answer
// counts what was stored.
TEST_CASE_TEMPLATE("agents' pricing reports are read at once, deduplicated and gap-checked", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const testing::AgentHandle primary = f.RegisterAgent(tenant, "web", InstanceId(1));
  // Another instance of the same agent while the primary is online: not the primary.
  const testing::AgentHandle other = f.RegisterAgent(tenant, "web", InstanceId(2));
  const Time t0 = f.clock().Now();  // on a bucket boundary
  const auto report = [&](const testing::AgentHandle& a, std::string_view price, Time at) {
    PricingReport r;
    r.instance_type = "m5.large";
    r.on_demand_price = "0.096";
    r.spot_pools.push_back({PoolId("us-east-1a"), "", "", std::string(price)});
    r.collected_at = at;
    f.clock().Set(at);
    absl::StatusOr<PriceIngest> in = c.ReportPrices(tenant, a.registration_id, r);
    REQUIRE_MESSAGE(in.ok(), in.status().ToString());
    CHECK(in->accepted == 2);
    CHECK(in->refused.empty());
  };
  report(other, "0.050", t0);
  report(primary, "0.040", t0 + absl::Seconds(10));
  report(primary, "0.041", t0 + absl::Seconds(20));
  report(primary, "0.030", t0 + absl::Minutes(30));  // five buckets missed

  absl::StatusOr<std::vector<PriceObservation>> raw =
      c.ListPriceObservations(tenant, kPoolA, t0, t0 + absl::Hours(1));
  REQUIRE(raw.ok());
  std::vector<int64_t> prices;
  std::vector<PriceSource> sources;
  for (const PriceObservation& o : *raw) {
    prices.push_back(o.price.micros());
    sources.push_back(o.source);
  }
  CHECK(prices == std::vector<int64_t>{50'000, 40'000, 41'000, 30'000});
  CHECK(sources == std::vector<PriceSource>{PriceSource::kReplica, PriceSource::kPrimary,
                                            PriceSource::kPrimary, PriceSource::kPrimary});

  absl::StatusOr<std::vector<sef::CleanPoint>> clean =
      c.PriceSeries(tenant, kPoolA, t0, t0 + absl::Hours(1), SeriesView::kClean);
  REQUIRE(clean.ok());
  REQUIRE(clean->size() == 2);
  CHECK((*clean)[0].price_micros == 40'000);
  CHECK((*clean)[0].source == sef::PointSource::kPrimary);
  CHECK((*clean)[0].discrepancy);  // the replica said 0.050
  CHECK((*clean)[1].price_micros == 30'000);
  absl::StatusOr<std::vector<sef::Gap>> gaps = c.PriceGaps(tenant, kPoolA, t0, t0 + absl::Hours(1));
  REQUIRE(gaps.ok());
  REQUIRE(gaps->size() == 1);
  CHECK(gaps->front().missing_buckets == 5);
}

TEST_CASE_TEMPLATE("an agent's estimate never outranks the operator's on-demand price", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  const std::string tenant = f.NewTenant("acme");
  const auto a = f.RegisterAgent(tenant, "web-1", InstanceId(1));
  Import(f, tenant, {{kOnDemand, Usd("0.096"), f.clock().Now() - absl::Hours(1)}});
  PricingReport r;
  r.on_demand_price = 0.1;  // agent v4's fixed fallback estimate
  r.collected_at = f.clock().Now();
  REQUIRE(f.controller().ReportPrices(tenant, a.registration_id, r)->accepted == 1);
  absl::StatusOr<MarketView> market = f.controller().Market(tenant, "us-east-1", "m5.large");
  REQUIRE(market.ok());
  CHECK(market->on_demand->point.price_micros == 96'000);
}

TEST_CASE_TEMPLATE("bad price input is refused and changes nothing", S, SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const Time now = f.clock().Now();
  const std::string before = f.Dump();
  CHECK(absl::IsInvalidArgument(
      c.ImportPrices(tenant, {{kPoolA, Usd("0.04"), now}, {kPoolA, Money(), now}}).status()));
  CHECK(absl::IsInvalidArgument(
      c.ImportPrices(tenant, {{Pool{"", "us-east-1a", "m5.large"}, Usd("0.04"), now}}).status()));
  CHECK(absl::IsInvalidArgument(
      c.ImportPrices(tenant, {{kPoolA, Usd("0.04"), absl::UnixEpoch()}}).status()));
  CHECK(absl::IsNotFound(c.ImportPrices("nope", {{kPoolA, Usd("0.04"), now}}).status()));
  CHECK(absl::IsNotFound(c.ImportPrices(testing::InstanceId(3), {}).status()));
  CHECK(f.Dump() == before);
  CHECK(absl::IsInvalidArgument(
      c.PriceSeries(tenant, kPoolA, now, now - absl::Hours(1), SeriesView::kClean).status()));
  CHECK(absl::IsInvalidArgument(
      c.PriceSeries(tenant, Pool{"us-east-1", "us-east-1a", ""}, now, now, SeriesView::kClean)
          .status()));
  CHECK(absl::IsInvalidArgument(c.Market(tenant, "", "m5.large").status()));
  CHECK(absl::IsNotFound(c.Savings(tenant, "not-an-id", ledger::Period::kDay).status()));
  CHECK(absl::IsNotFound(c.Savings(NewId(), "", ledger::Period::kDay).status()));
}

TEST_CASE_TEMPLATE("retention thins old raw prices without changing the clean series", S,
                   SPOTOPT_ALL_STORES) {
  ControllerOptions options;
  options.raw_price_retention = absl::Hours(24);
  options.price_history_retention = absl::Hours(24 * 10);
  ServiceFixture f(S::kKind, options);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const Time t0 = f.clock().Now();
  std::vector<CatalogPrice> prices;
  // Two days of three observations per bucket, and one very old price.
  for (int k = 0; k < 2 * 288; ++k) {
    for (int j = 0; j < 3; ++j) {
      prices.push_back({kPoolA, Money::FromMicros(40'000 + k * 10 + j),
                        t0 + absl::Minutes(5 * k) + absl::Seconds(10 * j)});
    }
  }
  prices.push_back({kPoolA, Usd("0.01"), t0 - absl::Hours(24 * 30)});
  Import(f, tenant, prices);
  const Time end = t0 + absl::Hours(48);
  const auto series = [&] {
    return *c.PriceSeries(tenant, kPoolA, t0, end, SeriesView::kInterpolated);
  };
  const std::vector<sef::CleanPoint> before = series();
  REQUIRE(before.size() == 576);

  // Two days on: day one is past raw retention, day two not yet.
  f.clock().Advance(absl::Hours(24 * 2));
  absl::StatusOr<TickReport> tick = c.Tick(f.clock().Now());
  REQUIRE_MESSAGE(tick.ok(), tick.status().ToString());
  CHECK(tick->price_observations_pruned == 288 * 2 + 1);
  CHECK(series() == before);
  CHECK(c.ListPriceObservations(tenant, kPoolA, t0, t0 + absl::Hours(24))->size() == 288);
  CHECK(c.ListPriceObservations(tenant, kPoolA, t0 + absl::Hours(24), end)->size() == 288 * 3);
  CHECK(c.ListPriceObservations(tenant, kPoolA, absl::InfinitePast(), t0)->empty());
  // Idempotent: the next tick (an hour on) finds nothing more to prune.
  f.clock().Advance(absl::Hours(1));
  CHECK(c.Tick(f.clock().Now())->price_observations_pruned == 12 * 2);
  CHECK(series() == before);
}

TEST_CASE_TEMPLATE("the ledger of an agent that switches and keeps a replica", S,
                   SPOTOPT_ALL_STORES) {
  ServiceFixture f(S::kKind);
  Controller& c = f.controller();
  const std::string tenant = f.NewTenant("acme");
  const Time t0 = f.clock().Now();  // 2025-11-23T10:00Z
  Import(f, tenant,
         {{kOnDemand, Usd("0.096"), t0 - absl::Hours(24)},
          {kPoolA, Usd("0.04"), t0 - absl::Hours(24)},
          {kPoolC, Usd("0.03"), t0 - absl::Hours(24)},
          {kPoolC, Usd("0.02"), t0 + absl::Hours(8)}});
  const auto a = f.RegisterAgent(tenant, "web-1", InstanceId(1));

  // Six hours in 1a, then a switch to 1c reported by the agent.
  f.clock().Advance(absl::Hours(6));
  f.EnqueueSwitch(a, "us-east-1c");
  f.PollExpectingCommand(a);
  SwitchReport r;
  r.old_instance = {a.instance_id, "m5.large",          "us-east-1", "us-east-1a", "",
                    Mode::kSpot,   PoolId("us-east-1a")};
  r.new_instance = {InstanceId(2), "m5.large",          "us-east-1", "us-east-1c", "",
                    Mode::kSpot,   PoolId("us-east-1c")};
  r.timings.ready_at = f.clock().Now() - absl::Seconds(30);
  r.timings.traffic_switched_at = f.clock().Now() - absl::Seconds(28);
  REQUIRE(c.ReportSwitch(tenant, a.registration_id, r).ok());

  // A standby replica in 1a from hour 10 to hour 12 (promoted: it ends there and the
  // primary moves to it).
  f.clock().Advance(absl::Hours(4));
  const auto b = f.RegisterAgent(tenant, "web-1", InstanceId(2), "us-east-1c");
  const Replica replica = f.MakeReplica(b, InstanceId(3), "us-east-1a");
  f.clock().Advance(absl::Hours(2));
  REQUIRE(c.PromoteReplica(tenant, a.agent_id, replica.id, false).ok());
  f.clock().Advance(absl::Hours(12));  // until 2025-11-24T10:00Z

  absl::StatusOr<std::vector<ledger::CostInterval>> intervals = c.CostIntervals(tenant, a.agent_id);
  REQUIRE_MESSAGE(intervals.ok(), intervals.status().ToString());
  // 1a 0-6 h at 0.04, and draining 5 more minutes (the switch's terminate wait); 1c
  // 6-8 h at 0.03, 8-12 h at 0.02; replica 1a 10-12 h at 0.04; 1a again 12-24 h at
  // 0.04; and the 2 s cutover.
  absl::StatusOr<std::vector<ledger::Figures>> life =
      c.Savings(tenant, a.agent_id, ledger::Period::kLifetime);
  REQUIRE(life.ok());
  REQUIRE(life->size() == 1);
  const ledger::Figures& f_life = (*life)[0];
  CHECK(f_life.run == absl::Hours(26) + absl::Minutes(5));
  CHECK(f_life.downtime == absl::Seconds(2));
  // 0.24 + 0.0033333 + 0.06 + 0.08 + 0.08 + 0.48, rounded to the micro-dollar.
  CHECK(f_life.cost == Usd("0.943333"));
  CHECK(f_life.baseline == Usd("2.304"));  // 24 h of on-demand; replica and drain have none
  CHECK(f_life.savings == Usd("1.360667"));

  // Days (UTC) sum to the lifetime; the tenant's figures include the same agent.
  absl::StatusOr<std::vector<ledger::Figures>> days =
      c.Savings(tenant, a.agent_id, ledger::Period::kDay);
  REQUIRE(days.ok());
  REQUIRE(days->size() == 2);
  CHECK(*(*days)[0].savings + *(*days)[1].savings == *f_life.savings);
  CHECK(c.Savings(tenant, "", ledger::Period::kLifetime)->front().savings == f_life.savings);
  // Recomputable.
  CHECK(*c.Savings(tenant, a.agent_id, ledger::Period::kDay) == *days);
  // Another tenant cannot read it.
  CHECK(
      absl::IsNotFound(c.Savings(f.NewTenant("other"), a.agent_id, ledger::Period::kDay).status()));
}

}  // namespace
}  // namespace spotopt
