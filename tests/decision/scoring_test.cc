// The scoring engine: expected cost, the cost of moving, forecasts, and its guards.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>

#include "spotopt/decision/scoring.h"
#include "tests/decision/market.h"

namespace spotopt::decision {
namespace {

using testing::Market;
using testing::PoolIn;
using testing::PoolOf;
using testing::SetPrice;
using testing::Usd;

Decision Decide(const ScoringEngine& engine, const DecisionInput& in) {
  absl::StatusOr<Decision> d = engine.Decide(in);
  REQUIRE(d.ok());
  CHECK(Validate(in, *d).ok());
  return *d;
}

// Forecasts one factor per pool by AZ.
class FixedForecast final : public Forecaster {
 public:
  explicit FixedForecast(std::map<std::string, double> by_az) : by_az_(std::move(by_az)) {}
  absl::StatusOr<std::vector<double>> Forecast(const DecisionInput& in) const override {
    std::vector<double> out;
    for (const PoolMarket& p : in.pools) {
      const auto it = by_az_.find(p.pool.az);
      out.push_back(it == by_az_.end() ? 1.0 : it->second);
    }
    return out;
  }
  bool needs_history() const override { return false; }

 private:
  std::map<std::string, double> by_az_;
};

TEST_CASE("scoring: stays when nothing is cheaper once moving is paid for") {
  const ScoringEngine engine;
  DecisionInput in = Market();
  in.config.min_savings_percent = 0;
  // 0.0399 saves 100 micro-USD/h; the move costs a 300 s drain at 0.040 plus 0.1 h of
  // on-demand, 12,933 micro-USD spread over 24 h = 539 per hour.
  SetPrice(in, "us-east-1c", "0.0399");
  Decision d = Decide(engine, in);
  CHECK(d.action == Action::kStay);
  CHECK(d.engine == "scoring");

  SetPrice(in, "us-east-1c", "0.0390");  // saves 1,000 per hour, more than the move
  d = Decide(engine, in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1c"));
  CHECK(d.reason == Reason::kLowerExpectedCost);
  CHECK(d.expected_savings_micros > 0);
  CHECK(d.expected_savings_micros < 1'000);
}

TEST_CASE("scoring: a riskier pool costs its expected interruptions") {
  ScoringParams params;
  params.interruption_hours = 50;  // a workload that suffers from interruptions
  const ScoringEngine engine(params);
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.0250");
  SetPrice(in, "us-east-1c", "0.0260");
  PoolOf(in, "us-east-1b").advisor->band.index = 4;  // 0.25 a month: 0.00034 an hour
  const Decision d = Decide(engine, in);
  CHECK(d.target == PoolIn("us-east-1c"));
  CHECK(d.risk < Risk(PoolOf(in, "us-east-1b")));

  const Decision rules_like = Decide(ScoringEngine(), in);  // default: price dominates
  CHECK(rules_like.target == PoolIn("us-east-1b"));
}

TEST_CASE("scoring: a forecast steers away from a pool about to rise") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.0250");
  SetPrice(in, "us-east-1c", "0.0270");
  const ScoringEngine engine(
      {}, std::make_shared<FixedForecast>(std::map<std::string, double>{{"us-east-1b", 1.2}}));
  const Decision d = Decide(engine, in);
  CHECK(d.target == PoolIn("us-east-1c"));
}

TEST_CASE("scoring: a forecast that is not a positive number is an error, not a decision") {
  DecisionInput in = Market();
  for (double bad : {std::nan(""), -1.0, 0.0, std::numeric_limits<double>::infinity()}) {
    CAPTURE(bad);
    const ScoringEngine engine(
        {}, std::make_shared<FixedForecast>(std::map<std::string, double>{{"us-east-1b", bad}}));
    CHECK(absl::IsInternal(engine.Decide(in).status()));
  }
}

TEST_CASE("scoring: spot at the fallback line is left for on-demand or a pool below it") {
  const ScoringEngine engine;
  DecisionInput in = Market();
  in.on_demand = Usd("0.10");
  for (PoolMarket& p : in.pools) p.spot->price = Usd("0.0805");
  Decision d = Decide(engine, in);
  CHECK(d.action == Action::kSwitchOnDemand);
  CHECK(d.reason == Reason::kSpotNearOnDemand);

  SetPrice(in, "us-east-1d", "0.050");
  d = Decide(engine, in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1d"));
}

TEST_CASE("scoring: the rules' guards hold its moves too") {
  const ScoringEngine engine;
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.020");
  in.placement_since = in.now - absl::Minutes(30);
  const Decision d = Decide(engine, in);
  CHECK(d.action == Action::kStay);
  CHECK(d.guard == Guard::kCooldown);
  CHECK(d.held_target == PoolIn("us-east-1b"));
}

TEST_CASE("scoring: reactions rank refuges by expected cost") {
  const ScoringEngine engine;
  DecisionInput in = Market();
  in.trigger = Trigger::kRebalance;
  in.config.replica_mode = ReplicaMode::kOff;
  SetPrice(in, "us-east-1c", "0.030");
  const Decision d = Decide(engine, in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1c"));
  CHECK(d.reason == Reason::kRebalanceSignal);
}

}  // namespace
}  // namespace spotopt::decision
