#include "spotopt/domain/command.h"

#include <fmt/format.h>

namespace spotopt {

std::string_view ToString(CommandType t) {
  return t == CommandType::kSwitch ? "switch" : "create_replica";
}

absl::StatusOr<Priority> PriorityFromInt(int64_t value) {
  switch (value) {
    case 10:
      return Priority::kScheduled;
    case 25:
      return Priority::kNormal;
    case 50:
      return Priority::kUrgent;
    case 75:
      return Priority::kManual;
    case 100:
      return Priority::kEmergency;
    default:
      return absl::InvalidArgumentError(
          fmt::format("{}{}{}", "priority: ", value, " is not one of 10, 25, 50, 75, 100"));
  }
}

Duration DefaultTtl(Priority p) {
  switch (p) {
    case Priority::kEmergency:
      return absl::Minutes(5);
    case Priority::kManual:
      return absl::Minutes(60);
    case Priority::kUrgent:
      return absl::Minutes(10);
    case Priority::kNormal:
      return absl::Minutes(30);
    case Priority::kScheduled:
      return absl::Hours(24);
  }
  return absl::Minutes(30);
}

std::string_view ToString(CommandState s) {
  switch (s) {
    case CommandState::kPending:
      return "pending";
    case CommandState::kLeased:
      return "leased";
    case CommandState::kSucceeded:
      return "succeeded";
    case CommandState::kFailed:
      return "failed";
    case CommandState::kExpired:
      return "expired";
    case CommandState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string_view ToString(CommandEvent e) {
  switch (e) {
    case CommandEvent::kDeliver:
      return "deliver";
    case CommandEvent::kSucceed:
      return "succeed";
    case CommandEvent::kFail:
      return "fail";
    case CommandEvent::kExpire:
      return "expire";
    case CommandEvent::kCancel:
      return "cancel";
  }
  return "unknown";
}

absl::StatusOr<CommandState> NextState(CommandState from, CommandEvent event) {
  using S = CommandState;
  using E = CommandEvent;
  if (from == S::kPending) {
    switch (event) {
      case E::kDeliver:
        return S::kLeased;
      case E::kExpire:
        return S::kExpired;
      case E::kCancel:
        return S::kCancelled;
      default:
        break;
    }
  } else if (from == S::kLeased) {
    switch (event) {
      case E::kSucceed:
        return S::kSucceeded;
      case E::kFail:
        return S::kFailed;
      case E::kExpire:
        return S::kExpired;
      case E::kCancel:
        return S::kCancelled;
      default:
        break;
    }
  }
  return absl::FailedPreconditionError(
      fmt::format("{}{}{}{}", "command cannot ", ToString(event), " while ", ToString(from)));
}

}  // namespace spotopt
