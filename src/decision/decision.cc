#include "spotopt/decision/decision.h"

#include <cmath>

#include <fmt/format.h>

#include "common/enum_text.h"

namespace spotopt::decision {
namespace {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("decision.{}: {}", field, why));
}

bool InUnitRange(double v) { return std::isfinite(v) && v >= 0 && v <= 1; }

absl::Status CheckTarget(const DecisionInput& in, const Decision& d) {
  if (!d.target) return Invalid("target", fmt::format("{} needs a target", ToString(d.action)));
  if (FindPool(in, *d.target) == nullptr) {
    return Invalid("target", fmt::format("{} is not a candidate pool", d.target->id()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view ToString(Action a) {
  switch (a) {
    case Action::kStay:
      return "stay";
    case Action::kSwitchSpot:
      return "switch_spot";
    case Action::kSwitchOnDemand:
      return "switch_ondemand";
    case Action::kCreateReplica:
      return "create_replica";
    case Action::kPromoteReplica:
      return "promote_replica";
  }
  return "unknown";
}

std::string_view ToString(Reason r) {
  switch (r) {
    case Reason::kNoBetterPlacement:
      return "no_better_placement";
    case Reason::kNoPrice:
      return "no_price";
    case Reason::kSpotNearOnDemand:
      return "spot_near_ondemand";
    case Reason::kBackToSpot:
      return "back_to_spot";
    case Reason::kCheaperPool:
      return "cheaper_pool";
    case Reason::kLowerExpectedCost:
      return "lower_expected_cost";
    case Reason::kRiskAboveCeiling:
      return "risk_above_ceiling";
    case Reason::kRebalanceSignal:
      return "rebalance_signal";
    case Reason::kTerminationNotice:
      return "termination_notice";
  }
  return "unknown";
}

std::string_view ToString(Guard g) {
  switch (g) {
    case Guard::kNone:
      return "none";
    case Guard::kAgentDisabled:
      return "agent_disabled";
    case Guard::kAutoSwitchOff:
      return "auto_switch_off";
    case Guard::kReplicaModeOff:
      return "replica_mode_off";
    case Guard::kSwitchPending:
      return "switch_pending";
    case Guard::kReplicaLive:
      return "replica_live";
    case Guard::kCooldown:
      return "cooldown";
    case Guard::kDayCap:
      return "day_cap";
    case Guard::kWeekCap:
      return "week_cap";
    case Guard::kUnknownPrice:
      return "unknown_price";
    case Guard::kStalePrice:
      return "stale_price";
    case Guard::kPriceGap:
      return "price_gap";
    case Guard::kInterpolatedPrice:
      return "interpolated_price";
    case Guard::kMinSavings:
      return "min_savings";
    case Guard::kRiskCeiling:
      return "risk_ceiling";
    case Guard::kHysteresis:
      return "hysteresis";
    case Guard::kNoReplicaToPromote:
      return "no_replica_to_promote";
  }
  return "unknown";
}

absl::Status Validate(const DecisionInput& in, const Decision& d) {
  if (!IsValidEnum(d.action)) return Invalid("action", "unknown action");
  if (!IsValidEnum(d.reason)) return Invalid("reason", "unknown reason");
  if (!IsValidEnum(d.guard)) return Invalid("guard", "unknown guard");
  if (d.held_action && !IsValidEnum(*d.held_action)) return Invalid("held_action", "unknown");
  if (!InUnitRange(d.risk)) return Invalid("risk", "must be a number from 0 to 1");
  if (!InUnitRange(d.confidence)) return Invalid("confidence", "must be a number from 0 to 1");
  if (d.expected_savings_micros > Money::kPriceCeilingMicros ||
      d.expected_savings_micros < -Money::kPriceCeilingMicros) {
    return Invalid("expected_savings_micros", "beyond the price ceiling");
  }
  if (d.engine.empty() || d.engine_version.empty()) {
    return Invalid("engine", "must name the engine and its version");
  }
  if (d.guard != Guard::kNone && (d.action != Action::kStay || !d.held_action)) {
    return Invalid("guard", "a held decision stays and says what it held");
  }
  const std::optional<Pool> here = in.placement.pool();
  switch (d.action) {
    case Action::kStay:
      if (d.target) return Invalid("target", "a stay has no target");
      return absl::OkStatus();
    case Action::kSwitchSpot:
      if (absl::Status s = CheckTarget(in, d); !s.ok()) return s;
      if (here && *here == *d.target) return Invalid("target", "the agent already runs there");
      return absl::OkStatus();
    case Action::kSwitchOnDemand:
      if (d.target) return Invalid("target", "on-demand has no pool");
      if (in.placement.mode == Mode::kOnDemand) {
        return Invalid("action", "the agent already runs on demand");
      }
      return absl::OkStatus();
    case Action::kCreateReplica:
      if (absl::Status s = CheckTarget(in, d); !s.ok()) return s;
      if (d.target->instance_type != in.placement.instance_type) {
        return Invalid("target", "a replica keeps the primary's instance type");
      }
      if (d.target->az == in.placement.az) {
        return Invalid("target", "a replica runs in another AZ than the primary");
      }
      return absl::OkStatus();
    case Action::kPromoteReplica:
      if (!in.replica || !in.replica->has_instance) {
        return Invalid("action", "no live replica with an instance to promote");
      }
      if (d.target && *d.target != in.replica->pool) {
        return Invalid("target", "a promotion's target is the replica's pool");
      }
      return absl::OkStatus();
  }
  return Invalid("action", "unknown action");
}

std::string DecisionKey(const Decision& d) {
  return fmt::format("{}|{}|{}|{}|{}|{}|{}@{}", ToString(d.action), d.target ? d.target->id() : "",
                     ToString(d.reason), ToString(d.guard),
                     d.held_action ? ToString(*d.held_action) : "",
                     d.held_target ? d.held_target->id() : "", d.engine, d.engine_version);
}

}  // namespace spotopt::decision
