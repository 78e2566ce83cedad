#include "engines.h"

#include <fmt/format.h>

namespace spotopt::backtest {
namespace {

class EngineStrategy final : public Strategy {
 public:
  EngineStrategy(std::string_view engine, bool flexible) : engine_(engine), flexible_(flexible) {}

  std::string name() const override {
    return fmt::format("spotopt-{}{}", engine_, flexible_ ? "-flex" : "");
  }
  bool flexible() const override { return flexible_; }
  bool watches_prices() const override { return true; }
  bool decides_in_controller() const override { return true; }
  AgentConfigPatch Config() const override { return EngineConfig(engine_); }

  std::string Unavailable(const Scenario& sc) const override {
    if (engine_ != "model") return "";
    if (sc.model == nullptr) return "no model (config.model)";
    // A model is judged only on history it did not learn from.
    const decision::ModelManifest& m = sc.model->manifest;
    if (ToTime(sc.market.start()) < m.eval_from || ToTime(sc.market.end()) > m.eval_to) {
      return fmt::format(
          "{} {} learnt from the history before {}; it runs in the evaluation "
          "sections, on {} .. {}",
          m.name, m.version, FormatTimestamp(m.eval_from), FormatTimestamp(m.eval_from),
          FormatTimestamp(m.eval_to));
    }
    return "";
  }

  absl::Status Activate(Controller& controller, const std::string& tenant,
                        const Scenario& sc) override {
    EngineRef ref = engine_ == "rules" ? decision::RulesRef() : decision::ScoringRef();
    if (engine_ == "model") {
      absl::StatusOr<decision::EngineInfo> info =
          controller.RegisterModel(sc.model->manifest_json, sc.model->model_bytes);
      if (!info.ok()) return info.status();
      ref = info->ref;
    }
    return controller.ActivateEngine(tenant, ref.name, ref.version).status();
  }

  // The workload launches, and relaunches after an interruption nothing covered, in
  // the cheapest pool, as an operator without an engine would; the engine moves it
  // from there.
  SeriesId Initial(const Decision& d) override { return Cheapest(d).value_or(OnDemandOf(d)); }
  SeriesId Relaunch(const Decision& d) override { return Cheapest(d).value_or(OnDemandOf(d)); }

 private:
  std::string engine_;
  bool flexible_;
};

}  // namespace

std::unique_ptr<Strategy> MakeEngineStrategy(std::string_view engine, bool flexible) {
  if (engine != "rules" && engine != "scoring" && engine != "model") return nullptr;
  return std::make_unique<EngineStrategy>(engine, flexible);
}

AgentConfigPatch EngineConfig(std::string_view engine) {
  AgentConfigPatch c;
  c.auto_switch = true;
  // A standby launched on the rebalance recommendation (5 to 60 minutes ahead here)
  // is promoted on the termination notice: no deadline is missed.
  c.replica_mode = ReplicaMode::kEmergency;
  // The rules see no cost of moving: a move must save enough to pay the old primary's
  // 5-minute drain back twice within the 2-hour cooldown (2 x 1/12 h / 2 h = 8.3 %,
  // rounded up). The scoring engines price the drain and the cutover themselves, so
  // the minimum saving is only a floor against moves for a rounding error.
  c.min_savings_percent = engine == "rules" ? 10.0 : 5.0;
  // The defaults, which an operator has no reason here to change: a 2-hour cooldown,
  // 3 switches a day and 10 a week, the 0.3 risk ceiling (every Advisor band passes; a
  // pool with a termination today does not), on-demand above 0.8 x on-demand and back
  // below 0.7 x.
  c.min_pool_duration_hours = 2.0;
  c.max_switches_per_day = 3;
  c.max_switches_per_week = 10;
  c.risk_threshold = 0.3;
  c.ondemand_fallback_ratio = 0.8;
  c.ondemand_return_ratio = 0.7;
  return c;
}

}  // namespace spotopt::backtest
