// Standby replicas (protocol section 7).
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include <algorithm>

#include "service/use_case.h"

namespace spotopt {

absl::StatusOr<ReplicaReport> ParseReplicaReport(std::string_view text) {
  if (text == "launching") return ReplicaReport::kLaunching;
  if (text == "syncing") return ReplicaReport::kSyncing;
  if (text == "ready") return ReplicaReport::kReady;
  if (text == "failed") return ReplicaReport::kFailed;
  if (text == "terminated") return ReplicaReport::kTerminated;
  return Invalid("status", "must be launching, syncing, ready, failed or terminated");
}

// ---- Replicas ------------------------------------------------------------------

absl::StatusOr<Replica> Controller::RequestReplica(std::string_view tenant_id,
                                                   std::string_view agent_id,
                                                   const ReplicaRequest& req) {
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(req.replica_type, "replica_type"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(req.requested_by, "requested_by"));
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Replica> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ResolveReplicaPool(agent, req.pool_id));
    SPOTOPT_RETURN_IF_ERROR(CheckCanHaveReplica(tx, agent));
    Replica r = NewReplica(agent, std::move(pool), req.replica_type, LaunchPath::kListing, now);
    SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(r));
    return r;
  });
}

absl::StatusOr<std::vector<Replica>> Controller::LeaseReplicaLaunches(
    std::string_view tenant_id, std::string_view registration_id) {
  const Time now = clock_->Now();
  const auto pick = [&](Transaction& tx) -> absl::StatusOr<std::vector<Replica>> {
    SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
    std::vector<Replica> work;
    if (c.registration.instance_id != c.agent.placement.instance_id || !c.agent.config.enabled) {
      return work;
    }
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(c.agent.id));
    for (Replica& r : replicas) {
      if (r.state == ReplicaState::kRequested && r.launch_path == LaunchPath::kListing &&
          r.instance_id.empty()) {
        work.push_back(std::move(r));
      }
    }
    return work;
  };
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> candidates,
                           InTransaction(*store_, TxMode::kRead, pick));
  if (candidates.empty()) return candidates;
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<std::vector<Replica>> {
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> work, pick(tx));
        for (Replica& r : work) {
          SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kLaunch, now));
          r.lease_holder = std::string(registration_id);
          r.lease_expires_at = now + options_.replica_launch_timeout;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));
        }
        return work;
      });
}

absl::StatusOr<Replica> Controller::ReportReplicaInstance(std::string_view tenant_id,
                                                          std::string_view registration_id,
                                                          std::string_view replica_id,
                                                          std::string_view instance_id,
                                                          ReplicaReport status) {
  SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(instance_id, "instance_id"));
  if (status != ReplicaReport::kSyncing && status != ReplicaReport::kLaunching) {
    return Invalid("status", "must be syncing or launching");
  }
  const Time now = clock_->Now();
  // A refused report still records the instance as an orphan: it exists whatever we
  // decide, and no agent command can terminate it.
  absl::Status refusal;
  absl::StatusOr<Replica> result =
      InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Replica> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
        SPOTOPT_ASSIGN_OR_RETURN(Replica r, LoadReplica(tx, c.agent, replica_id));
        if (r.instance_id == instance_id) return r;
        if (r.state == ReplicaState::kLaunching && r.lease_holder == c.registration.id &&
            r.instance_id.empty()) {
          r.instance_id = std::string(instance_id);
          r.lease_expires_at.reset();
          r.updated_at = now;
          if (status == ReplicaReport::kSyncing) {
            SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kInstanceReported, now));
          }
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));
          return r;
        }
        refusal =
            Refused(fmt::format("replica {} is {} and does not take instance {} from this "
                                "registration; recorded as an orphan",
                                r.id, ToString(r.state), instance_id));
        SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(MakeEvent(
            c.agent, EventKind::kOrphanInstance, instance_id,
            fmt::format("instance reported for replica {} ({})", r.id, ToString(r.state)), now)));
        return r;
      });
  if (!result.ok()) return result;
  if (!refusal.ok()) return refusal;
  return result;
}

absl::StatusOr<Replica> Controller::ReportReplicaStatus(
    std::string_view tenant_id, std::string_view registration_id, std::string_view replica_id,
    ReplicaReport status, std::optional<Time> at, std::string_view error) {
  if (at) SPOTOPT_RETURN_IF_ERROR(ValidateTime(*at, "at"));
  const Time now = clock_->Now();
  const Time when = at.value_or(now);
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Replica> {
    SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
    SPOTOPT_ASSIGN_OR_RETURN(Replica r, LoadReplica(tx, c.agent, replica_id));
    // The section 5.10 table: reposting the current state changes nothing.
    std::vector<ReplicaEvent> events;
    switch (status) {
      case ReplicaReport::kLaunching:
        if (r.state == ReplicaState::kLaunching) return r;
        return Refused(fmt::format("replica is {}", ToString(r.state)));
      case ReplicaReport::kSyncing:
        if (r.state == ReplicaState::kSyncing) return r;
        events = {ReplicaEvent::kInstanceReported};
        break;
      case ReplicaReport::kReady:
        if (r.state == ReplicaState::kReady) return r;
        if (r.state == ReplicaState::kLaunching) {
          events = {ReplicaEvent::kInstanceReported, ReplicaEvent::kReady};
        } else {
          events = {ReplicaEvent::kReady};
        }
        break;
      case ReplicaReport::kFailed:
        if (r.state == ReplicaState::kFailed) return r;
        events = {ReplicaEvent::kFail};
        break;
      case ReplicaReport::kTerminated:
        if (r.state == ReplicaState::kTerminated) return r;
        events = {ReplicaEvent::kConfirmTerminated};
        break;
    }
    for (ReplicaEvent e : events) SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, e, when));
    if (status == ReplicaReport::kFailed) r.error = SanitizeFreeText(error);
    r.updated_at = now;
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));
    return r;
  });
}

absl::StatusOr<Replica> Controller::PromoteReplica(std::string_view tenant_id,
                                                   std::string_view agent_id,
                                                   std::string_view replica_id, bool force) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Replica> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    SPOTOPT_ASSIGN_OR_RETURN(Replica r, LoadReplica(tx, agent, replica_id));
    if (force && r.state == ReplicaState::kSyncing) {
      // Forcing a SYNCING replica is only for a primary about to be reclaimed.
      SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> incidents, tx.ListIncidents(agent.id));
      const bool deadline_open = std::any_of(incidents.begin(), incidents.end(), [&](auto& i) {
        return i.signal == Signal::kTerminationNotice && !i.closed_at && i.deadline &&
               *i.deadline > now && i.instance_id == agent.placement.instance_id;
      });
      if (!deadline_open) return Refused("force needs an open termination deadline");
      r.forced_promotion = true;
    }
    SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kBeginPromotion, now, force));
    SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kCompletePromotion, now));
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));

    const Placement old = agent.placement;
    const Placement next{r.instance_id, r.pool.instance_type, r.pool.region, r.pool.az,
                         Mode::kSpot};
    const bool demote = agent.config.replica_mode == ReplicaMode::kManualStandby;
    SPOTOPT_RETURN_IF_ERROR(
        MovePlacement(tx, agent, next, demote ? InstanceState::kActive : InstanceState::kRetained,
                      "", fmt::format("replica {} promoted", r.id), now));
    if (demote && !old.instance_type.empty() && !old.az.empty()) {
      // The old primary is a running instance of the same image: it becomes the
      // standby (section 7).
      Replica standby = NewReplica(agent, Pool{old.region, old.az, old.instance_type},
                                   "demoted-primary", LaunchPath::kListing, now);
      standby.instance_id = old.instance_id;
      for (ReplicaEvent e :
           {ReplicaEvent::kLaunch, ReplicaEvent::kInstanceReported, ReplicaEvent::kReady}) {
        SPOTOPT_RETURN_IF_ERROR(TransitionReplica(standby, e, now));
      }
      SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(standby));
    }
    return r;
  });
}

absl::StatusOr<Replica> Controller::TerminateReplica(std::string_view tenant_id,
                                                     std::string_view agent_id,
                                                     std::string_view replica_id) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Replica> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    SPOTOPT_ASSIGN_OR_RETURN(Replica r, LoadReplica(tx, agent, replica_id));
    if (r.state == ReplicaState::kRequested) {
      // Not handed to any agent yet: no instance can exist, nothing to wait for.
      SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kFail, now));
      r.error = "cancelled before launch";
    } else {
      SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kRetire, now));
    }
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));
    return r;
  });
}

absl::StatusOr<std::vector<Replica>> Controller::ListReplicas(std::string_view tenant_id,
                                                              std::string_view agent_id) {
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<Replica>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListReplicas(a.id);
      });
}

}  // namespace spotopt
