#include "report.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace spotopt::backtest {
namespace {

namespace json = boost::json;

const StrategyRun* Find(const SectionResult& s, const std::string& name) {
  for (const StrategyRun& r : s.runs) {
    if (r.name == name && r.disabled.empty()) return &r;
  }
  return nullptr;
}

std::optional<double> Ratio(int64_t num, int64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

struct Counts {
  int switches = 0, interruptions = 0, missed = 0;
  Sec downtime = 0;
};
Counts CountsOf(const StrategyRun& r) {
  Counts c;
  for (const AgentRun& a : r.agents) {
    c.switches += a.outcome.switches;
    c.interruptions += a.outcome.interruptions;
    c.missed += a.outcome.deadlines_missed;
    c.downtime += a.outcome.downtime;
  }
  return c;
}

std::string Usd(int64_t micros) {
  // Exact: micro-dollars to cents, halves away from zero, with thousands separators.
  const int64_t cents = (micros + (micros >= 0 ? 5000 : -5000)) / 10000;
  const std::string digits = std::to_string(std::abs(cents) / 100);
  std::string grouped;
  for (size_t k = 0; k < digits.size(); ++k) {
    if (k > 0 && (digits.size() - k) % 3 == 0) grouped += ',';
    grouped += digits[k];
  }
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", grouped, std::abs(cents) % 100);
}

std::string Percent(std::optional<double> x) {
  return x ? fmt::format("{:.1f}%", *x * 100) : std::string("-");
}

std::string Day(Sec t) { return absl::FormatTime("%Y-%m-%d", ToTime(t), absl::UTCTimeZone()); }
std::string Minute(Sec t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", ToTime(t), absl::UTCTimeZone());
}

json::value Nullable(std::optional<double> x) { return x ? json::value(*x) : json::value(nullptr); }

}  // namespace

Shares SharesOf(const SectionResult& s, const StrategyRun& run) {
  const bool flex = run.name.find("-flex") != std::string::npos;
  const StrategyRun* oracle = Find(s, flex ? "oracle-flex" : "oracle");
  const StrategyRun* stay = Find(s, "stay-put");
  Shares out;
  if (oracle) {
    const LedgerFigures me = run.Total(), best = oracle->Total();
    out.of_oracle_savings = Ratio(me.savings, best.savings);
    if (stay) {
      const int64_t base = stay->Total().cost;
      out.of_oracle_gain = Ratio(base - me.cost, base - best.cost);
    }
  }
  return out;
}

std::string Table(const Results& r) {
  std::string out;
  for (const SectionResult& s : r.sections) {
    out += fmt::format(
        "\n{}: {} agents ({} types, {} pools), {} .. {} UTC ({:.1f} days), {} interruptions "
        "drawn\n",
        s.name, s.agents.size(), s.types.size(), s.pools, Minute(s.start), Minute(s.end),
        static_cast<double>(s.end - s.start) / 86400, s.interruptions_drawn);
    out +=
        fmt::format("{:<34} {:>15} {:>14} {:>6} {:>9} {:>8} {:>8} {:>5} {:>9} {:>6} {:>9} {:>7}\n",
                    "strategy", "cost $", "savings $", "sav %", "of oracle", "of gain", "switches",
                    "intr", "down s", "missed", "replica $", "time s");
    for (const StrategyRun& run : s.runs) {
      if (!run.disabled.empty()) {
        out += fmt::format("{:<34} disabled: {}\n", run.name, run.disabled);
        continue;
      }
      const LedgerFigures t = run.Total();
      const Counts c = CountsOf(run);
      const Shares sh = SharesOf(s, run);
      out += fmt::format(
          "{:<34} {:>15} {:>14} {:>6} {:>9} {:>8} {:>8} {:>5} {:>9} {:>6} {:>9} {:>7.2f}\n",
          run.name, Usd(t.cost), Usd(t.savings), Percent(Ratio(t.savings, t.baseline)),
          Percent(sh.of_oracle_savings), Percent(sh.of_oracle_gain), c.switches, c.interruptions,
          c.downtime, c.missed, Usd(t.replica_cost), run.seconds);
    }
  }
  return out;
}

std::string ToJson(const Results& r) {
  json::object root;
  root["config"] = json::parse(ConfigJson(r.config));
  root["period"] = json::object{{"start", FormatTimestamp(ToTime(r.start))},
                                {"end", FormatTimestamp(ToTime(r.end))},
                                {"days", static_cast<double>(r.end - r.start) / 86400}};
  json::array sections;
  for (const SectionResult& s : r.sections) {
    json::object so;
    so["name"] = s.name;
    so["start"] = FormatTimestamp(ToTime(s.start));
    so["end"] = FormatTimestamp(ToTime(s.end));
    so["types"] = json::value_from(s.types);
    so["agents"] = s.agents.size();
    so["pools"] = s.pools;
    so["interruptions_drawn"] = s.interruptions_drawn;
    json::array strategies;
    for (const StrategyRun& run : s.runs) {
      json::object o;
      o["name"] = run.name;
      if (!run.disabled.empty()) {
        o["status"] = "disabled";
        o["reason"] = run.disabled;
        strategies.push_back(std::move(o));
        continue;
      }
      const LedgerFigures t = run.Total();
      const Counts c = CountsOf(run);
      const Shares sh = SharesOf(s, run);
      o["status"] = "ok";
      o["cost_micros"] = t.cost;
      o["baseline_micros"] = t.baseline;
      o["savings_micros"] = t.savings;
      o["savings_percent"] = Nullable(Ratio(t.savings * 100, t.baseline));
      o["share_of_oracle_savings"] = Nullable(sh.of_oracle_savings);
      o["share_of_oracle_gain_over_stay_put"] = Nullable(sh.of_oracle_gain);
      o["switches"] = c.switches;
      o["interruptions"] = c.interruptions;
      o["downtime_seconds"] = c.downtime;
      o["ledger_downtime_seconds"] = t.downtime;
      o["deadlines_missed"] = c.missed;
      o["replica_cost_micros"] = t.replica_cost;
      o["wall_seconds"] = run.seconds;
      json::array daily;
      for (const auto& [day, cost] : run.daily_cost) daily.push_back(json::array{Day(day), cost});
      o["daily_cost_micros"] = std::move(daily);
      json::array agents;
      for (size_t k = 0; k < run.agents.size(); ++k) {
        const AgentRun& a = run.agents[k];
        agents.push_back(json::object{{"agent", s.agents[k]},
                                      {"cost_micros", a.ledger.cost},
                                      {"baseline_micros", a.ledger.baseline},
                                      {"savings_micros", a.ledger.savings},
                                      {"switches", a.outcome.switches},
                                      {"interruptions", a.outcome.interruptions},
                                      {"downtime_seconds", a.outcome.downtime},
                                      {"deadlines_missed", a.outcome.deadlines_missed}});
      }
      o["agents"] = std::move(agents);
      json::array moves;
      if (s.plot_agent < run.agents.size()) {
        for (const MoveRecord& m : run.agents[s.plot_agent].outcome.moves) {
          moves.push_back(json::array{FormatTimestamp(ToTime(m.at)), s.series[m.from],
                                      s.series[m.to], m.relaunch ? "relaunch" : "switch"});
        }
      }
      o["plot_moves"] = std::move(moves);
      strategies.push_back(std::move(o));
    }
    so["strategies"] = std::move(strategies);
    json::object plot;
    plot["agent"] = s.agents.empty() ? "" : s.agents[s.plot_agent];
    json::array series;
    for (const Series& x : s.plot_series) {
      json::array steps;
      for (const Step& st : x.steps) {
        steps.push_back(json::array{FormatTimestamp(ToTime(st.at)), st.price});
      }
      series.push_back(json::object{{"name", x.name()}, {"steps", std::move(steps)}});
    }
    plot["series"] = std::move(series);
    so["plot"] = std::move(plot);
    sections.push_back(std::move(so));
  }
  root["sections"] = std::move(sections);
  return json::serialize(root);
}

std::string ToCsv(const Results& r) {
  std::string out =
      "section,strategy,status,cost_usd,baseline_usd,savings_usd,savings_percent,"
      "share_of_oracle_savings,share_of_oracle_gain_over_stay_put,switches,interruptions,"
      "downtime_seconds,deadlines_missed,replica_cost_usd,wall_seconds\n";
  const auto dollars = [](int64_t micros) {
    return fmt::format("{}{}.{:06}", micros < 0 ? "-" : "", std::abs(micros) / 1000000,
                       std::abs(micros) % 1000000);
  };
  const auto share = [](std::optional<double> x) { return x ? fmt::format("{:.6f}", *x) : ""; };
  for (const SectionResult& s : r.sections) {
    for (const StrategyRun& run : s.runs) {
      if (!run.disabled.empty()) {
        out += fmt::format("{},{},disabled,,,,,,,,,,,,\n", s.name, run.name);
        continue;
      }
      const LedgerFigures t = run.Total();
      const Counts c = CountsOf(run);
      const Shares sh = SharesOf(s, run);
      out += fmt::format("{},{},ok,{},{},{},{},{},{},{},{},{},{},{},{:.3f}\n", s.name, run.name,
                         dollars(t.cost), dollars(t.baseline), dollars(t.savings),
                         share(Ratio(t.savings * 100, t.baseline)), share(sh.of_oracle_savings),
                         share(sh.of_oracle_gain), c.switches, c.interruptions, c.downtime,
                         c.missed, dollars(t.replica_cost), run.seconds);
    }
  }
  return out;
}

}  // namespace spotopt::backtest
