// What a backtest run is asked to do, parsed from JSON (the CLI, the C entry point and
// the Python module all pass the same object). Unknown keys and wrong types are
// refused with InvalidArgument naming the key.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_CONFIG_H_
#define SPOTOPT_EXAMPLES_BACKTEST_CONFIG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cost_model.h"
#include "interruptions.h"

namespace spotopt::backtest {

struct Config {
  std::string data_dir = "../shared/data";
  std::string region = "eu-west-1";
  // The fleet of the "types" section: empty means every type with at least
  // `min_pools` priced pools and an on-demand price.
  std::vector<std::string> types;
  int min_pools = 3;
  int agents_per_type = 1;
  // The fleet of the "family" section: these types, or else the types compatible with
  // `family` (fleet.h); both empty: no family section.
  std::string family = "m5.large";
  std::vector<std::string> family_types;
  std::vector<std::string> strategies;  // empty: all of StrategyNames()
  InterruptionOptions interruptions;
  Timing timing;
  std::optional<Time> start, end;  // default: DefaultPeriod of the data
  // The model engine's manifest (the model file beside it); empty: no model engine.
  std::string model = "models/price-24h/manifest.json";
  // The evaluation sections, over the model's evaluation window (needs `model`).
  bool evaluation = true;
  bool progress = false;  // a progress bar on stderr

  // The strategies to run, in StrategyNames() order.
  std::vector<std::string> Strategies() const;
};

absl::StatusOr<Config> ParseConfig(std::string_view text);
// The config as JSON, every key spelled out (recorded in the results).
std::string ConfigJson(const Config& config);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_CONFIG_H_
