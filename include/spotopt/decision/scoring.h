// The scoring engine: price, capacity and risk in one expected cost per hour.
//
//   candidates (eligible pools, and on-demand from spot)
//     -> risk per pool (spotopt/decision/risk.h)
//     -> expected cost per hour over the horizon:
//          spot pool:  forecast price + hazard per hour x cost of an interruption
//          on-demand:  its price
//          a move adds its one-off cost spread over the horizon: the old primary's
//          drain (terminate wait x its price, which the ledger bills) and the
//          cutover (switch_hours of on-demand)
//     -> the cheapest; staying wins ties
//     -> the same guards as the rules (ApplyGuards)
//     -> a reactive override for interruption signals (as the rules, with targets
//        ranked by expected cost instead of risk).
// Spot at or above ondemand_fallback_ratio x on-demand is not kept: the agent moves to
// the cheapest of on-demand and the pools below that line.
//
// A Forecaster (the model engine, spotopt/decision/model.h) replaces each pool's
// current price by its forecast over the horizon; without one the price is assumed
// to hold.
#ifndef SPOTOPT_DECISION_SCORING_H_
#define SPOTOPT_DECISION_SCORING_H_

#include <memory>
#include <string>
#include <vector>

#include "spotopt/decision/decision.h"
#include "spotopt/decision/risk.h"

namespace spotopt::decision {

struct ScoringParams {
  // A move's one-off costs are spread over this long.
  Duration horizon = absl::Hours(24);
  // An interruption costs this many hours of on-demand price: the relaunch, the lost
  // work and the downtime.
  double interruption_hours = 1.0;
  // A planned move's cutover, in hours of on-demand price.
  double switch_hours = 0.1;
  RiskModel risk;
};

// Predicts, per candidate pool of an input, the pool's mean price over the coming
// horizon as a multiple of its current price (1 = unchanged). Pure and thread-safe.
class SPOTOPT_EXPORT Forecaster {
 public:
  virtual ~Forecaster() = default;
  // One factor per in.pools entry (NaN where the pool has no price).
  virtual absl::StatusOr<std::vector<double>> Forecast(const DecisionInput& in) const = 0;
  virtual bool needs_history() const = 0;
  // Engine::Prepare, for the forecasts of these inputs.
  virtual void Prepare(std::span<const DecisionInput> inputs) const { (void)inputs; }
};

class SPOTOPT_EXPORT ScoringEngine final : public Engine {
 public:
  static constexpr std::string_view kName = "scoring";
  static constexpr std::string_view kVersion = "1.0.0";

  explicit ScoringEngine(ScoringParams params = {},
                         std::shared_ptr<const Forecaster> forecaster = nullptr,
                         std::string name = std::string(kName),
                         std::string version = std::string(kVersion));
  std::string_view name() const override { return name_; }
  std::string_view version() const override { return version_; }
  bool needs_history() const override { return forecaster_ && forecaster_->needs_history(); }
  absl::StatusOr<Decision> Decide(const DecisionInput& in) const override;
  void Prepare(std::span<const DecisionInput> inputs) const override {
    if (forecaster_) forecaster_->Prepare(inputs);
  }

 private:
  ScoringParams params_;
  std::shared_ptr<const Forecaster> forecaster_;
  std::string name_;
  std::string version_;
};

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_SCORING_H_
