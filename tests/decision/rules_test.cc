// The rules engine, one table row per rule, and its guards.
#include <doctest/doctest.h>

#include "spotopt/decision/guards.h"
#include "spotopt/decision/rules.h"
#include "tests/decision/market.h"

namespace spotopt::decision {
namespace {

using testing::Market;
using testing::PoolIn;
using testing::PoolOf;
using testing::Priced;
using testing::SetPrice;
using testing::Usd;

Decision Decide(const DecisionInput& in) {
  absl::StatusOr<Decision> d = RulesEngine().Decide(in);
  REQUIRE(d.ok());
  CHECK(Validate(in, *d).ok());
  return *d;
}

TEST_CASE("rules: stay when no pool saves min_savings_percent") {
  const Decision d = Decide(Market());
  CHECK(d.action == Action::kStay);
  CHECK(d.reason == Reason::kNoBetterPlacement);
  CHECK(d.guard == Guard::kNone);
  CHECK(d.engine == "rules");
  CHECK(d.engine_version == RulesEngine::kVersion);
}

TEST_CASE("rules: the cheapest pool that saves at least min_savings_percent, exactly") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.028");    // exactly 30 % below 0.040
  SetPrice(in, "us-east-1c", "0.02801");  // just short of it
  Decision d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1b"));
  CHECK(d.reason == Reason::kCheaperPool);
  CHECK(d.expected_savings_micros == 12'000);

  SetPrice(in, "us-east-1b", "0.028001");
  d = Decide(in);
  CHECK(d.action == Action::kStay);

  SetPrice(in, "us-east-1b", "0.041");
  in.config.min_savings_percent = 29.975;  // 0.040 -> 0.02801 saves exactly 29.975 %
  d = Decide(in);
  CHECK(d.target == PoolIn("us-east-1c"));
  in.config.min_savings_percent = 29.976;
  CHECK(Decide(in).action == Action::kStay);
}

// The previous system stayed at 0.08 against 0.10 but switched at 0.0204 against
// 0.0255; both are exactly 0.8 and must be treated alike.
TEST_CASE("rules: the two boundary pairs at exactly the fallback ratio both fall back") {
  for (auto [spot, on_demand] :
       {std::pair<std::string_view, std::string_view>{"0.08", "0.10"}, {"0.0204", "0.0255"}}) {
    CAPTURE(spot);
    DecisionInput in = Market();
    in.on_demand = Usd(on_demand);
    for (PoolMarket& p : in.pools) p.spot->price = Usd(spot);
    const Decision d = Decide(in);
    CHECK(d.action == Action::kSwitchOnDemand);
    CHECK(d.reason == Reason::kSpotNearOnDemand);
    CHECK_FALSE(d.urgent);
    CHECK(d.expected_savings_micros == Usd(spot).micros() - Usd(on_demand).micros());
  }
  for (auto [spot, on_demand] : {std::pair<std::string_view, std::string_view>{"0.079999", "0.10"},
                                 {"0.020399", "0.0255"}}) {
    CAPTURE(spot);
    DecisionInput in = Market();
    in.on_demand = Usd(on_demand);
    for (PoolMarket& p : in.pools) p.spot->price = Usd(spot);
    CHECK(Decide(in).action == Action::kStay);
  }
}

TEST_CASE("rules: spot at or above on-demand is urgent; a pool below the line beats on-demand") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1a", "0.096");
  SetPrice(in, "us-east-1b", "0.090");
  SetPrice(in, "us-east-1c", "0.095");
  SetPrice(in, "us-east-1d", "0.099");
  Decision d = Decide(in);
  CHECK(d.action == Action::kSwitchOnDemand);
  CHECK(d.urgent);

  SetPrice(in, "us-east-1c", "0.050");  // below 0.8 x 0.096 and 30 % below 0.096
  d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1c"));
  CHECK(d.reason == Reason::kSpotNearOnDemand);
  CHECK(d.urgent);
}

TEST_CASE("rules: back from on-demand only below the return ratio with the minimum saving") {
  DecisionInput in = Market();
  in.placement.mode = Mode::kOnDemand;
  in.placement.az = "us-east-1a";
  in.on_demand = Usd("0.10");
  for (PoolMarket& p : in.pools) p.spot->price = Usd("0.075");
  SetPrice(in, "us-east-1c", "0.07");  // exactly 0.7 x on-demand: not below it
  Decision d = Decide(in);
  CHECK(d.action == Action::kStay);

  SetPrice(in, "us-east-1c", "0.069999");
  d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1c"));
  CHECK(d.reason == Reason::kBackToSpot);

  in.config.min_savings_percent = 40;  // 0.069999 saves only 30 %
  CHECK(Decide(in).action == Action::kStay);
}

TEST_CASE("rules: a price oscillating around the fallback line moves at most once each way") {
  // A simulated day, deciding every 5 minutes; the agent acts on every decision at once.
  DecisionInput in = Market();
  in.config.max_switches_per_day = 100;
  in.config.max_switches_per_week = 100;
  in.config.min_pool_duration_hours = 0;
  in.on_demand = Usd("0.10");
  int to_on_demand = 0;
  int to_spot = 0;
  for (int step = 0; step < 288; ++step) {
    in.now = testing::kNow + absl::Minutes(5) * step;
    // 0.078, 0.079, ... 0.083 and back: around the 0.08 line, never near the 0.07 one.
    const int64_t micros = 78'000 + 1'000 * std::abs((step % 10) - 5);
    for (PoolMarket& p : in.pools) {
      p.spot->price = Money::FromMicros(micros);
      p.spot->observed_at = in.now;
    }
    const Decision d = Decide(in);
    if (d.action == Action::kSwitchOnDemand) {
      ++to_on_demand;
      in.placement.mode = Mode::kOnDemand;
      in.placement_since = in.now;
      in.switches.push_back(in.now);
    } else if (d.action == Action::kSwitchSpot) {
      ++to_spot;
      in.placement.mode = Mode::kSpot;
      in.placement.az = d.target->az;
      in.placement_since = in.now;
      in.switches.push_back(in.now);
    }
  }
  CHECK(to_on_demand == 1);
  CHECK(to_spot == 0);
}

TEST_CASE("rules: the risk ceiling excludes targets and lets the agent leave a risky pool") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.020");
  SetPrice(in, "us-east-1c", "0.025");
  PoolOf(in, "us-east-1b").terminations = 1;  // risk 1 - exp(-0.525) = 0.41 > 0.3
  CHECK(Risk(PoolOf(in, "us-east-1b")) > 0.3);
  Decision d = Decide(in);
  CHECK(d.target == PoolIn("us-east-1c"));

  // Its own pool above the ceiling: a safer pool is worth it without any saving.
  in = Market();
  PoolOf(in, "us-east-1a").terminations = 1;
  for (const char* az : {"us-east-1b", "us-east-1c"}) PoolOf(in, az).advisor->band.index = 4;
  d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.reason == Reason::kRiskAboveCeiling);
  CHECK(d.target == PoolIn("us-east-1d"));
  CHECK(d.risk == doctest::Approx(Risk(PoolOf(in, "us-east-1d"))));
}

TEST_CASE("rules: never a move to a stale, gapped or interpolated price, nor on one") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.020");
  SUBCASE("stale target") {
    PoolOf(in, "us-east-1b").spot->observed_at = in.now - absl::Minutes(16);
    CHECK(QuoteGuard(PoolOf(in, "us-east-1b").spot, in) == Guard::kStalePrice);
    CHECK(Decide(in).action == Action::kStay);
  }
  SUBCASE("target in a gap") {
    in.max_price_age = absl::Hours(1);
    PoolOf(in, "us-east-1b").spot->observed_at = in.now - absl::Minutes(11);
    CHECK(QuoteGuard(PoolOf(in, "us-east-1b").spot, in) == Guard::kPriceGap);
    CHECK(Decide(in).action == Action::kStay);
  }
  SUBCASE("interpolated target") {
    PoolOf(in, "us-east-1b").spot->source = sef::PointSource::kInterpolated;
    CHECK(Decide(in).action == Action::kStay);
  }
  SUBCASE("unknown target") {
    PoolOf(in, "us-east-1b").spot.reset();
    CHECK(Decide(in).action == Action::kStay);
  }
  SUBCASE("the agent's own price is interpolated: nothing is decided on it") {
    PoolOf(in, "us-east-1a").spot->source = sef::PointSource::kInterpolated;
    const Decision d = Decide(in);
    CHECK(d.action == Action::kStay);
    CHECK(d.reason == Reason::kNoPrice);
  }
  SUBCASE("the agent's own price is stale") {
    PoolOf(in, "us-east-1a").spot->observed_at = in.now - absl::Hours(2);
    CHECK(Decide(in).reason == Reason::kNoPrice);
  }
}

TEST_CASE("rules: cooldown, caps, a pending switch and the config's switches hold a move") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.020");
  const auto held = [](const DecisionInput& input, Guard guard) {
    const Decision d = Decide(input);
    CHECK(d.action == Action::kStay);
    CHECK(d.guard == guard);
    CHECK(d.held_action == Action::kSwitchSpot);
    CHECK(d.held_target == PoolIn("us-east-1b"));
    CHECK(d.expected_savings_micros == 0);
  };
  SUBCASE("cooldown") {
    in.placement_since = in.now - absl::Minutes(119);
    held(in, Guard::kCooldown);
    in.placement_since = in.now - absl::Minutes(120);
    CHECK(Decide(in).action == Action::kSwitchSpot);
  }
  SUBCASE("day cap") {
    in.switches = {in.now - absl::Hours(30), in.now - absl::Hours(20), in.now - absl::Hours(10),
                   in.now - absl::Hours(3)};
    held(in, Guard::kDayCap);
    in.switches.erase(in.switches.begin() + 1);  // two within 24 h
    CHECK(Decide(in).action == Action::kSwitchSpot);
  }
  SUBCASE("week cap") {
    in.config.max_switches_per_week = 3;
    in.switches = {in.now - absl::Hours(150), in.now - absl::Hours(100), in.now - absl::Hours(50)};
    held(in, Guard::kWeekCap);
    in.now += absl::Hours(19);  // the first falls out of the week
    for (PoolMarket& p : in.pools) p.spot->observed_at = in.now;
    CHECK(Decide(in).action == Action::kSwitchSpot);
  }
  SUBCASE("a switch is already queued") {
    in.switch_pending = true;
    held(in, Guard::kSwitchPending);
  }
  SUBCASE("auto switch off") {
    in.config.auto_switch = false;
    held(in, Guard::kAutoSwitchOff);
  }
  SUBCASE("disabled") {
    in.config.enabled = false;
    held(in, Guard::kAgentDisabled);
  }
}

TEST_CASE("rules: a compatible type's pool competes on price") {
  DecisionInput in = Market();
  in.config.compatible_instance_types = {"m5a.large"};
  in.pools.push_back(Priced(PoolIn("us-east-1b", "m5a.large"), "0.021"));
  const Decision d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1b", "m5a.large"));
}

TEST_CASE("rules: the same input always gives the same decision") {
  DecisionInput in = Market();
  SetPrice(in, "us-east-1b", "0.027");
  SetPrice(in, "us-east-1c", "0.027");  // a tie: broken by risk, then pool id
  const Decision first = Decide(in);
  for (int i = 0; i < 100; ++i) CHECK(Decide(in) == first);
  CHECK(first.target == PoolIn("us-east-1b"));
}

TEST_CASE("rules: a rebalance recommendation asks for a standby, or a move when replicas are off") {
  DecisionInput in = Market();
  in.trigger = Trigger::kRebalance;
  in.placement_since = in.now;  // cooldown does not hold a reaction
  PoolOf(in, "us-east-1b").advisor->band.index = 3;
  PoolOf(in, "us-east-1c").advisor->band.index = 2;
  PoolOf(in, "us-east-1d").advisor->band.index = 1;
  Decision d = Decide(in);
  CHECK(d.action == Action::kCreateReplica);
  CHECK(d.target == PoolIn("us-east-1d"));  // the safest other AZ
  CHECK(d.reason == Reason::kRebalanceSignal);

  in.replica = ReplicaView{"r-1", ReplicaState::kSyncing, PoolIn("us-east-1c"), true};
  CHECK(Decide(in).action == Action::kStay);

  in.replica.reset();
  in.config.replica_mode = ReplicaMode::kOff;
  d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target == PoolIn("us-east-1d"));

  in.switches = {in.now - absl::Hours(1), in.now - absl::Hours(2), in.now - absl::Hours(3)};
  d = Decide(in);
  CHECK(d.guard == Guard::kDayCap);  // caps hold even a reaction
}

TEST_CASE("rules: a termination notice promotes, waits for a replica on its way, or moves") {
  DecisionInput in = Market();
  in.trigger = Trigger::kTermination;
  in.replica = ReplicaView{"r-1", ReplicaState::kReady, PoolIn("us-east-1c"), true};
  Decision d = Decide(in);
  CHECK(d.action == Action::kPromoteReplica);
  CHECK(d.target == PoolIn("us-east-1c"));

  in.replica->state = ReplicaState::kSyncing;  // forced promotion inside the deadline
  CHECK(Decide(in).action == Action::kPromoteReplica);

  in.replica->state = ReplicaState::kLaunching;
  in.replica->has_instance = false;
  CHECK(Decide(in).action == Action::kStay);

  in.replica.reset();
  d = Decide(in);
  CHECK(d.action == Action::kCreateReplica);  // it survives the primary
  CHECK(d.target->az != "us-east-1a");

  in.config.replica_mode = ReplicaMode::kOff;
  d = Decide(in);
  CHECK(d.action == Action::kSwitchSpot);
  CHECK(d.target->az != "us-east-1a");

  for (PoolMarket& p : in.pools) p.spot->observed_at = in.now - absl::Hours(1);
  d = Decide(in);
  CHECK(d.action == Action::kSwitchOnDemand);
  CHECK(d.reason == Reason::kTerminationNotice);
}

}  // namespace
}  // namespace spotopt::decision
