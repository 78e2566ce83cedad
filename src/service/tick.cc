// Periodic work: Controller::Tick.
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include <algorithm>

#include "service/use_case.h"

namespace spotopt {

// ---- Periodic work -------------------------------------------------------------

absl::StatusOr<TickReport> Controller::Tick(Time now) {
  SPOTOPT_RETURN_IF_ERROR(ValidateTime(now, "now"));
  // One transaction: concurrent ticks serialize, and each sees what the previous
  // one did, so running it twice equals running it once.
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<TickReport> {
    TickReport report;

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> due, tx.ListDueCommands(now));
    for (Command& c : due) {
      const bool leased = c.state == CommandState::kLeased;
      SPOTOPT_RETURN_IF_ERROR(TransitionCommand(
          c, CommandEvent::kExpire, now,
          leased ? "lease expired; outcome unknown" : "not delivered before its TTL"));
      SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
      ++report.commands_expired;
      if (c.replica_id) {
        SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(*c.replica_id));
        if (r.state == ReplicaState::kRequested) {
          SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, "create_replica command expired", now));
          ++report.replicas_failed;
        }
      }
    }

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> live, tx.ListLiveReplicas());
    for (Replica& r : live) {
      const auto entered = [&](ReplicaState s) {
        return r.entered_at[static_cast<size_t>(s)].value_or(r.created_at);
      };
      std::string why;
      if (r.state == ReplicaState::kRequested &&
          now - entered(ReplicaState::kRequested) >= options_.replica_requested_timeout) {
        why = "requested replica not picked up";
      } else if (r.state == ReplicaState::kLaunching && r.instance_id.empty() &&
                 r.lease_expires_at && *r.lease_expires_at <= now) {
        why = "launch not confirmed";
      } else if (r.state == ReplicaState::kSyncing &&
                 now - entered(ReplicaState::kSyncing) >= options_.replica_sync_timeout) {
        why = "not ready before the sync timeout";
      }
      if (why.empty()) continue;
      SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, why, now));
      ++report.replicas_failed;
      if (!r.instance_id.empty()) {
        SPOTOPT_ASSIGN_OR_RETURN(Agent agent, tx.GetAgent(r.agent_id));
        SPOTOPT_RETURN_IF_ERROR(
            tx.InsertEvent(MakeEvent(agent, EventKind::kOrphanInstance, r.instance_id,
                                     fmt::format("replica {}: {}", r.id, why), now)));
      }
    }

    // manual_standby keeps one standby at all times, within a request budget.
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Agent> standby_agents,
                             tx.ListAgentsByReplicaMode(ReplicaMode::kManualStandby));
    for (const Agent& agent : standby_agents) {
      if (!agent.config.enabled || agent.placement.instance_type.empty() ||
          agent.placement.az.empty()) {
        continue;
      }
      SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
      const bool has_live = std::any_of(replicas.begin(), replicas.end(),
                                        [](const Replica& r) { return IsLive(r.state); });
      const auto recent = std::count_if(replicas.begin(), replicas.end(), [&](const Replica& r) {
        return r.created_at > now - absl::Hours(1) && r.created_at <= now;
      });
      if (has_live || recent >= options_.standby_requests_per_hour) continue;
      SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ResolveReplicaPool(agent, ""));
      SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(
          NewReplica(agent, std::move(pool), "standby", LaunchPath::kListing, now)));
      ++report.replicas_requested;
    }

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> open, tx.ListOpenIncidents());
    for (Incident& i : open) {
      if (i.signal != Signal::kRebalanceRecommendation ||
          now - i.last_seen < options_.rebalance_incident_close) {
        continue;
      }
      i.closed_at = now;
      SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
      ++report.incidents_closed;
    }
    return report;
  });
}

}  // namespace spotopt
