// The backtest harness (examples/backtest): hand-made markets where every figure can
// be worked out by hand, random small markets for the oracle's bound, and a short
// slice of the real data for determinism and the configuration's errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <numeric>

#include "backtest.h"
#include "config.h"
#include "oracle.h"
#include "random.h"
#include "report.h"

namespace spotopt::backtest {
namespace {

constexpr Sec kStart = 1641168000;  // 2022-01-03T00:00:00Z
constexpr Sec kDay = 86400;
constexpr Sec kGrid = 300;
constexpr int64_t kOnDemand = 96000;  // $0.096/h

// A pool's prices as (seconds after the start, micro-dollars per hour).
struct PoolPrices {
  std::string az;
  std::vector<std::pair<Sec, int64_t>> steps;
};
struct TypePrices {
  std::string type;
  std::vector<PoolPrices> pools;
};

// A scenario built by hand. Not movable: the cost model refers to the market.
class Toy {
 public:
  Toy(Sec days, const std::vector<TypePrices>& types, Timing timing = {}, int per_type = 1)
      : market_(*Market::Create("eu-west-1", kStart, kStart + days * kDay, kGrid)) {
    for (const TypePrices& t : types) {
      REQUIRE(market_.Add(Series{t.type, "", {Step{kStart, kOnDemand}}}).ok());
      for (const PoolPrices& p : t.pools) {
        Series s{t.type, p.az, {}};
        for (auto [after, price] : p.steps) s.steps.push_back(Step{kStart + after, price});
        REQUIRE(market_.Add(std::move(s)).ok());
      }
    }
    interruptions_ = std::make_unique<Interruptions>(market_.size());
    fleet_ = BuildFleet(market_, per_type, {});
    costs_ = std::make_unique<CostModel>(market_, timing);
  }
  Toy(const Toy&) = delete;
  Toy& operator=(const Toy&) = delete;

  Interruptions& interruptions() { return *interruptions_; }
  const Market& market() const { return market_; }
  Scenario scenario() const { return Scenario{market_, *interruptions_, fleet_, *costs_, ""}; }

  // Every strategy that needs no other instance type, by name.
  std::map<std::string, StrategyRun> RunAll(std::vector<std::string> names = {}) const {
    if (names.empty()) {
      for (const std::string& n : StrategyNames()) {
        if (n.find("-flex") == std::string::npos) names.push_back(n);
      }
    }
    const Scenario sc = scenario();
    absl::StatusOr<SectionResult> section = RunSection("toy", sc, names, nullptr);
    REQUIRE_MESSAGE(section.ok(), section.status().ToString());
    std::map<std::string, StrategyRun> out;
    for (StrategyRun& r : section->runs) out[r.name] = std::move(r);
    return out;
  }

 private:
  Market market_;
  std::unique_ptr<Interruptions> interruptions_;
  Fleet fleet_;
  std::unique_ptr<CostModel> costs_;
};

// The ledger's rounding of an exact amount in micro-dollars per hour times seconds.
int64_t Micros(Units u) { return (u + 1800) / 3600; }

TEST_CASE("the ledger bills price x time: a hand-made market worked out by hand") {
  // Pool a is cheapest for a day, then pool b is.
  Toy toy(2, {{"m5.large",
               {{"eu-west-1a", {{0, 30000}, {kDay, 50000}}}, {"eu-west-1b", {{0, 40000}}}}}});
  const auto runs = toy.RunAll({"on-demand", "stay-put", "aws-lowest-price", "oracle"});
  const Sec end = 2 * kDay;

  const LedgerFigures od = runs.at("on-demand").Total();
  CHECK(od.cost == Micros(kOnDemand * end));
  CHECK(od.baseline == od.cost);
  CHECK(od.savings == 0);

  // Stay-put launched in a, the cheapest at the start, and never left.
  CHECK(runs.at("stay-put").Total().cost == Micros(30000 * kDay + 50000 * kDay));

  // Lowest-price moved to b once a got dearer: a until the new instance took over,
  // then a's terminate wait (300 s) as a drain beside b.
  const StrategyRun& lp = runs.at("aws-lowest-price");
  REQUIRE(lp.agents[0].outcome.moves.size() == 1);
  const Sec landed = lp.agents[0].outcome.moves[0].at - kStart;
  CHECK(landed > kDay + 60);
  CHECK(landed <= kDay + 15 + 180 + 2);
  CHECK(lp.Total().cost ==
        Micros(30000 * kDay + 50000 * (landed - kDay) + 50000 * 300 + 40000 * (end - landed)));
  CHECK(lp.Total().baseline == Micros(kOnDemand * end));
  // The switch report's cutover is the ledger's downtime.
  CHECK(lp.Total().downtime == 2);
  CHECK(lp.agents[0].outcome.switches == 1);

  // The oracle may move before the change; it is never dearer.
  CHECK(runs.at("oracle").Total().cost <= lp.Total().cost);
}

TEST_CASE("the on-demand strategy saves exactly nothing") {
  Toy toy(1,
          {{"m5.large", {{"eu-west-1a", {{0, 30000}, {3600, 20000}}}}},
           {"c5.large", {{"eu-west-1b", {{0, 25000}}}}}},
          {}, 2);
  const StrategyRun od = toy.RunAll({"on-demand"}).at("on-demand");
  REQUIRE(od.agents.size() == 4);
  for (const AgentRun& a : od.agents) {
    CHECK(a.ledger.savings == 0);
    CHECK(a.ledger.cost == a.ledger.baseline);
  }
  CHECK(od.Total().savings == 0);
}

TEST_CASE("per-agent costs sum to the total, and each day's costs to the agents' lifetimes") {
  Toy toy(3,
          {{"m5.large",
            {{"eu-west-1a", {{0, 30000}, {kDay / 2, 45000}, {2 * kDay, 20000}}},
             {"eu-west-1b", {{0, 35000}, {kDay + 600, 25000}}}}},
           {"r5.large", {{"eu-west-1a", {{0, 60000}}}, {"eu-west-1c", {{3000, 55000}}}}}},
          {}, 2);
  toy.interruptions().Add(1,
                          Interruption{kStart + kDay - 1800, kStart + kDay - 120, kStart + kDay});
  for (const auto& [name, run] : toy.RunAll()) {
    if (!run.disabled.empty()) continue;  // the model engine: no model here
    const LedgerFigures total = run.Total();
    int64_t agents = 0, days = 0;
    for (const AgentRun& a : run.agents) agents += a.ledger.cost;
    for (const auto& [day, cost] : run.daily_cost) days += cost;
    CHECK_MESSAGE(agents == total.cost, name);
    CHECK_MESSAGE(days == total.cost, name);
    CHECK_MESSAGE(total.savings == total.baseline - total.cost, name);
    CHECK_MESSAGE(run.daily_cost.size() == 3, name);
  }
}

TEST_CASE("an interruption without a replica relaunches, with downtime, the same way for all") {
  Toy toy(1, {{"m5.large", {{"eu-west-1a", {{0, 30000}}}, {"eu-west-1b", {{0, 40000}}}}}});
  const Sec at = kStart + 6 * 3600 + 7;
  toy.interruptions().Add(1, Interruption{at - 900, at - 120, at});  // pool a
  const auto runs = toy.RunAll({"stay-put", "aws-capacity-optimized", "oracle"});
  const AgentOutcome& stay = runs.at("stay-put").agents[0].outcome;
  CHECK(stay.interruptions == 1);
  CHECK(stay.deadlines_missed == 1);
  REQUIRE(stay.moves.size() == 1);
  CHECK(stay.moves[0].relaunch);
  CHECK(stay.moves[0].to == stay.moves[0].from);  // stay-put relaunches where it was
  CHECK(stay.downtime == stay.moves[0].at - at);
  CHECK(stay.downtime >= 60);
  CHECK(stay.downtime <= 180);
  // It had the notice: the ledger bills it up to the deadline and nothing while down.
  CHECK(runs.at("stay-put").Total().cost == Micros(30000 * (kDay - stay.downtime)));
  CHECK(runs.at("stay-put").Total().baseline == Micros(kOnDemand * (kDay - stay.downtime)));
  // Pool a is the cheapest: the oracle stays and relaunches too, at the same cost (the
  // ledger bills the reclaimed primary up to its deadline, and nothing until its
  // successor registers).
  CHECK(runs.at("oracle").Total().cost == runs.at("stay-put").Total().cost);
}

// A random small market: a type or two, a few pools that may start late, prices that
// change at random decision points, interruptions at random seconds and on decision
// points, random timings.
void RandomToyRun(uint64_t seed) {
  Rng rng(seed);
  Timing timing;
  timing.seed = seed;
  timing.poll_interval = rng.Between(1, 30);
  timing.launch_min = rng.Between(1, 200);
  timing.launch_max = timing.launch_min + rng.Between(0, 200);
  timing.cutover = rng.Between(0, 30);
  timing.terminate_wait = rng.Between(1, 900);
  const Sec days = rng.Between(1, 2);
  const int64_t points = days * kDay / kGrid;
  std::vector<TypePrices> types;
  for (const char* type : {"m5.large", "c5.large"}) {
    TypePrices t{type, {}};
    const int pools = static_cast<int>(rng.Between(1, 3));
    for (int p = 0; p < pools; ++p) {
      PoolPrices pool{std::string("eu-west-1") + static_cast<char>('a' + p), {}};
      Sec at = rng.Between(0, 3) == 0 ? rng.Between(0, 40) * kGrid : 0;
      while (at < days * kDay) {
        const int64_t price = rng.Between(10, 90) * 1000;
        if (pool.steps.empty() || pool.steps.back().second != price)
          pool.steps.push_back({at, price});
        at += rng.Between(1, points / 4) * kGrid;
      }
      t.pools.push_back(pool);
    }
    types.push_back(t);
    if (rng.Between(0, 1) == 0) break;
  }
  Toy toy(days, types, timing, static_cast<int>(rng.Between(1, 2)));
  for (SeriesId s = 0; s < static_cast<SeriesId>(toy.market().size()); ++s) {
    if (toy.market().series(s).on_demand()) continue;
    std::vector<Sec> times;
    for (int64_t n = rng.Between(0, 5); n > 0; --n) {
      times.push_back(rng.Between(0, 2) == 0 ? kStart + rng.Between(1, points - 1) * kGrid
                                             : kStart + rng.Between(1, days * kDay - 1));
    }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    for (Sec t : times) {
      toy.interruptions().Add(s, Interruption{t - rng.Between(121, 3600), t - 120, t});
    }
  }
  const auto runs = toy.RunAll();
  const StrategyRun& oracle = runs.at("oracle");
  for (const auto& [name, run] : runs) {
    for (size_t k = 0; k < run.agents.size(); ++k) {
      CHECK_MESSAGE(oracle.agents[k].ledger.cost <= run.agents[k].ledger.cost, "seed ", seed, ": ",
                    name, " beats the oracle for agent ", k);
    }
  }
}

TEST_CASE("no strategy beats the oracle on random small markets") {
  // Each run also checks that the ledger bills every agent exactly what the cost model
  // says, and the oracle exactly what its plan said.
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    CAPTURE(seed);
    RandomToyRun(seed);
  }
}

TEST_CASE("an engine's emergency replica takes over on the notice: no deadline missed") {
  Toy toy(1, {{"m5.large", {{"eu-west-1a", {{0, 30000}}}, {"eu-west-1b", {{0, 40000}}}}}});
  const Sec at = kStart + 6 * 3600 + 7;
  toy.interruptions().Add(1, Interruption{at - 900, at - 120, at});  // pool a
  const auto runs = toy.RunAll({"spotopt-rules", "spotopt-scoring", "stay-put"});
  CHECK(runs.at("stay-put").agents[0].outcome.deadlines_missed == 1);
  for (const char* name : {"spotopt-rules", "spotopt-scoring"}) {
    CAPTURE(name);
    const StrategyRun& run = runs.at(name);
    const AgentOutcome& o = run.agents[0].outcome;
    // The rebalance recommendation launched a replica in b; the notice promoted it.
    CHECK(o.deadlines_missed == 0);
    CHECK(o.interruptions == 0);
    CHECK(o.downtime == 0);
    CHECK(o.promotions == 1);
    REQUIRE(o.moves.size() == 1);
    CHECK(o.moves[0].at == at - 120);
    CHECK(o.moves[0].to == 2);
    // The replica is billed until its promotion, the old primary until it is reclaimed.
    CHECK(run.Total().replica_cost > 0);
    CHECK(run.Total().cost - run.Total().replica_cost ==
          Micros(30000 * (at - kStart) + 40000 * (kStart + kDay - (at - 120))));
  }
}

TEST_CASE("the engines move to a pool that became much cheaper, and stay when it is not") {
  Toy toy(1, {{"m5.large",
               {{"eu-west-1a", {{0, 30000}}}, {"eu-west-1b", {{0, 40000}, {6 * 3600, 10000}}}}},
              {"c5.large",
               {{"eu-west-1a", {{0, 30000}}}, {"eu-west-1b", {{0, 40000}, {6 * 3600, 29900}}}}}});
  const auto runs = toy.RunAll({"spotopt-rules", "spotopt-scoring", "stay-put"});
  const size_t m5 = toy.scenario().fleet[0].instance_type == "m5.large" ? 0 : 1;
  const size_t c5 = 1 - m5;
  for (const char* name : {"spotopt-rules", "spotopt-scoring"}) {
    CAPTURE(name);
    const StrategyRun& run = runs.at(name);
    // m5.large: b at a third of a's price is worth the drain and the cutover.
    // (The rules later leave b again: a pool whose price just fell by three quarters
    // scores as volatile, so risky, in the rules' ranking.)
    const std::vector<MoveRecord>& moves = run.agents[m5].outcome.moves;
    REQUIRE(!moves.empty());
    CHECK(moves[0].at > kStart + 6 * 3600);
    CHECK(moves[0].at < kStart + 6 * 3600 + 300 + 180 + 60);
    CHECK(moves[0].to == toy.scenario().fleet[m5].places[1]);
    CHECK(run.agents[m5].ledger.cost < runs.at("stay-put").agents[m5].ledger.cost);
    if (std::string(name) == "spotopt-scoring") CHECK(moves.size() == 1);
    // c5.large: a third of a percent is not.
    CHECK(run.agents[c5].outcome.switches == 0);
    CHECK(run.agents[c5].ledger.cost == runs.at("stay-put").agents[c5].ledger.cost);
  }
}

TEST_CASE("the oracle takes a switch that lands before a price change it knows of") {
  // b drops far below a at the start of the second hour: landing there before the
  // drop costs a little more for a few minutes and saves a lot after it.
  Toy toy(1, {{"m5.large",
               {{"eu-west-1a", {{0, 80000}}}, {"eu-west-1b", {{0, 100000}, {3600, 10000}}}}}});
  const Plan plan = PlanAgent(toy.scenario().costs, toy.interruptions(),
                              toy.scenario().fleet[0].key, toy.scenario().fleet[0].places);
  REQUIRE(plan.switches.size() == 1);
  CHECK(plan.switches[0].at < kStart + 3600);
  const auto runs = toy.RunAll({"aws-lowest-price", "oracle"});
  CHECK(runs.at("oracle").Total().cost < runs.at("aws-lowest-price").Total().cost);
}

TEST_CASE("the oracle pays for the old primary's drain, and plans across types") {
  // b undercuts a by a hair from the second hour on: not worth a switch that bills five
  // minutes of the old instance; by a tenth it is.
  const auto plan = [](const Toy& toy, const std::vector<SeriesId>& places) {
    const Scenario sc = toy.scenario();
    return PlanAgent(sc.costs, sc.interruptions, sc.fleet[0].key, places);
  };
  Toy hair(1, {{"m5.large",
                {{"eu-west-1a", {{0, 50000}}}, {"eu-west-1b", {{0, 60000}, {3600, 49990}}}}}});
  const Plan stays = plan(hair, hair.scenario().fleet[0].places);
  CHECK(stays.switches.empty());
  CHECK(stays.cost == 50000 * kDay);
  Toy tenth(1, {{"m5.large",
                 {{"eu-west-1a", {{0, 50000}}}, {"eu-west-1b", {{0, 60000}, {3600, 45000}}}}}});
  CHECK(plan(tenth, tenth.scenario().fleet[0].places).switches.size() == 1);

  // With m5a.large in the family, the oracle-flex program starts in its cheaper pool.
  Toy family(1, {{"m5.large", {{"eu-west-1a", {{0, 50000}}}}},
                 {"m5a.large", {{"eu-west-1b", {{0, 20000}}}}}});
  std::vector<SeriesId> both;
  for (SeriesId s = 0; s < static_cast<SeriesId>(family.market().size()); ++s) both.push_back(s);
  const Plan flex = plan(family, both);
  CHECK(family.market().series(flex.initial).name() == "m5a.large.eu-west-1b");
  CHECK(flex.cost == 20000 * kDay);
}

// The real data, loaded once for every test that needs it.
const Dataset& RealData() {
  static const absl::StatusOr<Dataset> data = LoadDataset("../shared/data", "eu-west-1");
  REQUIRE_MESSAGE(data.ok(), data.status().ToString());
  return *data;
}

// A short slice of the real data: a few types and a family of two, two weeks.
Config Slice() {
  absl::StatusOr<Config> c = ParseConfig(R"({
    "types": ["m5.large", "c5.large", "r5.xlarge"],
    "family_types": ["m5.large", "m5a.large"],
    "start": "2022-01-10T00:00:00Z", "end": "2022-01-24T00:00:00Z", "seed": 7,
    "evaluation": false})");
  REQUIRE(c.ok());
  return *c;
}

std::string WithoutWallTimes(const Results& r) {
  Results copy = r;
  for (SectionResult& s : copy.sections) {
    for (StrategyRun& run : s.runs) run.seconds = 0;
  }
  return ToJson(copy);
}

TEST_CASE("the same seed gives identical results; another seed another draw") {
  absl::StatusOr<Results> a = RunBacktest(Slice(), RealData());
  REQUIRE_MESSAGE(a.ok(), a.status().ToString());
  absl::StatusOr<Results> b = RunBacktest(Slice(), RealData());
  REQUIRE(b.ok());
  CHECK(WithoutWallTimes(*a) == WithoutWallTimes(*b));

  Config other = Slice();
  other.timing.seed = other.interruptions.seed = 8;
  absl::StatusOr<Results> c = RunBacktest(other, RealData());
  REQUIRE(c.ok());
  CHECK(WithoutWallTimes(*a) != WithoutWallTimes(*c));

  // The family section runs every strategy, those that change instance type too, but
  // the model engine outside the history it was not trained on.
  REQUIRE(a->sections.size() == 2);
  for (const StrategyRun& run : a->sections[1].runs) {
    if (run.name.starts_with("spotopt-model")) {
      CHECK(run.disabled.find("evaluation sections") != std::string::npos);
    } else {
      CHECK_MESSAGE(run.disabled.empty(), run.name);
    }
  }
}

TEST_CASE("the model engine runs on the history it was not trained on, within the oracle") {
  absl::StatusOr<Config> c = ParseConfig(R"({
    "types": ["m5.large", "c5.large"], "family_types": ["m5.large", "m5a.large"],
    "start": "2022-04-10T00:00:00Z", "end": "2022-04-17T00:00:00Z", "evaluation": false,
    "strategies": ["spotopt-model", "spotopt-model-flex", "oracle", "oracle-flex"]})");
  REQUIRE(c.ok());
  absl::StatusOr<Results> r = RunBacktest(*c, RealData());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  for (const SectionResult& s : r->sections) {
    std::map<std::string, const StrategyRun*> runs;
    for (const StrategyRun& run : s.runs) runs[run.name] = &run;
    for (const auto& [name, run] : runs) {
      REQUIRE_MESSAGE(run->disabled.empty(), name, ": ", run->disabled);
      if (name.starts_with("oracle")) continue;
      const StrategyRun& oracle = *runs.at(name.ends_with("-flex") ? "oracle-flex" : "oracle");
      for (size_t k = 0; k < run->agents.size(); ++k) {
        CHECK(oracle.agents[k].ledger.cost <= run->agents[k].ledger.cost);
      }
    }
  }
}

TEST_CASE("replayed preemption traces interrupt pools") {
  Config c = Slice();
  c.interruptions.mode = InterruptionMode::kReplay;
  c.family.clear();
  c.family_types.clear();
  c.strategies = {"stay-put", "oracle"};
  absl::StatusOr<Results> r = RunBacktest(c, RealData());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->sections[0].interruptions_drawn > 0);
}

TEST_CASE("bad configuration is refused with a typed error naming the key") {
  const auto refused = [](std::string_view json, std::string_view key) {
    absl::StatusOr<Config> c = ParseConfig(json);
    CHECK_MESSAGE(absl::IsInvalidArgument(c.status()), json);
    CHECK_MESSAGE(std::string(c.status().message()).find(key) != std::string::npos,
                  c.status().message());
  };
  refused("[1]", "config");
  refused("{", "not JSON");
  refused(R"({"tpyes": ["m5.large"]})", "config.tpyes: unknown key");
  refused(R"({"types": "m5.large"})", "config.types");
  refused(R"({"agents_per_type": 0})", "config.agents_per_type");
  refused(R"({"seed": -1})", "config.seed");
  refused(R"({"strategies": ["aws-cheapest"]})", "no strategy 'aws-cheapest'");
  refused(R"({"interruptions": "sometimes"})", "config.interruptions");
  refused(R"({"launch_seconds": [180, 60]})", "config.launch_seconds");
  refused(R"({"terminate_wait_seconds": 0})", "config.terminate_wait_seconds");
  refused(R"({"rebalance_lead_seconds": [60, 600]})", "config.rebalance_lead_seconds");
  refused(R"({"start": "yesterday"})", "config.start");
  refused(R"({"start": "2022-02-01T00:00:00Z", "end": "2022-01-01T00:00:00Z"})", "config.end");

  Config c = Slice();
  c.types = {"m5.large", "x9.huge"};
  CHECK(absl::IsInvalidArgument(RunBacktest(c, RealData()).status()));
  c = Slice();
  c.data_dir = "/nonexistent";
  CHECK(absl::IsNotFound(RunBacktest(c).status()));
}

}  // namespace
}  // namespace spotopt::backtest
