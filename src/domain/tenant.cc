#include "spotopt/domain/tenant.h"

#include <fmt/format.h>

namespace spotopt {

std::string_view ToString(TenantState s) {
  switch (s) {
    case TenantState::kActive:
      return "active";
    case TenantState::kSuspended:
      return "suspended";
    case TenantState::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string_view ToString(TenantEvent e) {
  switch (e) {
    case TenantEvent::kSuspend:
      return "suspend";
    case TenantEvent::kReactivate:
      return "reactivate";
    case TenantEvent::kDelete:
      return "delete";
  }
  return "unknown";
}

absl::StatusOr<TenantState> NextState(TenantState from, TenantEvent event) {
  if (from == TenantState::kActive && event == TenantEvent::kSuspend) {
    return TenantState::kSuspended;
  }
  if (from == TenantState::kSuspended && event == TenantEvent::kReactivate) {
    return TenantState::kActive;
  }
  if (from != TenantState::kDeleted && event == TenantEvent::kDelete) {
    return TenantState::kDeleted;
  }
  return absl::FailedPreconditionError(
      fmt::format("{}{}{}{}", "tenant cannot ", ToString(event), " while ", ToString(from)));
}

}  // namespace spotopt
