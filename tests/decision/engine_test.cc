// What every engine's output goes through: validation, the host JSON contract, the
// registry, the exact thresholds and the price history features.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cmath>

#include "spotopt/decision/features.h"
#include "spotopt/decision/json.h"
#include "spotopt/decision/registry.h"
#include "spotopt/decision/rules.h"
#include "spotopt/decision/thresholds.h"
#include "tests/decision/market.h"

namespace spotopt::decision {
namespace {

using testing::Market;
using testing::PoolIn;
using testing::Usd;

Decision Move(std::string_view az) {
  Decision d;
  d.action = Action::kSwitchSpot;
  d.target = PoolIn(az);
  d.engine = "host";
  d.engine_version = "1";
  return d;
}

TEST_CASE("Validate refuses what no agent could act on") {
  const DecisionInput in = Market();
  CHECK(Validate(in, Move("us-east-1b")).ok());
  const auto refused = [&](const Decision& d, std::string_view why) {
    CAPTURE(why);
    CHECK(absl::IsInvalidArgument(Validate(in, d)));
  };
  Decision d = Move("us-east-1b");
  d.risk = std::nan("");
  refused(d, "NaN risk");
  d = Move("us-east-1b");
  d.risk = 1.5;
  refused(d, "risk above 1");
  d = Move("us-east-1b");
  d.confidence = -0.1;
  refused(d, "negative confidence");
  d = Move("us-east-1b");
  d.expected_savings_micros = Money::kPriceCeilingMicros + 1;
  refused(d, "savings beyond the ceiling");
  refused(Move("us-west-2a"), "an unknown pool");
  refused(Move("us-east-1a"), "where it runs");
  d = Move("us-east-1b");
  d.target.reset();
  refused(d, "a switch without a target");
  d = Move("us-east-1b");
  d.engine.clear();
  refused(d, "no engine name");
  d = Move("us-east-1b");
  d.action = static_cast<Action>(42);
  refused(d, "an unknown action");
  d = Move("us-east-1b");
  d.guard = Guard::kCooldown;
  refused(d, "a guard on a move");

  d = Move("us-east-1b");
  d.action = Action::kCreateReplica;
  CHECK(Validate(in, d).ok());
  d.target = PoolIn("us-east-1a");
  refused(d, "a replica in the primary's AZ");

  d = Move("us-east-1b");
  d.action = Action::kPromoteReplica;
  d.target.reset();
  refused(d, "no replica to promote");

  DecisionInput on_demand = Market();
  on_demand.placement.mode = Mode::kOnDemand;
  d = Move("us-east-1b");
  d.action = Action::kSwitchOnDemand;
  d.target.reset();
  CHECK(absl::IsInvalidArgument(Validate(on_demand, d)));
}

TEST_CASE("a host engine's JSON answer: parsed strictly, validated afterwards") {
  const DecisionInput in = Market();
  absl::StatusOr<Decision> d = DecisionFromJson(
      R"({"action":"switch_spot","target_pool_id":"m5.large.us-east-1c","reason":"cheaper_pool",
          "message":"cheaper","risk":0.1,"expected_savings_micros":1000,"confidence":0.8})",
      in);
  REQUIRE(d.ok());
  CHECK(d->action == Action::kSwitchSpot);
  CHECK(d->target == PoolIn("us-east-1c"));
  CHECK(d->reason == Reason::kCheaperPool);
  CHECK(d->expected_savings_micros == 1000);
  CHECK(d->risk == 0.1);

  CHECK(DecisionFromJson(R"({"action":"stay"})", in).ok());
  for (std::string_view bad :
       {R"({})", R"({"action":"jump"})", R"({"action":"stay","colour":"red"})",
        R"({"action":"switch_spot","target_pool_id":"nodot"})", R"({"action":1})",
        R"({"action":"stay","risk":"high"})", R"({"action":"stay","reason":"whim"})", R"([1,2])",
        "not json", R"({"action":"stay","expected_savings_micros":1.5})"}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(DecisionFromJson(bad, in).status()));
  }
}

TEST_CASE("the input as JSON names its version, prices in micro-dollars and derived flags") {
  DecisionInput in = Market();
  in.pools[1].spot->observed_at = in.now - absl::Minutes(12);  // in a gap, not stale
  const boost::json::value v = boost::json::parse(InputToJson(in));
  CHECK(v.at("version").as_int64() == kInputVersion);
  CHECK(v.at("trigger").as_string() == "schedule");
  CHECK(v.at("agent").at("placement").at("az").as_string() == "us-east-1a");
  CHECK(v.at("config").at("min_savings_percent").as_double() == 30.0);
  CHECK(v.at("market").at("on_demand_micros").as_int64() == 96'000);
  const boost::json::array& pools = v.at("market").at("pools").as_array();
  REQUIRE(pools.size() == 4);
  CHECK(pools[0].at("pool_id").as_string() == "m5.large.us-east-1a");
  CHECK(pools[0].at("price").at("micros").as_int64() == 40'000);
  CHECK(pools[1].at("price").at("in_gap").as_bool());
  CHECK_FALSE(pools[1].at("price").at("stale").as_bool());
  CHECK(pools[0].at("advisor").at("band").as_int64() == 0);
}

TEST_CASE("the registry: built-ins, hosts by (name, version, sha256)") {
  EngineRegistry registry;
  std::vector<EngineInfo> list = registry.List();
  REQUIRE(list.size() == 2);
  CHECK(list[0].ref == RulesRef());
  CHECK(list[1].ref == ScoringRef());
  CHECK(RulesRef().sha256.size() == 64);

  class Host final : public Engine {
   public:
    std::string_view name() const override { return "mine"; }
    std::string_view version() const override { return "2"; }
    absl::StatusOr<Decision> Decide(const DecisionInput&) const override { return Decision{}; }
  };
  const std::string sha(64, 'a');
  CHECK(registry.Register(std::make_shared<Host>(), EngineKind::kHost, sha, "mine").ok());
  CHECK(registry.Register(std::make_shared<Host>(), EngineKind::kHost, sha, "again").ok());
  CHECK(absl::IsAlreadyExists(
      registry.Register(std::make_shared<Host>(), EngineKind::kHost, std::string(64, 'b'), "")));
  CHECK(absl::IsInvalidArgument(
      registry.Register(std::make_shared<Host>(), EngineKind::kHost, "ABC", "")));
  CHECK(absl::IsInvalidArgument(registry.Register(nullptr, EngineKind::kHost, sha, "")));
  CHECK(registry.Find("mine", "2")->info.description == "again");
  CHECK_FALSE(registry.Find("mine", "3"));
  CHECK(absl::IsFailedPrecondition(registry.Unregister("rules", "1.0.0")));
  CHECK(registry.Unregister("mine", "2").ok());
  CHECK(absl::IsNotFound(registry.Unregister("mine", "2")));
}

TEST_CASE("fractions compare money exactly") {
  CHECK(Fraction::FromRatio(0.8).ppm() == 800'000);
  CHECK(Fraction::FromPercent(30).ppm() == 300'000);
  CHECK(Fraction::FromPercent(29.975).ppm() == 299'750);
  const Fraction f = Fraction::FromRatio(0.8);
  CHECK(AtLeast(Usd("0.08"), f, Usd("0.10")));
  CHECK(AtLeast(Usd("0.0204"), f, Usd("0.0255")));
  CHECK_FALSE(AtLeast(Usd("0.079999"), f, Usd("0.10")));
  CHECK(Below(Usd("0.079999"), f, Usd("0.10")));
  CHECK(SavesAtLeast(Usd("0.040"), Usd("0.028"), Fraction::FromPercent(30)));
  CHECK_FALSE(SavesAtLeast(Usd("0.040"), Usd("0.028001"), Fraction::FromPercent(30)));
  // Large prices do not overflow: 1000 USD/h x 10^6 ppm is far inside 128 bits.
  CHECK(AtLeast(Money::FromMicros(Money::kPriceCeilingMicros), Fraction::FromRatio(1),
                Money::FromMicros(Money::kPriceCeilingMicros)));
}

TEST_CASE("price history: a week of steps, time-weighted") {
  const Time now = testing::kNow;
  const std::vector<ledger::PriceStep> steps = {
      {now - absl::Hours(24 * 10), Usd("0.050")},  // in effect when the week opens
      {now - absl::Hours(24 * 3), Usd("0.040")},
      {now - absl::Hours(12), Usd("0.060")},
  };
  const std::optional<PriceHistory> h = Summarize(steps, now);
  REQUIRE(h);
  // 4 days at 0.050, 2.5 days at 0.040, 0.5 day at 0.060.
  CHECK(h->mean == Money::FromMicros((4 * 50'000 + 2.5 * 40'000 + 0.5 * 60'000) / 7 + 0.5));
  CHECK(h->min == Usd("0.040"));
  CHECK(h->max == Usd("0.060"));
  CHECK(h->changes == 2);
  CHECK(h->since_change == absl::Hours(12));
  // The last day: 12 h at 0.040 and 12 h at 0.060: mean 0.050, deviation 0.010.
  CHECK(h->deviation_day == doctest::Approx(0.2));
  CHECK_FALSE(Summarize(steps, now - absl::Hours(24 * 11)));

  PoolMarket p = testing::Priced(PoolIn("us-east-1a"), "0.060");
  p.history = h;
  const FeatureRow f = Features(p);
  CHECK(f[0] == doctest::Approx(std::log(60.0 / 96.0)));
  CHECK(f[2] == doctest::Approx(std::log(60.0 / 40.0)));
  CHECK(f[5] == 2);
  CHECK(f[7] == 0);
  p.advisor.reset();
  p.history.reset();
  CHECK(std::isnan(Features(p)[1]));
  CHECK(std::isnan(Features(p)[7]));
}

}  // namespace
}  // namespace spotopt::decision
