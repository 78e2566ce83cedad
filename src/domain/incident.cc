#include "spotopt/domain/incident.h"

#include <fmt/format.h>

namespace spotopt {

std::string_view ToString(Signal s) {
  return s == Signal::kTerminationNotice ? "termination-notice" : "rebalance-recommendation";
}

absl::StatusOr<Signal> ParseSignal(std::string_view text) {
  if (text == "termination-notice" || text == "termination_notice") {
    return Signal::kTerminationNotice;
  }
  if (text == "rebalance-recommendation" || text == "rebalance_recommendation") {
    return Signal::kRebalanceRecommendation;
  }
  return absl::InvalidArgumentError(
      fmt::format("{}{}{}", "signal_type: unknown signal '", text.substr(0, 64), "'"));
}

std::string_view ToString(EventKind k) {
  switch (k) {
    case EventKind::kIdentityConflict:
      return "identity_conflict";
    case EventKind::kRehome:
      return "rehome";
    case EventKind::kOrphanInstance:
      return "orphan_instance";
    case EventKind::kLateAck:
      return "late_ack";
    case EventKind::kPlacementMoved:
      return "placement_moved";
    case EventKind::kCommandClosed:
      return "command_closed";
    case EventKind::kReplicaChanged:
      return "replica_changed";
  }
  return "unknown";
}

}  // namespace spotopt
