// The baselines and AWS's allocation strategies, as an operator would run them on
// libspotopt: moves are manual switches, capacity comes from the interruption model's
// capacity signal (AWS sees its own spare capacity; see interruptions.h). Also the
// table of every strategy by name.
#include <algorithm>
#include <tuple>

#include "engines.h"
#include "oracle.h"
#include "strategy.h"

namespace spotopt::backtest {

AgentConfigPatch Strategy::Config() const {
  // The operator decides; libspotopt must neither switch nor launch replicas itself.
  AgentConfigPatch p;
  p.auto_switch = false;
  p.replica_mode = ReplicaMode::kOff;
  return p;
}

namespace {

bool IsSpot(const Decision& d, SeriesId s) { return !d.scenario.market.series(s).on_demand(); }

// The best available spot place by `better`, skipping `excluded`; nullopt: none.
template <class Less>
std::optional<SeriesId> Best(const Decision& d, std::optional<SeriesId> excluded, Less better) {
  std::optional<SeriesId> best;
  for (SeriesId s : d.places) {
    if (!IsSpot(d, s) || s == excluded || !d.Available(s)) continue;
    if (!best || better(s, *best)) best = s;
  }
  return best;
}

}  // namespace

std::optional<SeriesId> Cheapest(const Decision& d, std::optional<SeriesId> excluded) {
  return Best(d, excluded, [&](SeriesId a, SeriesId b) {
    return std::make_tuple(*d.Price(a), a) < std::make_tuple(*d.Price(b), b);
  });
}

SeriesId OnDemandOf(const Decision& d) { return *d.scenario.market.OnDemand(d.spec.instance_type); }

namespace {

double Rate(const Decision& d, SeriesId s) { return d.scenario.interruptions.Rate(s, d.now); }

// Most spare capacity (fewest expected interruptions), then cheapest.
std::optional<SeriesId> MostCapacity(const Decision& d, std::optional<SeriesId> excluded = {}) {
  return Best(d, excluded, [&](SeriesId a, SeriesId b) {
    return std::make_tuple(Rate(d, a), *d.Price(a), a) <
           std::make_tuple(Rate(d, b), *d.Price(b), b);
  });
}

// AWS's price-capacity-optimized: the pools with the most capacity (the better half by
// capacity), and of those the cheapest.
std::optional<SeriesId> PriceCapacity(const Decision& d, std::optional<SeriesId> excluded = {}) {
  std::vector<SeriesId> pools;
  for (SeriesId s : d.places) {
    if (IsSpot(d, s) && s != excluded && d.Available(s)) pools.push_back(s);
  }
  if (pools.empty()) return std::nullopt;
  std::sort(pools.begin(), pools.end(), [&](SeriesId a, SeriesId b) {
    return std::make_tuple(Rate(d, a), a) < std::make_tuple(Rate(d, b), b);
  });
  pools.resize((pools.size() + 1) / 2);
  return *std::min_element(pools.begin(), pools.end(), [&](SeriesId a, SeriesId b) {
    return std::make_tuple(*d.Price(a), a) < std::make_tuple(*d.Price(b), b);
  });
}

// Always on-demand: the baseline every saving is measured against.
class OnDemand final : public Strategy {
 public:
  std::string name() const override { return "on-demand"; }
  SeriesId Initial(const Decision& d) override { return OnDemandOf(d); }
  SeriesId Relaunch(const Decision& d) override { return d.current; }
};

// Launches in the cheapest pool and stays there, relaunching there after interruptions.
class StayPut final : public Strategy {
 public:
  std::string name() const override { return "stay-put"; }
  SeriesId Initial(const Decision& d) override { return Cheapest(d).value_or(OnDemandOf(d)); }
  SeriesId Relaunch(const Decision& d) override { return d.current; }
};

// Always in the cheapest pool: moves whenever another pool becomes cheaper.
class LowestPrice final : public Strategy {
 public:
  explicit LowestPrice(bool flexible) : flexible_(flexible) {}
  std::string name() const override {
    return flexible_ ? "aws-lowest-price-flex" : "aws-lowest-price";
  }
  bool flexible() const override { return flexible_; }
  bool watches_prices() const override { return true; }
  SeriesId Initial(const Decision& d) override { return Cheapest(d).value_or(OnDemandOf(d)); }
  std::optional<SeriesId> OnPrices(const Decision& d) override {
    const std::optional<SeriesId> best = Cheapest(d);
    if (best && *d.Price(*best) < *d.Price(d.current)) return best;
    return std::nullopt;
  }
  SeriesId Relaunch(const Decision& d) override { return Cheapest(d).value_or(OnDemandOf(d)); }

 private:
  bool flexible_;
};

// Launches where capacity is best; on a rebalance recommendation moves to the best
// other pool (capacity rebalancing); relaunches where capacity is best.
class CapacityAware final : public Strategy {
 public:
  enum class Rule { kCapacity, kPriceCapacity };
  CapacityAware(Rule rule, bool flexible) : rule_(rule), flexible_(flexible) {}
  std::string name() const override {
    const std::string base =
        rule_ == Rule::kCapacity ? "aws-capacity-optimized" : "aws-price-capacity-optimized";
    return flexible_ ? base + "-flex" : base;
  }
  bool flexible() const override { return flexible_; }
  SeriesId Initial(const Decision& d) override { return Pick(d, {}).value_or(OnDemandOf(d)); }
  std::optional<SeriesId> OnRebalance(const Decision& d) override { return Pick(d, d.current); }
  SeriesId Relaunch(const Decision& d) override { return Pick(d, {}).value_or(OnDemandOf(d)); }

 private:
  std::optional<SeriesId> Pick(const Decision& d, std::optional<SeriesId> excluded) const {
    return rule_ == Rule::kCapacity ? MostCapacity(d, excluded) : PriceCapacity(d, excluded);
  }
  Rule rule_;
  bool flexible_;
};

}  // namespace

std::vector<std::string> StrategyNames() {
  return {"on-demand",
          "stay-put",
          "aws-lowest-price",
          "aws-capacity-optimized",
          "aws-price-capacity-optimized",
          "spotopt-rules",
          "spotopt-scoring",
          "spotopt-model",
          "aws-lowest-price-flex",
          "aws-capacity-optimized-flex",
          "aws-price-capacity-optimized-flex",
          "spotopt-rules-flex",
          "spotopt-scoring-flex",
          "spotopt-model-flex",
          "oracle",
          "oracle-flex"};
}

absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name) {
  using R = CapacityAware::Rule;
  for (bool flex : {false, true}) {
    const std::string suffix = flex ? "-flex" : "";
    if (name == "aws-lowest-price" + suffix) return std::make_unique<LowestPrice>(flex);
    if (name == "aws-capacity-optimized" + suffix) {
      return std::make_unique<CapacityAware>(R::kCapacity, flex);
    }
    if (name == "aws-price-capacity-optimized" + suffix) {
      return std::make_unique<CapacityAware>(R::kPriceCapacity, flex);
    }
    if (name == "oracle" + suffix) return MakeOracle(flex);
    for (const char* engine : {"rules", "scoring", "model"}) {
      if (name == "spotopt-" + std::string(engine) + suffix)
        return MakeEngineStrategy(engine, flex);
    }
  }
  if (name == "on-demand") return std::make_unique<OnDemand>();
  if (name == "stay-put") return std::make_unique<StayPut>();
  return absl::NotFoundError("no strategy named '" + name + "'");
}

}  // namespace spotopt::backtest
