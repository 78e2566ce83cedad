// The hindsight oracle: knowing every price and every interruption, the cheapest way to
// run one agent, by dynamic programming over (place, moment) with the switching costs
// of cost_model.h. It may act at every moment any strategy may act at (every decision
// point, and every rebalance recommendation, termination notice and interruption of its
// places), and follows the same rules: one move at a time, a switch reaches the agent
// at its next poll (never if its instance is reclaimed first), an interrupted primary
// with no move under way relaunches where the oracle chooses. So no strategy's path is
// cheaper than the oracle's, and its plan, replayed through the Controller, costs in
// the ledger exactly what the program computed (the harness checks both).
#ifndef SPOTOPT_EXAMPLES_BACKTEST_ORACLE_H_
#define SPOTOPT_EXAMPLES_BACKTEST_ORACLE_H_

#include <memory>
#include <span>
#include <vector>

#include "cost_model.h"
#include "interruptions.h"
#include "strategy.h"

namespace spotopt::backtest {

struct Plan {
  SeriesId initial = 0;
  struct Action {
    Sec at = 0;
    SeriesId target = 0;
  };
  std::vector<Action> switches;    // decided at `at`
  std::vector<Action> relaunches;  // after the interruption at `at`
  Units cost = 0;                  // of the whole run
};

Plan PlanAgent(const CostModel& costs, const Interruptions& interruptions, uint64_t agent,
               std::span<const SeriesId> places);

std::unique_ptr<Strategy> MakeOracle(bool flexible);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_ORACLE_H_
