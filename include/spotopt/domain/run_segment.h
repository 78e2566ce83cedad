// The facts the savings ledger is computed from: which instance ran for an agent, in
// which role and market, from when to when. The service opens and closes segments
// where placements change (registration, switch, promotion, replica launch and end);
// prices are joined in later by the ledger (spotopt/ledger/ledger.h).
#ifndef SPOTOPT_DOMAIN_RUN_SEGMENT_H_
#define SPOTOPT_DOMAIN_RUN_SEGMENT_H_

#include <optional>
#include <string>
#include <string_view>

#include "spotopt/types.h"

namespace spotopt {

// What an instance was for the agent while it ran: the primary, a standby replica, or
// an old primary draining after a switch until its terminate wait ends (the last two
// are costs the agent's savings pay for).
enum class RunRole { kPrimary, kReplica, kDrain };
SPOTOPT_EXPORT std::string_view ToString(RunRole r);  // primary | replica | drain

struct RunSegment {
  std::string id;
  std::string tenant_id;
  std::string agent_id;
  std::string instance_id;
  RunRole role = RunRole::kPrimary;
  Placement placement;  // market of the instance: mode, region, AZ, type
  Time started_at;
  std::optional<Time> ended_at;  // absent while the instance still runs in this role
  friend bool operator==(const RunSegment&, const RunSegment&) = default;
};

}  // namespace spotopt

#endif  // SPOTOPT_DOMAIN_RUN_SEGMENT_H_
