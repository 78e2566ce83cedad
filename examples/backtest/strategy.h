// A strategy decides where each agent of the fleet runs. The harness asks it at fixed
// moments only (the same moments the oracle may act at, so the oracle's choices always
// include the strategy's):
//   - Initial: at the start, where each agent launches;
//   - OnPrices: at a decision point (every 300 s) when a price of one of the agent's
//     places changed since it was last asked, or the agent just finished a move;
//   - OnRebalance: when the agent's primary receives a rebalance recommendation;
//   - Relaunch: when its primary was reclaimed with no move under way: where the
//     workload relaunches (the same rule for every strategy);
//   - OnWakeup: at moments the strategy asked for in advance (the oracle's plan).
// An answer is where to move, or nothing. The harness moves the agent the way an
// operator would (Controller::EnqueueSwitch, priority 75 with override_limits), and
// asks nothing of an agent while a move or relaunch is under way.
//
// A strategy that lets libspotopt decide (decides_in_controller) answers only Initial
// and Relaunch: its agents run with auto switch on, the harness asks
// Controller::RunDecisions for them whenever something changed for them (a price of
// their places, a move ending, a guard lifting, a signal in their pools), and they
// execute what the Controller queues, as agent v4 does; signals go through the
// Controller's routes, which ask the same engine.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_STRATEGY_H_
#define SPOTOPT_EXAMPLES_BACKTEST_STRATEGY_H_

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cost_model.h"
#include "data.h"
#include "fleet.h"
#include "interruptions.h"
#include "spotopt/domain/agent.h"
#include "spotopt/service/controller.h"

namespace spotopt::backtest {

// What a run is made of; shared by every strategy of the run.
struct Scenario {
  const Market& market;
  const Interruptions& interruptions;
  const Fleet& fleet;
  const CostModel& costs;
  std::string advisor_json;  // loaded into each run's Controller; may be empty
  // The prices before the run's start that the host's importer already holds (up to
  // the nine days a price model reads back); nullptr: none.
  const Market* history = nullptr;
  const ModelFiles* model = nullptr;  // the model engine's files; nullptr: none
};

// What a strategy is told about one agent when asked.
struct Decision {
  size_t agent = 0;  // index in the fleet
  const AgentSpec& spec;
  std::span<const SeriesId> places;  // where it may run: spec.places or spec.flex_places
  SeriesId current = 0;              // where its primary runs (at Initial: unset)
  Sec now = 0;
  const Scenario& scenario;

  // The price of a place as the Controller knows it now; nullopt: not priced yet.
  std::optional<int64_t> Price(SeriesId s) const { return scenario.market.PriceAt(s, now); }
  bool Available(SeriesId s) const { return Price(s).has_value(); }
};

// The cheapest available spot place of the decision, skipping `excluded`; nullopt:
// none is priced yet.
std::optional<SeriesId> Cheapest(const Decision& d, std::optional<SeriesId> excluded = {});
// The on-demand place of the agent's own type.
SeriesId OnDemandOf(const Decision& d);

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // It may move an agent to another instance type (its places are spec.flex_places).
  virtual bool flexible() const { return false; }
  // The config every agent of the strategy registers with.
  virtual AgentConfigPatch Config() const;
  // Why it cannot run on this scenario; empty: it can.
  virtual std::string Unavailable(const Scenario&) const { return ""; }
  // Called once before the run, outside any agent's decisions (the oracle plans here).
  virtual absl::Status Prepare(const Scenario&) { return absl::OkStatus(); }
  // Whether libspotopt decides for its agents (see above).
  virtual bool decides_in_controller() const { return false; }
  // Called with the run's Controller and tenant before the agents launch (an engine
  // strategy registers and activates its engine here).
  virtual absl::Status Activate(Controller&, const std::string& /*tenant*/, const Scenario&) {
    return absl::OkStatus();
  }

  virtual SeriesId Initial(const Decision& d) = 0;
  virtual std::optional<SeriesId> OnPrices(const Decision&) { return std::nullopt; }
  virtual std::optional<SeriesId> OnRebalance(const Decision&) { return std::nullopt; }
  virtual SeriesId Relaunch(const Decision& d) = 0;
  virtual std::vector<Sec> Wakeups(size_t /*agent*/) const { return {}; }
  virtual std::optional<SeriesId> OnWakeup(const Decision&) { return std::nullopt; }
  // Whether OnPrices can ever answer (the harness skips the calls otherwise).
  virtual bool watches_prices() const { return false; }
  // What the strategy knows its agent's run will cost; the harness checks the ledger
  // against it (the oracle's plan).
  virtual std::optional<Units> ExpectedCost(size_t /*agent*/) const { return std::nullopt; }
};

// The strategies of the issue, by name: on-demand, stay-put, aws-lowest-price,
// aws-capacity-optimized, aws-price-capacity-optimized, the engines spotopt-rules,
// spotopt-scoring and spotopt-model, each of the last six also with a -flex suffix
// (instance-type flexibility), oracle and oracle-flex. NotFound for any other name.
absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name);
std::vector<std::string> StrategyNames();

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_STRATEGY_H_
