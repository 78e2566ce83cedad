// Commands for agents and their state machine (agent protocol, section 6).
#ifndef SPOTOPT_DOMAIN_COMMAND_H_
#define SPOTOPT_DOMAIN_COMMAND_H_

#include <optional>
#include <string>

#include "spotopt/types.h"

namespace spotopt {

enum class CommandType { kSwitch, kCreateReplica };
SPOTOPT_EXPORT std::string_view ToString(CommandType t);  // switch | create_replica

// The five priority classes; no other value is valid.
enum class Priority : int {
  kScheduled = 10,
  kNormal = 25,
  kUrgent = 50,
  kManual = 75,
  kEmergency = 100,
};
SPOTOPT_EXPORT absl::StatusOr<Priority> PriorityFromInt(int64_t value);
// Default time a command may wait PENDING before it expires, per class.
SPOTOPT_EXPORT Duration DefaultTtl(Priority p);

enum class CommandState { kPending, kLeased, kSucceeded, kFailed, kExpired, kCancelled };
SPOTOPT_EXPORT std::string_view ToString(CommandState s);
inline bool IsClosed(CommandState s) {
  return s != CommandState::kPending && s != CommandState::kLeased;
}

// Forward-only transitions:
//   PENDING -deliver-> LEASED -succeed-> SUCCEEDED | -fail-> FAILED
//   PENDING|LEASED -expire-> EXPIRED, PENDING|LEASED -cancel-> CANCELLED
enum class CommandEvent { kDeliver, kSucceed, kFail, kExpire, kCancel };
SPOTOPT_EXPORT std::string_view ToString(CommandEvent e);
// The guard table: the next state, or FailedPrecondition for an illegal transition.
SPOTOPT_EXPORT absl::StatusOr<CommandState> NextState(CommandState from, CommandEvent event);

struct Command {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  int64_t seq = 0;  // per-store sequence, assigned on insert; breaks ordering ties
  CommandType type = CommandType::kSwitch;
  Priority priority = Priority::kNormal;
  CommandState state = CommandState::kPending;
  Mode target_mode = Mode::kSpot;
  std::optional<std::string> target_pool_id;  // spot targets only
  int64_t terminate_wait_seconds = 0;         // as sent on the wire (section 6.1 mapping)
  std::string reason;
  std::string requested_by;
  bool override_limits = false;  // recorded when a manual switch skips the config limits
  // The primary instance the command was issued for; only that instance receives it.
  std::string issued_for_instance;
  // (type, target): an identical PENDING command is returned instead of a new one.
  std::string dedup_key;
  std::optional<std::string> replica_id;  // create_replica: the reserved replica
  Time created_at;
  Time expires_at;  // TTL while PENDING
  // Lease: set on delivery.
  std::string lease_holder;  // registration id
  std::optional<Time> leased_at;
  std::optional<Time> lease_expires_at;
  std::optional<Time> closed_at;
  std::string result_message;

  bool is_placement() const { return type == CommandType::kSwitch; }
};

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_COMMAND_H_
