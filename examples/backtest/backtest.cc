#include "backtest.h"

#include <algorithm>

#include <fmt/format.h>

#include "progress.h"

namespace spotopt::backtest {
namespace {

constexpr Sec kGrid = 300;  // the decision grid: the SEF bucket, agents' price report period

struct SectionPlan {
  std::string name;
  std::vector<std::string> types;
  std::vector<std::string> strategies;
  std::string plot_type;  // whose first agent the price plot follows
};

std::vector<SectionPlan> PlanSections(const Config& c, const Dataset& data) {
  const std::vector<std::string> all = c.Strategies();
  const std::vector<std::string> defaults = DefaultTypes(data, c.min_pools);
  std::vector<SectionPlan> out;
  SectionPlan types{"types", c.types.empty() ? defaults : c.types, {}, ""};
  for (const std::string& s : all) {
    if (s.find("-flex") == std::string::npos) types.strategies.push_back(s);
  }
  if (!types.strategies.empty()) out.push_back(types);
  std::vector<std::string> family = c.family_types;
  if (family.empty() && !c.family.empty()) {
    std::vector<std::string> among = defaults;
    among.push_back(c.family);
    family = CompatibleTypes(data, c.family, among);
  }
  if (!family.empty() && !all.empty()) {
    const std::string anchor = c.family.empty() ? family.front() : c.family;
    out.push_back(SectionPlan{"family", family, all, anchor});
  }
  return out;
}

}  // namespace

absl::StatusOr<SectionResult> RunSection(const std::string& name, const Scenario& scenario,
                                         const std::vector<std::string>& strategies,
                                         ProgressBar* progress) {
  SectionResult out;
  out.name = name;
  out.types = scenario.market.Types();
  for (const AgentSpec& a : scenario.fleet) out.agents.push_back(a.logical_id);
  for (SeriesId s = 0; s < static_cast<SeriesId>(scenario.market.size()); ++s) {
    out.series.push_back(scenario.market.series(s).name());
    if (!scenario.market.series(s).on_demand()) {
      ++out.pools;
      out.interruptions_drawn += scenario.interruptions.Of(s).size();
    }
  }
  for (const std::string& n : strategies) {
    absl::StatusOr<std::unique_ptr<Strategy>> strategy = MakeStrategy(n);
    if (!strategy.ok()) return strategy.status();
    if (progress) progress->Begin(name + "/" + n, static_cast<double>(scenario.fleet.size()));
    absl::StatusOr<StrategyRun> run = RunStrategy(scenario, **strategy, [&](Sec now) {
      if (progress) progress->Update(now);
    });
    if (!run.ok()) return run.status();
    if (progress) progress->End();
    out.runs.push_back(*std::move(run));
  }
  return out;
}

absl::StatusOr<Results> RunBacktest(const Config& c) {
  absl::StatusOr<Dataset> data = LoadDataset(c.data_dir, c.region);
  if (!data.ok()) return data.status();
  return RunBacktest(c, *data);
}

absl::StatusOr<Results> RunBacktest(const Config& c, const Dataset& data) {
  const std::vector<SectionPlan> plans = PlanSections(c, data);
  if (plans.empty()) return absl::InvalidArgumentError("config: nothing to run");

  Results results;
  results.config = c;
  std::vector<std::string> every_type;
  for (const SectionPlan& p : plans)
    every_type.insert(every_type.end(), p.types.begin(), p.types.end());
  const auto [first, last] = DefaultPeriod(data, every_type, kGrid);
  // Explicit bounds are rounded inwards to the decision grid.
  results.start = c.start ? (ToSec(*c.start) + kGrid - 1) / kGrid * kGrid : first;
  results.end = c.end ? ToSec(*c.end) / kGrid * kGrid : last;
  if (results.start >= results.end) {
    return absl::InvalidArgumentError("config: the period is empty on the 5-minute grid");
  }

  // A run's work grows with its agents.
  double work = 0;
  for (const SectionPlan& p : plans) {
    work += static_cast<double>(p.strategies.size() * p.types.size()) * c.agents_per_type;
  }
  ProgressBar progress(c.progress, work, results.start, results.end);
  for (const SectionPlan& p : plans) {
    absl::StatusOr<Market> market = SampleMarket(data, p.types, results.start, results.end, kGrid);
    if (!market.ok()) return market.status();
    const Fleet fleet = BuildFleet(*market, c.agents_per_type, FindFamilies(data, market->Types()));
    absl::StatusOr<Interruptions> interruptions =
        DrawInterruptions(*market, &data, c.interruptions);
    if (!interruptions.ok()) return interruptions.status();
    const CostModel costs(*market, c.timing, c.billing);
    const Scenario scenario{*market, *interruptions, fleet, costs, data.advisor_json};
    absl::StatusOr<SectionResult> section = RunSection(p.name, scenario, p.strategies, &progress);
    if (!section.ok()) return section.status();
    const auto plotted = std::find_if(fleet.begin(), fleet.end(), [&](const AgentSpec& a) {
      return a.instance_type == p.plot_type;
    });
    section->plot_agent = plotted == fleet.end() ? 0 : static_cast<size_t>(plotted - fleet.begin());
    for (SeriesId s : fleet[section->plot_agent].flex_places) {
      section->plot_series.push_back(market->series(s));
    }
    results.sections.push_back(*std::move(section));
  }
  return results;
}

}  // namespace spotopt::backtest
