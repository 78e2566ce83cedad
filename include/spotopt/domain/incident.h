// Interruption incidents, and the agent event log (identity conflicts, re-homes,
// orphaned instances, late acks) that operators read.
#ifndef SPOTOPT_DOMAIN_INCIDENT_H_
#define SPOTOPT_DOMAIN_INCIDENT_H_

#include <optional>
#include <string>

#include "spotopt/types.h"

namespace spotopt {

enum class Signal { kTerminationNotice, kRebalanceRecommendation };
SPOTOPT_EXPORT std::string_view ToString(
    Signal s);  // termination-notice | rebalance-recommendation
// Accepts the hyphen and underscore spellings.
SPOTOPT_EXPORT absl::StatusOr<Signal> ParseSignal(std::string_view text);

// A termination notice gives two minutes.
inline constexpr Duration kTerminationNoticeLead = absl::Seconds(120);

// One interruption episode, keyed by (agent, instance, signal, notice time).
struct Incident {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  std::string instance_id;
  // The pool the instance ran in when it was signalled (az or type empty: unknown):
  // the decision layer counts signals per pool.
  Pool pool;
  Signal signal = Signal::kTerminationNotice;
  // Termination: the termination time. Rebalance: the first time it was seen (an open
  // rebalance incident absorbs every repeat).
  Time notice_time;
  std::optional<Time> deadline;  // termination notices only
  Time first_seen;
  Time last_seen;
  int64_t repeat_count = 0;
  std::optional<Time> closed_at;
  // Measured phases.
  std::optional<Time> detected_at;  // as the agent reported
  std::optional<Time> decided_at;
  std::optional<Time> promoted_at;
  std::optional<Time> healthy_at;
  std::string decision;  // what the server answered, repeated for every repeat
  std::string replica_id;
  std::string command_id;
};

enum class EventKind {
  kIdentityConflict,
  kRehome,
  kOrphanInstance,
  kLateAck,
  kPlacementMoved,
  kCommandClosed,
  kReplicaChanged,
};
SPOTOPT_EXPORT std::string_view ToString(EventKind k);

// Append-only log of things an operator should see.
struct AgentEvent {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  EventKind kind = EventKind::kIdentityConflict;
  std::string instance_id;
  std::string detail;
  Time at;
};

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_INCIDENT_H_
