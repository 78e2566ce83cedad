#include "spotopt/decision/guards.h"

#include <algorithm>

#include <fmt/format.h>

#include "spotopt/decision/thresholds.h"

namespace spotopt::decision {
namespace {

Duration Cooldown(const AgentConfig& c) { return absl::Hours(1) * c.min_pool_duration_hours; }

// What a guard means for this agent, for the decision's message.
std::string Explain(Guard g, const DecisionInput& in) {
  const AgentConfig& c = in.config;
  switch (g) {
    case Guard::kCooldown:
      return fmt::format("{:.1f} h in this placement, min_pool_duration_hours is {}",
                         absl::ToDoubleHours(in.now - in.placement_since),
                         c.min_pool_duration_hours);
    case Guard::kDayCap:
      return fmt::format("{} switches in 24 h, max_switches_per_day is {}",
                         SwitchesWithin(in, absl::Hours(24)), c.max_switches_per_day);
    case Guard::kWeekCap:
      return fmt::format("{} switches in 7 days, max_switches_per_week is {}",
                         SwitchesWithin(in, absl::Hours(24 * 7)), c.max_switches_per_week);
    case Guard::kMinSavings:
      return fmt::format("saves less than min_savings_percent ({})", c.min_savings_percent);
    case Guard::kRiskCeiling:
      return fmt::format("risk above risk_threshold ({})", c.risk_threshold);
    case Guard::kHysteresis:
      return fmt::format("spot is not below ondemand_return_ratio ({}) x on-demand",
                         c.ondemand_return_ratio);
    default:
      return std::string(ToString(g));
  }
}

void Hold(Decision& d, Guard g, const DecisionInput& in) {
  d.held_action = d.action;
  d.held_target = d.target;
  d.action = Action::kStay;
  d.target.reset();
  d.guard = g;
  d.expected_savings_micros = 0;
  if (const PoolMarket* here = CurrentPool(in)) d.risk = Risk(*here);
  if (in.placement.mode == Mode::kOnDemand) d.risk = 0;
  d.message = fmt::format("{} Held back: {}.", d.message, Explain(g, in));
}

std::optional<Guard> ReplicaGuard(const DecisionInput& in, const Decision& d) {
  if (!in.config.enabled) return Guard::kAgentDisabled;
  if (in.config.replica_mode == ReplicaMode::kOff) return Guard::kReplicaModeOff;
  if (in.replica) return Guard::kReplicaLive;
  const PoolMarket* target = FindPool(in, *d.target);
  return target == nullptr ? std::optional<Guard>(Guard::kUnknownPrice)
                           : QuoteGuard(target->spot, in);
}

std::optional<Guard> PromotionGuard(const DecisionInput& in) {
  if (!in.config.enabled) return Guard::kAgentDisabled;
  const bool promotable =
      in.replica && in.replica->has_instance &&
      (in.replica->state == ReplicaState::kReady ||
       (in.trigger == Trigger::kTermination && in.replica->state == ReplicaState::kSyncing));
  return promotable ? std::nullopt : std::optional<Guard>(Guard::kNoReplicaToPromote);
}

}  // namespace

int64_t SwitchesWithin(const DecisionInput& in, Duration window) {
  return std::count_if(in.switches.begin(), in.switches.end(),
                       [&](Time t) { return t > in.now - window; });
}

std::optional<Guard> QuoteGuard(const std::optional<PriceQuote>& quote, const DecisionInput& in) {
  if (!quote) return Guard::kUnknownPrice;
  if (quote->source == sef::PointSource::kInterpolated) return Guard::kInterpolatedPrice;
  const Duration age = in.now - quote->observed_at;
  if (age > in.max_price_age) return Guard::kStalePrice;
  if (age > in.gap) return Guard::kPriceGap;
  return std::nullopt;
}

std::optional<Guard> MoveGuard(const DecisionInput& in, bool emergency) {
  const AgentConfig& c = in.config;
  if (!c.enabled) return Guard::kAgentDisabled;
  if (!c.auto_switch) return Guard::kAutoSwitchOff;
  // An emergency supersedes a queued switch (the queue cancels the lower priority)
  // but not one the agent is executing.
  if (emergency ? in.switch_in_flight : in.switch_pending) return Guard::kSwitchPending;
  if (SwitchesWithin(in, absl::Hours(24)) >= c.max_switches_per_day) return Guard::kDayCap;
  if (SwitchesWithin(in, absl::Hours(24 * 7)) >= c.max_switches_per_week) return Guard::kWeekCap;
  if (!emergency && in.now - in.placement_since < Cooldown(c)) return Guard::kCooldown;
  return std::nullopt;
}

std::optional<Guard> TargetGuard(const DecisionInput& in, const PoolMarket& target,
                                 const RiskModel& risk) {
  if (std::optional<Guard> g = QuoteGuard(target.spot, in)) return g;
  const AgentConfig& c = in.config;
  if (Risk(target, risk) > c.risk_threshold) return Guard::kRiskCeiling;
  const Fraction min_savings = Fraction::FromPercent(c.min_savings_percent);
  const Money to = target.spot->price;
  if (in.placement.mode == Mode::kSpot) {
    const PoolMarket* here = CurrentPool(in);
    if (here == nullptr) return Guard::kUnknownPrice;
    if (std::optional<Guard> g = QuoteGuard(here->spot, in)) return g;
    if (SavesAtLeast(here->spot->price, to, min_savings)) return std::nullopt;
    // Leaving a pool that is itself above the ceiling needs no saving.
    if (Risk(*here, risk) > c.risk_threshold) return std::nullopt;
    return Guard::kMinSavings;
  }
  if (!in.on_demand) return Guard::kUnknownPrice;
  if (!Below(to, Fraction::FromRatio(c.ondemand_return_ratio), *in.on_demand)) {
    return Guard::kHysteresis;
  }
  if (!SavesAtLeast(*in.on_demand, to, min_savings)) return Guard::kMinSavings;
  return std::nullopt;
}

void ApplyGuards(const DecisionInput& in, Decision& d, const RiskModel& risk) {
  const bool emergency = IsEmergency(in);
  std::optional<Guard> g;
  switch (d.action) {
    case Action::kStay:
      return;
    case Action::kSwitchSpot:
      g = MoveGuard(in, emergency);
      if (!g) {
        const PoolMarket* target = d.target ? FindPool(in, *d.target) : nullptr;
        if (target == nullptr) {
          g = Guard::kUnknownPrice;
        } else {
          g = emergency ? QuoteGuard(target->spot, in) : TargetGuard(in, *target, risk);
        }
      }
      break;
    case Action::kSwitchOnDemand:
      g = MoveGuard(in, emergency);
      break;
    case Action::kCreateReplica:
      g = d.target ? ReplicaGuard(in, d) : std::optional<Guard>(Guard::kUnknownPrice);
      break;
    case Action::kPromoteReplica:
      g = PromotionGuard(in);
      break;
  }
  if (g) Hold(d, *g, in);
}

}  // namespace spotopt::decision
