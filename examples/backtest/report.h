// The results as people and programs read them: a table for stdout, a JSON document
// (the CLI's --json, the C entry point's answer, the Python module's dict) and CSV.
// Shares against the oracle are derived here, per section:
//   share of the oracle's savings   = savings / oracle's savings
//   share of the oracle's gain      = (stay-put's cost - cost) / (stay-put's cost - oracle's cost)
// where a -flex strategy is measured against oracle-flex. A share is null when its
// denominator is zero or a strategy it needs did not run.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_REPORT_H_
#define SPOTOPT_EXAMPLES_BACKTEST_REPORT_H_

#include <optional>
#include <string>

#include "backtest.h"

namespace spotopt::backtest {

struct Shares {
  std::optional<double> of_oracle_savings;
  std::optional<double> of_oracle_gain;
};
Shares SharesOf(const SectionResult& section, const StrategyRun& run);

std::string Table(const Results& results);
std::string ToJson(const Results& results);
std::string ToCsv(const Results& results);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_REPORT_H_
