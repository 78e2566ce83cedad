#include "spotopt/decision/rules.h"

#include <algorithm>

#include <fmt/format.h>

#include "decision/candidates.h"
#include "spotopt/decision/thresholds.h"

namespace spotopt::decision {
namespace {

using internal::Eligible;
using internal::MoveTo;
using internal::MoveToOnDemand;

double PriceOf(const PoolMarket& p) { return static_cast<double>(p.spot->price.micros()); }

// The agent runs on spot and its own price is usable.
void OnSpot(const DecisionInput& in, const RiskModel& risk, const PoolMarket& here, Decision& d) {
  const AgentConfig& c = in.config;
  const Money current = here.spot->price;
  const std::vector<const PoolMarket*> eligible = Eligible(in, risk, PriceOf);
  const Fraction fallback = Fraction::FromRatio(c.ondemand_fallback_ratio);
  if (in.on_demand && AtLeast(current, fallback, *in.on_demand)) {
    d.reason = Reason::kSpotNearOnDemand;
    d.urgent = current >= *in.on_demand;
    // A pool well below the line beats paying on-demand.
    for (const PoolMarket* p : eligible) {
      if (Below(p->spot->price, fallback, *in.on_demand)) {
        MoveTo(d, in, *p, risk);
        d.message =
            fmt::format("Spot {} is at least {} x on-demand {}; {} is below the line at {}.",
                        current.ToString(), c.ondemand_fallback_ratio, in.on_demand->ToString(),
                        p->pool.id(), p->spot->price.ToString());
        d.confidence = internal::Confidence(in, {&here, p});
        return;
      }
    }
    MoveToOnDemand(d, in);
    d.message =
        fmt::format("Spot {} is at least {} x on-demand {}: fall back to on-demand.",
                    current.ToString(), c.ondemand_fallback_ratio, in.on_demand->ToString());
    return;
  }
  // Eligible() is ordered by price: if its cheapest saves too little, none does.
  const Fraction min_savings = Fraction::FromPercent(c.min_savings_percent);
  if (!eligible.empty() && SavesAtLeast(current, eligible.front()->spot->price, min_savings)) {
    const PoolMarket& best = *eligible.front();
    d.reason = Reason::kCheaperPool;
    MoveTo(d, in, best, risk);
    d.confidence = internal::Confidence(in, {&here, &best});
    d.message =
        fmt::format("{} at {} saves {:.1f} % of {} (min_savings_percent {}).", best.pool.id(),
                    best.spot->price.ToString(), SavingsPercent(current, best.spot->price),
                    current.ToString(), c.min_savings_percent);
    return;
  }
  // Leaving a pool above the risk ceiling needs no saving: TargetGuard let every
  // eligible pool through for that, and the safest one is taken.
  const double here_risk = Risk(here, risk);
  if (here_risk <= c.risk_threshold || eligible.empty()) return;
  const PoolMarket* safest = *std::min_element(
      eligible.begin(), eligible.end(),
      [&](const PoolMarket* a, const PoolMarket* b) { return Risk(*a, risk) < Risk(*b, risk); });
  d.reason = Reason::kRiskAboveCeiling;
  MoveTo(d, in, *safest, risk);
  d.confidence = internal::Confidence(in, {&here, safest});
  d.message = fmt::format("{} has risk {:.2f}, above risk_threshold {}; {} has {:.2f}.",
                          here.pool.id(), here_risk, c.risk_threshold, safest->pool.id(), d.risk);
}

void OnDemand(const DecisionInput& in, const RiskModel& risk, Decision& d) {
  const std::vector<const PoolMarket*> eligible = Eligible(in, risk, PriceOf);
  if (eligible.empty()) {
    d.message = fmt::format(
        "No spot pool is below {} x on-demand with the minimum saving and the risk limit.",
        in.config.ondemand_return_ratio);
    return;
  }
  const PoolMarket& best = *eligible.front();
  d.reason = Reason::kBackToSpot;
  MoveTo(d, in, best, risk);
  d.confidence = internal::Confidence(in, {&best});
  d.message = fmt::format("{} at {} is below {} x on-demand {}.", best.pool.id(),
                          best.spot->price.ToString(), in.config.ondemand_return_ratio,
                          in.on_demand->ToString());
}

}  // namespace

absl::StatusOr<Decision> RulesEngine::Decide(const DecisionInput& in) const {
  if (IsEmergency(in)) {
    const auto by_risk = [this](const PoolMarket& p) { return Risk(p, risk_); };
    Decision d = internal::React(*this, in, risk_, by_risk);
    ApplyGuards(in, d, risk_);
    return d;
  }
  Decision d = internal::Start(*this, in, risk_);
  if (in.placement.mode == Mode::kSpot) {
    const PoolMarket* here = CurrentPool(in);
    const std::optional<Guard> unusable =
        here == nullptr ? std::optional<Guard>(Guard::kUnknownPrice) : QuoteGuard(here->spot, in);
    if (unusable) {
      d.reason = Reason::kNoPrice;
      d.message =
          fmt::format("The agent's own spot price is not usable ({}).", ToString(*unusable));
      return d;
    }
    OnSpot(in, risk_, *here, d);
  } else if (!in.on_demand) {
    d.reason = Reason::kNoPrice;
    d.message = "The on-demand price is unknown.";
    return d;
  } else {
    OnDemand(in, risk_, d);
  }
  ApplyGuards(in, d, risk_);
  return d;
}

}  // namespace spotopt::decision
