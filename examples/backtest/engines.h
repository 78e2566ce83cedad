// The libspotopt engines as strategies: the rules, the scoring engine and the model
// engine (models/price-24h) decide through the real Controller, each in a tenant where
// it is the active engine, for agents configured as an operator would run them.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_ENGINES_H_
#define SPOTOPT_EXAMPLES_BACKTEST_ENGINES_H_

#include <memory>
#include <string_view>

#include "strategy.h"

namespace spotopt::backtest {

// "rules", "scoring" or "model"; nullptr for another name.
std::unique_ptr<Strategy> MakeEngineStrategy(std::string_view engine, bool flexible);

// The config every agent of an engine strategy runs with (README: "The engine
// strategies"); the same for the three engines but for min_savings_percent.
AgentConfigPatch EngineConfig(std::string_view engine);

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_ENGINES_H_
