// What the built-in engines share beyond the guards: the eligible candidates of a
// scheduled move, the reactions to interruption signals, and the decision skeleton.
// Internal to src/decision.
#ifndef SPOTOPT_DECISION_CANDIDATES_H_
#define SPOTOPT_DECISION_CANDIDATES_H_

#include <functional>
#include <vector>

#include "spotopt/decision/decision.h"
#include "spotopt/decision/guards.h"
#include "spotopt/decision/risk.h"

namespace spotopt::decision::internal {

// Lower is better; ties break by risk, then price, then pool id.
using Rank = std::function<double(const PoolMarket&)>;

// A decision by `engine` with nothing decided yet: stay, no better placement.
Decision Start(const Engine& engine, const DecisionInput& in, const RiskModel& risk);

// The pools a scheduled move may go to, best first by `rank`: not where the agent
// runs, a usable price, and passing TargetGuard (risk ceiling, minimum saving, and
// the return hysteresis from on-demand).
std::vector<const PoolMarket*> Eligible(const DecisionInput& in, const RiskModel& risk,
                                        const Rank& rank);

// Confidence in a decision resting on these quotes: 1 for fresh measured prices,
// down to 0.5 as they age toward max_price_age, times 0.9 without an Advisor band.
double Confidence(const DecisionInput& in, std::initializer_list<const PoolMarket*> pools);

// The reaction to a rebalance recommendation or a termination notice (the rules'
// reaction; scoring ranks the targets by expected cost instead of risk):
// - termination: promote a promotable replica (READY, or SYNCING with an instance);
// - a live replica protects the agent, or is on its way -> stay (the post-deadline
//   recovery promotes it once READY);
// - replica_mode allows one: a replica in the best pool of the same type in another
//   AZ (it survives the primary, a switch run by the dying agent may not);
// - else a move to the best pool outside the signalled AZ, or on a termination to
//   on-demand when no pool has a usable price.
// Targets need a usable price; the guards are applied by the caller.
Decision React(const Engine& engine, const DecisionInput& in, const RiskModel& risk,
               const Rank& rank);

// What the agent pays per hour now (its pool's latest price, or on-demand), if known.
std::optional<Money> CurrentPrice(const DecisionInput& in);
// The hourly saving of paying `to` instead, in micro-dollars; 0 when unknown.
int64_t SavingsTo(const DecisionInput& in, std::optional<Money> to);

// Sets the decision's action and target, with the risk of where the agent then runs.
// The saving is against what the agent pays now.
void MoveTo(Decision& d, const DecisionInput& in, const PoolMarket& target, const RiskModel& risk);
void MoveToOnDemand(Decision& d, const DecisionInput& in);

}  // namespace spotopt::decision::internal

#endif  // SPOTOPT_DECISION_CANDIDATES_H_
