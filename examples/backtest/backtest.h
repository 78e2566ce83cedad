// A whole backtest: load the data, build each section's market, fleet and interruption
// draw, run every strategy through the Controller, and keep what the report needs.
//
// Two sections: "types" (the configured fleet, each agent within its own instance
// type) and "family" (the agents of a family of compatible types, where the -flex
// strategies may also move across types), over the configured period; and the same two
// again, "evaluation" and "evaluation-family", over the price model's evaluation window
// (the history it did not learn from), where the model engine runs beside every other
// strategy. Every strategy of a section faces the same fleet, the same prices and the
// same interruption draw.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_BACKTEST_H_
#define SPOTOPT_EXAMPLES_BACKTEST_BACKTEST_H_

#include <string>
#include <vector>

#include "config.h"
#include "simulation.h"

namespace spotopt::backtest {

struct SectionResult {
  std::string name;
  Sec start = 0, end = 0;  // its period
  std::vector<std::string> types;
  std::vector<std::string> agents;  // logical ids, in fleet order
  std::vector<std::string> series;  // names of the market's series, by SeriesId
  size_t pools = 0;
  size_t interruptions_drawn = 0;
  std::vector<StrategyRun> runs;
  // The agent whose moves the price plot marks, and the prices of where it may run.
  size_t plot_agent = 0;
  std::vector<Series> plot_series;
};

struct Results {
  Config config;
  Sec start = 0, end = 0;
  std::vector<SectionResult> sections;
};

// The first error stops the run: NotFound (a data file), InvalidArgument (the config
// or the data), Internal (the ledger disagrees with the cost model).
absl::StatusOr<Results> RunBacktest(const Config& config);
// The same on data already loaded (config.data_dir and region are not read again).
absl::StatusOr<Results> RunBacktest(const Config& config, const Dataset& data);

// The same over an already built scenario (tests use hand-made markets).
absl::StatusOr<SectionResult> RunSection(const std::string& name, const Scenario& scenario,
                                         const std::vector<std::string>& strategies,
                                         class ProgressBar* progress);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_BACKTEST_H_
