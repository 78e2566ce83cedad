// Standby replicas and their lifecycle (agent protocol, section 7).
#ifndef SPOTOPT_DOMAIN_REPLICA_H_
#define SPOTOPT_DOMAIN_REPLICA_H_

#include <array>
#include <optional>
#include <string>

#include "spotopt/types.h"

namespace spotopt {

enum class ReplicaState {
  kRequested,
  kLaunching,
  kSyncing,
  kReady,
  kPromoting,
  kPromoted,
  kFailed,
  kTerminating,
  kTerminated,
};
inline constexpr int kReplicaStateCount = 9;
SPOTOPT_EXPORT std::string_view ToString(ReplicaState s);
// Live = not PROMOTED, FAILED or TERMINATED. At most one live replica per agent.
inline bool IsLive(ReplicaState s) {
  return s != ReplicaState::kPromoted && s != ReplicaState::kFailed &&
         s != ReplicaState::kTerminated;
}

enum class ReplicaEvent {
  kLaunch,             // REQUESTED -> LAUNCHING (launch lease or command binding)
  kInstanceReported,   // LAUNCHING -> SYNCING (needs an instance id)
  kReady,              // SYNCING -> READY
  kBeginPromotion,     // READY -> PROMOTING; SYNCING -> PROMOTING only with force
  kCompletePromotion,  // PROMOTING -> PROMOTED
  kFail,               // any live state except TERMINATING -> FAILED
  kRetire,             // REQUESTED..READY -> TERMINATING
  kConfirmTerminated,  // an instance that existed is gone -> TERMINATED
};
SPOTOPT_EXPORT std::string_view ToString(ReplicaEvent e);

struct ReplicaGuard {
  bool has_instance_id = false;
  bool force = false;  // forced promotion inside an open termination deadline
};
// The guard table: the next state, or FailedPrecondition for an illegal transition.
SPOTOPT_EXPORT absl::StatusOr<ReplicaState> NextState(ReplicaState from, ReplicaEvent event,
                                                      ReplicaGuard guard);

// How the instance gets launched: by the agent's replica poll, or inside a
// create_replica command.
enum class LaunchPath { kListing, kCommand };
SPOTOPT_EXPORT std::string_view ToString(LaunchPath p);

struct Replica {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  ReplicaState state = ReplicaState::kRequested;
  std::string instance_id;  // empty until the agent reports a real one
  Pool pool;
  std::string replica_type;  // manual, standby, automatic-rebalance, automatic-termination
  LaunchPath launch_path = LaunchPath::kListing;
  std::string command_id;    // kCommand: the create_replica command
  std::string incident_id;   // emergency replicas
  std::string lease_holder;  // registration holding the launch lease
  std::optional<Time> lease_expires_at;
  bool forced_promotion = false;
  std::string error;
  Time created_at;
  Time updated_at;
  // When each state was entered (REQUESTED = created_at).
  std::array<std::optional<Time>, kReplicaStateCount> entered_at{};
};

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_REPLICA_H_
