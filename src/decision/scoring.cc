#include "spotopt/decision/scoring.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "decision/candidates.h"
#include "spotopt/decision/thresholds.h"

namespace spotopt::decision {
namespace {

using internal::MoveTo;
using internal::MoveToOnDemand;

// Expected costs of one input, in micro-dollars per hour.
class Costs {
 public:
  Costs(const DecisionInput& in, const ScoringParams& params, std::vector<double> forecast)
      : in_(in), params_(params), forecast_(std::move(forecast)) {}

  // Staying in (or moving to) pool `p`: its forecast price plus the interruptions it
  // is expected to suffer, each worth interruption_hours of on-demand.
  double Pool(const PoolMarket& p) const {
    const double factor = forecast_.empty() ? 1.0 : forecast_[Index(p)];
    return static_cast<double>(p.spot->price.micros()) * factor +
           HourlyHazard(p, params_.risk) * params_.interruption_hours * Value(p);
  }
  double OnDemand() const { return static_cast<double>(in_.on_demand->micros()); }

  // A move's one-off cost per hour of the horizon: the old primary drains (billed)
  // for its terminate wait, and the cutover.
  double Move(std::optional<Money> current) const {
    const AgentConfig& c = in_.config;
    const double price = current ? static_cast<double>(current->micros()) : 0;
    const double drain_hours = c.auto_terminate ? c.terminate_wait_seconds / 3600.0 : 0;
    const double value = in_.on_demand ? OnDemand() : price;
    return (drain_hours * price + params_.switch_hours * value) /
           absl::ToDoubleHours(params_.horizon);
  }

 private:
  size_t Index(const PoolMarket& p) const { return static_cast<size_t>(&p - in_.pools.data()); }
  // What an hour of the workload is worth: its on-demand price, else its spot price.
  double Value(const PoolMarket& p) const {
    if (p.on_demand) return static_cast<double>(p.on_demand->micros());
    if (in_.on_demand) return OnDemand();
    return static_cast<double>(p.spot->price.micros());
  }

  const DecisionInput& in_;
  const ScoringParams& params_;
  std::vector<double> forecast_;
};

int64_t Round(double micros) { return static_cast<int64_t>(std::llround(micros)); }

}  // namespace

ScoringEngine::ScoringEngine(ScoringParams params, std::shared_ptr<const Forecaster> forecaster,
                             std::string name, std::string version)
    : params_(params),
      forecaster_(std::move(forecaster)),
      name_(std::move(name)),
      version_(std::move(version)) {}

absl::StatusOr<Decision> ScoringEngine::Decide(const DecisionInput& in) const {
  std::vector<double> forecast;
  if (forecaster_) {
    absl::StatusOr<std::vector<double>> f = forecaster_->Forecast(in);
    if (!f.ok()) return f.status();
    if (f->size() != in.pools.size()) {
      return absl::InternalError(
          fmt::format("{}: {} forecasts for {} pools", name_, f->size(), in.pools.size()));
    }
    for (size_t i = 0; i < f->size(); ++i) {
      const double v = (*f)[i];
      if (in.pools[i].spot && !(std::isfinite(v) && v > 0)) {
        return absl::InternalError(fmt::format("{}: forecast {} for {} is not a positive number",
                                               name_, v, in.pools[i].pool.id()));
      }
    }
    forecast = *std::move(f);
  }
  const Costs costs(in, params_, std::move(forecast));
  const auto expected = [&](const PoolMarket& p) { return costs.Pool(p); };

  if (IsEmergency(in)) {
    Decision d = internal::React(*this, in, params_.risk, expected);
    ApplyGuards(in, d, params_.risk);
    return d;
  }
  Decision d = internal::Start(*this, in, params_.risk);
  const PoolMarket* here = CurrentPool(in);
  const bool on_spot = in.placement.mode == Mode::kSpot;
  if (on_spot && (here == nullptr || QuoteGuard(here->spot, in))) {
    d.reason = Reason::kNoPrice;
    d.message = "The agent's own spot price is not usable.";
    return d;
  }
  if (!on_spot && !in.on_demand) {
    d.reason = Reason::kNoPrice;
    d.message = "The on-demand price is unknown.";
    return d;
  }

  const std::optional<Money> current = internal::CurrentPrice(in);
  const double stay = on_spot ? costs.Pool(*here) : costs.OnDemand();
  const double move = costs.Move(current);
  const Fraction fallback = Fraction::FromRatio(in.config.ondemand_fallback_ratio);
  // Spot at the fallback line is not kept: staying is not an option then.
  const bool near_line = on_spot && in.on_demand && AtLeast(*current, fallback, *in.on_demand);

  const PoolMarket* best = nullptr;
  double best_cost = std::numeric_limits<double>::infinity();
  for (const PoolMarket* p : internal::Eligible(in, params_.risk, expected)) {
    if (near_line && !Below(p->spot->price, fallback, *in.on_demand)) continue;
    best = p;
    best_cost = costs.Pool(*p) + move;
    break;  // Eligible() is ordered by expected cost
  }
  const bool on_demand_better = on_spot && in.on_demand && costs.OnDemand() + move < best_cost &&
                                (near_line || costs.OnDemand() + move < stay);
  if (near_line) {
    d.reason = Reason::kSpotNearOnDemand;
    d.urgent = *current >= *in.on_demand;
  } else if (!on_demand_better && (best == nullptr || best_cost >= stay)) {
    d.message = fmt::format(
        "Staying costs {:.0f} micro-USD/h expected; no eligible move is cheaper.", stay);
    return d;
  } else {
    d.reason = on_spot ? Reason::kLowerExpectedCost : Reason::kBackToSpot;
  }
  if (on_demand_better || best == nullptr) {
    MoveToOnDemand(d, in);
    d.expected_savings_micros = Round(stay - costs.OnDemand() - move);
    d.message = fmt::format("On-demand at {} beats an expected {:.0f} micro-USD/h on spot.",
                            in.on_demand->ToString(), stay);
  } else {
    MoveTo(d, in, *best, params_.risk);
    d.expected_savings_micros = Round(stay - best_cost);
    d.confidence = internal::Confidence(in, {here, best});
    d.message = fmt::format(
        "{} is expected to cost {:.0f} micro-USD/h with moving, against {:.0f} to stay.",
        best->pool.id(), best_cost, stay);
  }
  ApplyGuards(in, d, params_.risk);
  return d;
}

}  // namespace spotopt::decision
