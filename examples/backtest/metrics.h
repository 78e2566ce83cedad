// The ledger's figures of a run, read back from the Controller: per agent, and per UTC
// day over the fleet. Every money figure is the ledger's exact one (integer
// micro-dollars); a fleet total is the sum of its agents' figures, so per-agent costs
// sum to the total by construction and each agent's days sum to its lifetime.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_METRICS_H_
#define SPOTOPT_EXAMPLES_BACKTEST_METRICS_H_

#include <string>
#include <utility>
#include <vector>

#include "market.h"
#include "spotopt/service/controller.h"

namespace spotopt::backtest {

struct LedgerFigures {
  int64_t cost = 0;          // micro-dollars, primaries and replicas
  int64_t baseline = 0;      // what on-demand would have cost
  int64_t savings = 0;       // baseline - cost
  int64_t replica_cost = 0;  // the replicas' part of cost
  Sec downtime = 0;          // the cutovers switch reports carried
  LedgerFigures& operator+=(const LedgerFigures& o);
};

struct LedgerRead {
  std::vector<LedgerFigures> agents;                // in the order of the ids asked for
  std::vector<std::pair<Sec, int64_t>> daily_cost;  // fleet cost per UTC day, by day
};

// The figures of the given agents up to the Controller's now. Internal when a figure
// is unknown (an interval without a price): the backtest only runs priced pools.
absl::StatusOr<LedgerRead> ReadLedger(Controller& controller, const std::string& tenant,
                                      const std::vector<std::string>& agent_ids);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_METRICS_H_
