#include "spotopt/domain/replica.h"

#include <fmt/format.h>

namespace spotopt {

std::string_view ToString(ReplicaState s) {
  switch (s) {
    case ReplicaState::kRequested:
      return "requested";
    case ReplicaState::kLaunching:
      return "launching";
    case ReplicaState::kSyncing:
      return "syncing";
    case ReplicaState::kReady:
      return "ready";
    case ReplicaState::kPromoting:
      return "promoting";
    case ReplicaState::kPromoted:
      return "promoted";
    case ReplicaState::kFailed:
      return "failed";
    case ReplicaState::kTerminating:
      return "terminating";
    case ReplicaState::kTerminated:
      return "terminated";
  }
  return "unknown";
}

std::string_view ToString(ReplicaEvent e) {
  switch (e) {
    case ReplicaEvent::kLaunch:
      return "launch";
    case ReplicaEvent::kInstanceReported:
      return "report instance";
    case ReplicaEvent::kReady:
      return "become ready";
    case ReplicaEvent::kBeginPromotion:
      return "begin promotion";
    case ReplicaEvent::kCompletePromotion:
      return "complete promotion";
    case ReplicaEvent::kFail:
      return "fail";
    case ReplicaEvent::kRetire:
      return "retire";
    case ReplicaEvent::kConfirmTerminated:
      return "confirm terminated";
  }
  return "unknown";
}

std::string_view ToString(LaunchPath p) {
  return p == LaunchPath::kListing ? "listing" : "command";
}

absl::StatusOr<ReplicaState> NextState(ReplicaState from, ReplicaEvent event, ReplicaGuard guard) {
  using S = ReplicaState;
  using E = ReplicaEvent;
  const auto refuse = [&](std::string_view why) {
    return absl::FailedPreconditionError(fmt::format(
        "{}{}{}{}{}", "replica cannot ", ToString(event), " while ", ToString(from), why));
  };
  switch (event) {
    case E::kLaunch:
      if (from == S::kRequested) return S::kLaunching;
      break;
    case E::kInstanceReported:
      if (from == S::kLaunching) {
        if (!guard.has_instance_id) return refuse(": no instance id");
        return S::kSyncing;
      }
      break;
    case E::kReady:
      if (from == S::kSyncing) return S::kReady;
      break;
    case E::kBeginPromotion:
      // A replica without a real instance can never become the primary.
      if (from == S::kReady || (from == S::kSyncing && guard.force)) {
        if (!guard.has_instance_id) return refuse(": no instance id");
        return S::kPromoting;
      }
      if (from == S::kSyncing) return refuse(" (only with force inside a termination deadline)");
      break;
    case E::kCompletePromotion:
      if (from == S::kPromoting) return S::kPromoted;
      break;
    case E::kFail:
      if (IsLive(from) && from != S::kTerminating) return S::kFailed;
      break;
    case E::kRetire:
      if (from == S::kRequested || from == S::kLaunching || from == S::kSyncing ||
          from == S::kReady) {
        return S::kTerminating;
      }
      break;
    case E::kConfirmTerminated:
      // Only an instance that existed can be confirmed gone.
      if (from == S::kLaunching || from == S::kSyncing || from == S::kReady ||
          from == S::kTerminating) {
        return S::kTerminated;
      }
      break;
  }
  return refuse("");
}

}  // namespace spotopt
