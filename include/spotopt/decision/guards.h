// The guards every decision passes, whichever engine made it: the config's limits
// (cooldown, day and week caps, minimum saving, risk ceiling, the return hysteresis)
// and the data rules (never move to a pool whose price is unknown, stale, in a gap or
// only interpolated). Engines use the same functions to pick among eligible
// candidates; ApplyGuards then re-checks the answer, so a host's engine cannot skip
// one either.
//
// Reactions to an interruption signal (trigger rebalance or termination) answer a
// risk, not a price: like the command queue's emergency class (protocol section 6.5)
// they need auto switch and the caps, but not the cooldown, saving or risk checks.
#ifndef SPOTOPT_DECISION_GUARDS_H_
#define SPOTOPT_DECISION_GUARDS_H_

#include <optional>

#include "spotopt/decision/decision.h"
#include "spotopt/decision/risk.h"

namespace spotopt::decision {

// The agent's successful switches within `window` before now (the caps count these).
SPOTOPT_EXPORT int64_t SwitchesWithin(const DecisionInput& in, Duration window);

// Why a spot price cannot be acted on (unknown, interpolated, in a gap, stale), or
// nullopt when it can.
SPOTOPT_EXPORT std::optional<Guard> QuoteGuard(const std::optional<PriceQuote>& quote,
                                               const DecisionInput& in);

// Why the agent may not move now (disabled, auto switch off, a switch already queued,
// the caps, and for non-emergency moves the cooldown), or nullopt.
SPOTOPT_EXPORT std::optional<Guard> MoveGuard(const DecisionInput& in, bool emergency);

// Whether a decision answers an interruption signal.
inline bool IsEmergency(const DecisionInput& in) { return in.trigger != Trigger::kSchedule; }

// Why moving the agent to spot pool `target` on the schedule breaks the config's
// price and risk limits, or nullopt. From spot: the target's risk is at most
// risk_threshold, and it saves min_savings_percent of the current price (or the
// current pool's own risk is above the ceiling). From on-demand: the target is below
// ondemand_return_ratio x on-demand and saves min_savings_percent of it.
SPOTOPT_EXPORT std::optional<Guard> TargetGuard(const DecisionInput& in, const PoolMarket& target,
                                                const RiskModel& risk = {});

// Holds `d` back when a guard forbids its action: it becomes kStay naming the guard,
// with held_action and held_target saying what the engine wanted.
SPOTOPT_EXPORT void ApplyGuards(const DecisionInput& in, Decision& d, const RiskModel& risk = {});

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_GUARDS_H_
