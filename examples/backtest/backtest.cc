#include "backtest.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "progress.h"

namespace spotopt::backtest {
namespace {

constexpr Sec kGrid = 300;  // the decision grid: the SEF bucket, agents' price report period

// A model backtested on its training history would be judged on what it learnt by
// heart; how far back it reads prices (features.h: kHistoryLookback).
constexpr Sec kLookback = Sec{9} * 86400;

struct SectionPlan {
  std::string name;
  std::vector<std::string> types;
  std::vector<std::string> strategies;
  std::string plot_type;    // whose first agent the price plot follows
  bool evaluation = false;  // over the model's evaluation window
};

std::vector<SectionPlan> PlanSections(const Config& c, const Dataset& data, bool evaluation) {
  const std::vector<std::string> all = c.Strategies();
  const std::vector<std::string> defaults = DefaultTypes(data, c.min_pools);
  std::vector<std::string> single;  // every strategy that keeps its type
  for (const std::string& s : all) {
    if (s.find("-flex") == std::string::npos) single.push_back(s);
  }
  std::vector<std::string> family = c.family_types;
  if (family.empty() && !c.family.empty()) {
    std::vector<std::string> among = defaults;
    among.push_back(c.family);
    family = CompatibleTypes(data, c.family, among);
  }
  std::vector<SectionPlan> out;
  for (bool eval : {false, true}) {
    if (eval && !evaluation) break;
    if (!single.empty()) {
      out.push_back(SectionPlan{eval ? "evaluation" : "types", c.types.empty() ? defaults : c.types,
                                single, "", eval});
    }
    if (!family.empty() && !all.empty()) {
      const std::string anchor = c.family.empty() ? family.front() : c.family;
      out.push_back(SectionPlan{eval ? "evaluation-family" : "family", family, all, anchor, eval});
    }
  }
  return out;
}

// Rounds explicit bounds inwards to the decision grid.
Sec GridUp(Sec t) { return (t + kGrid - 1) / kGrid * kGrid; }
Sec GridDown(Sec t) { return t / kGrid * kGrid; }

// What a strategy run weighs in the progress bar: its agent-days, times ten when the
// Controller decides (its decisions are most of a run's time).
double Weight(const Strategy& s, size_t agents, Sec start, Sec end) {
  return static_cast<double>(agents) * static_cast<double>(end - start) / 86400 *
         (s.decides_in_controller() ? 10 : 1);
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
  const Sec start = scenario.market.start(), end = scenario.market.end();
  out.start = start;
  out.end = end;
  for (const std::string& n : strategies) {
    absl::StatusOr<std::unique_ptr<Strategy>> strategy = MakeStrategy(n);
    if (!strategy.ok()) return strategy.status();
    if (progress) {
      progress->Begin(name + "/" + n, Weight(**strategy, scenario.fleet.size(), start, end), start,
                      end);
    }
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
  // The model is read only when something needs it.
  const std::vector<std::string> names = c.Strategies();
  const bool model_strategy = std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.starts_with("spotopt-model");
  });
  std::optional<ModelFiles> model;
  if (!c.model.empty() && (c.evaluation || model_strategy)) {
    absl::StatusOr<ModelFiles> m = LoadModel(c.model);
    if (!m.ok()) return m.status();
    model = *std::move(m);
  }
  const std::vector<SectionPlan> plans = PlanSections(c, data, model && c.evaluation);
  if (plans.empty()) return absl::InvalidArgumentError("config: nothing to run");

  Results results;
  results.config = c;
  std::vector<std::string> every_type;
  for (const SectionPlan& p : plans)
    every_type.insert(every_type.end(), p.types.begin(), p.types.end());
  const auto [first, last] = DefaultPeriod(data, every_type, kGrid);
  results.start = c.start ? GridUp(ToSec(*c.start)) : first;
  results.end = c.end ? GridDown(ToSec(*c.end)) : last;
  // The model's evaluation window, within the data.
  const Sec eval_from = model ? std::max(first, GridUp(ToSec(model->manifest.eval_from))) : 0;
  const Sec eval_to = model ? std::min(last, GridDown(ToSec(model->manifest.eval_to))) : 0;
  const auto period = [&](const SectionPlan& p) {
    return p.evaluation ? std::pair{eval_from, eval_to} : std::pair{results.start, results.end};
  };
  double work = 0;
  for (const SectionPlan& p : plans) {
    const auto [from, to] = period(p);
    if (from >= to) {
      return absl::InvalidArgumentError(
          fmt::format("config: the period of section {} is empty on the 5-minute grid", p.name));
    }
    for (const std::string& n : p.strategies) {
      work += Weight(**MakeStrategy(n), p.types.size() * c.agents_per_type, from, to);
    }
  }
  ProgressBar progress(c.progress, work);
  for (const SectionPlan& p : plans) {
    const auto [from, to] = period(p);
    absl::StatusOr<Market> market = SampleMarket(data, p.types, from, to, kGrid);
    if (!market.ok()) return market.status();
    // What the host's importer already holds: the prices a model reads back.
    absl::StatusOr<Market> history = SampleMarket(data, p.types, from - kLookback, from, kGrid);
    if (!history.ok()) return history.status();
    const Fleet fleet = BuildFleet(*market, c.agents_per_type, FindFamilies(data, market->Types()));
    absl::StatusOr<Interruptions> interruptions =
        DrawInterruptions(*market, &data, c.interruptions);
    if (!interruptions.ok()) return interruptions.status();
    const CostModel costs(*market, c.timing);
    const Scenario scenario{*market,   *interruptions,           fleet, costs, data.advisor_json,
                            &*history, model ? &*model : nullptr};
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
