// What a decision engine answers, and the interface every engine implements.
//
//   DecisionInput --Engine::Decide--> Decision --ApplyGuards--> Decision --Validate
//
// Engines are pure: the same input always gives the same decision, and Decide may be
// called from many threads at once. The guards (spotopt/decision/guards.h) run after
// every engine, built-in or a host's, so no engine can skip a cooldown, a cap or a
// stale price; Validate refuses output that names an unknown pool, a NaN or a value
// out of range, and the service then falls back to another engine.
#ifndef SPOTOPT_DECISION_DECISION_H_
#define SPOTOPT_DECISION_DECISION_H_

#include <optional>
#include <span>
#include <string>

#include "spotopt/decision/input.h"

namespace spotopt::decision {

enum class Action {
  kStay,
  kSwitchSpot,      // move to `target`, a spot pool
  kSwitchOnDemand,  // move to on-demand, same instance type
  kCreateReplica,   // start a standby in `target`
  kPromoteReplica,  // make the live replica the primary
};
SPOTOPT_EXPORT std::string_view ToString(Action a);
// stay | switch_spot | switch_ondemand | create_replica | promote_replica

enum class Reason {
  kNoBetterPlacement,  // nothing beats where the agent runs by enough
  kNoPrice,            // the agent's own price is unknown, stale or in a gap
  kSpotNearOnDemand,   // spot >= ondemand_fallback_ratio x on-demand
  kBackToSpot,         // on demand, and a spot pool is below the return ratio
  kCheaperPool,        // another pool saves at least min_savings_percent
  kLowerExpectedCost,  // scoring: cheaper once interruptions and moves are priced in
  kRiskAboveCeiling,   // the agent's pool is riskier than risk_threshold
  kRebalanceSignal,    // reaction to a rebalance recommendation
  kTerminationNotice,  // reaction to a termination notice
};
SPOTOPT_EXPORT std::string_view ToString(Reason r);

// What held an action back (Decision::guard). kNone: nothing did.
enum class Guard {
  kNone,
  kAgentDisabled,
  kAutoSwitchOff,
  kReplicaModeOff,
  kSwitchPending,       // a switch is already queued or in flight
  kReplicaLive,         // the agent already has a live replica
  kCooldown,            // min_pool_duration_hours not reached
  kDayCap,              // max_switches_per_day reached
  kWeekCap,             // max_switches_per_week reached
  kUnknownPrice,        // the target (or the agent's own pool) has no price
  kStalePrice,          // older than max_price_age
  kPriceGap,            // older than the series' gap threshold
  kInterpolatedPrice,   // only an interpolated price
  kMinSavings,          // saves less than min_savings_percent
  kRiskCeiling,         // the target's risk is above risk_threshold
  kHysteresis,          // on demand, and spot is not below the return ratio
  kNoReplicaToPromote,  // no READY replica with an instance
};
SPOTOPT_EXPORT std::string_view ToString(Guard g);

struct Decision {
  Action action = Action::kStay;
  // kSwitchSpot and kCreateReplica: the pool; kPromoteReplica: the replica's pool.
  std::optional<Pool> target;
  Reason reason = Reason::kNoBetterPlacement;
  std::string message;  // one sentence for operators
  // Interruption risk (0..1) of where the agent runs once the action is taken.
  double risk = 0;
  // Expected saving per hour against staying, in micro-dollars; negative when the
  // action costs more (a move to on-demand buys safety).
  int64_t expected_savings_micros = 0;
  double confidence = 1;  // 0..1: how complete and fresh the data behind it was
  // Urgent moves are queued at priority 50 instead of 25 (spot above on-demand).
  bool urgent = false;
  std::string engine;  // name and version of the engine that decided
  std::string engine_version;
  // A guard that held the action back: the decision is then kStay, and `held`
  // says what the engine wanted.
  Guard guard = Guard::kNone;
  std::optional<Action> held_action;
  std::optional<Pool> held_target;

  friend bool operator==(const Decision&, const Decision&) = default;
};

// A decision engine. Implementations must be deterministic and thread-safe.
class SPOTOPT_EXPORT Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view version() const = 0;
  // Whether the engine reads PoolMarket::history; the service loads it only then.
  virtual bool needs_history() const { return false; }
  // A decision, or an error (the service falls back to another engine).
  virtual absl::StatusOr<Decision> Decide(const DecisionInput& input) const = 0;
  // Inputs about to be decided, all at once: an engine whose work has a cost per call
  // (a model) may do it here for all of them. Decide answers the same without it.
  virtual void Prepare(std::span<const DecisionInput> inputs) const { (void)inputs; }
};

// InvalidArgument unless `d` is a decision the agent could act on from `in`: known
// enum values; finite risk and confidence in [0, 1]; a saving within the price
// ceiling; a switch or replica target that is one of the candidates and not where
// the agent runs (a replica: same type, another AZ); no move to on-demand when
// already there; a promotion only of a live replica.
SPOTOPT_EXPORT absl::Status Validate(const DecisionInput& in, const Decision& d);

// What makes two decisions the same for the decision log: action, target, reason,
// guard, what it held back and the engine. Figures (risk, savings) may differ.
SPOTOPT_EXPORT std::string DecisionKey(const Decision& d);

}  // namespace spotopt::decision

#endif  // SPOTOPT_DECISION_DECISION_H_
