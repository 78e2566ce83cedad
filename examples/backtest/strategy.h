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
// asks nothing of an agent while a move or relaunch is under way. The simulated agents
// execute a polled command as delivered (its target mode and pool), so a strategy that
// lets libspotopt decide can act through the Controller instead (README: "Adding a
// decision engine").
#ifndef SPOTOPT_EXAMPLES_BACKTEST_STRATEGY_H_
#define SPOTOPT_EXAMPLES_BACKTEST_STRATEGY_H_

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cost_model.h"
#include "fleet.h"
#include "interruptions.h"
#include "spotopt/domain/agent.h"

namespace spotopt::backtest {

// What a run is made of; shared by every strategy of the run.
struct Scenario {
  const Market& market;
  const Interruptions& interruptions;
  const Fleet& fleet;
  const CostModel& costs;
  std::string advisor_json;  // loaded into each run's Controller; may be empty
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

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // It may move an agent to another instance type (its places are spec.flex_places).
  virtual bool flexible() const { return false; }
  // The config every agent of the strategy registers with.
  virtual AgentConfigPatch Config() const;
  // Called once before the run, outside any agent's decisions (the oracle plans here).
  virtual absl::Status Prepare(const Scenario&) { return absl::OkStatus(); }

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

// The strategies of the issue that exist today, by name: on-demand, stay-put,
// aws-lowest-price, aws-capacity-optimized, aws-price-capacity-optimized, the last
// three with a -flex suffix (instance-type flexibility), oracle and oracle-flex.
// NotFound for any other name.
absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name);
std::vector<std::string> StrategyNames();

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_STRATEGY_H_
