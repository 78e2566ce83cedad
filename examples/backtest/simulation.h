// One strategy over one scenario, through a fresh Controller (MemoryStore, a manual
// clock): the event loop, then the ledger's figures, checked against the cost model.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_SIMULATION_H_
#define SPOTOPT_EXAMPLES_BACKTEST_SIMULATION_H_

#include <functional>
#include <string>
#include <vector>

#include "agent.h"
#include "metrics.h"
#include "strategy.h"

namespace spotopt::backtest {

struct AgentRun {
  LedgerFigures ledger;
  AgentOutcome outcome;
};

struct StrategyRun {
  std::string name;
  // Why the strategy could not run (empty: it ran); e.g. the Controller refuses a
  // switch to another instance type.
  std::string disabled;
  std::vector<AgentRun> agents;  // in fleet order
  std::vector<std::pair<Sec, int64_t>> daily_cost;
  double seconds = 0;  // wall time, Controller and planning included

  LedgerFigures Total() const;
};

// Called now and then with the simulated moment the run has reached.
using Progress = std::function<void(Sec)>;

// Internal when the ledger disagrees with the cost model for any agent (or with the
// oracle's plan): then the oracle's figure could not be trusted.
absl::StatusOr<StrategyRun> RunStrategy(const Scenario& scenario, Strategy& strategy,
                                        const Progress& progress);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_SIMULATION_H_
