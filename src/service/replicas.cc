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

absl::StatusOr<ReplicaBinding> Controller::ReportReplicaLaunch(
    std::string_view tenant_id, std::string_view registration_id,
    const ReplicaInstanceReport& report) {
  SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(report.instance_id, "instance_id"));
  if (!report.parent_instance_id.empty()) {
    SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(report.parent_instance_id, "parent_instance_id"));
  }
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.pool_id, "pool_id"));
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(report.replica_type, "replica_type"));
  if (report.status != ReplicaReport::kLaunching && report.status != ReplicaReport::kSyncing) {
    return Invalid("status", "must be launching or syncing");
  }
  const Time now = clock_->Now();
  // As for PUT replica: a refusal still records the instance as an orphan.
  absl::Status refusal;
  absl::StatusOr<ReplicaBinding> result = InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<ReplicaBinding> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
        const Agent& agent = c.agent;
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
        for (Replica& r : replicas) {
          if (r.instance_id == report.instance_id) return ReplicaBinding{std::move(r), false};
        }
        const auto bind = [&](Replica& r) -> absl::Status {
          if (!report.pool_id.empty()) {
            SPOTOPT_ASSIGN_OR_RETURN(r.pool, ResolveReplicaPool(agent, report.pool_id));
          }
          r.instance_id = report.instance_id;
          r.lease_holder = c.registration.id;
          SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kLaunch, now));
          if (report.status == ReplicaReport::kSyncing) {
            SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kInstanceReported, now));
          }
          return absl::OkStatus();
        };

        std::string why;
        const bool parent_ok = report.parent_instance_id.empty() ||
                               report.parent_instance_id == agent.placement.instance_id;
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent.id));
        const auto leased = std::find_if(open.begin(), open.end(), [&](const Command& cmd) {
          return cmd.type == CommandType::kCreateReplica && cmd.state == CommandState::kLeased &&
                 cmd.lease_holder == c.registration.id && cmd.replica_id;
        });
        if (!parent_ok) {
          why = "parent_instance_id is not the primary";
        } else if (leased != open.end()) {
          // Step 1: the replica reserved for the command leased to this registration.
          SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(*leased->replica_id));
          if (r.state == ReplicaState::kRequested && r.instance_id.empty()) {
            SPOTOPT_RETURN_IF_ERROR(bind(r));
            SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));
            return ReplicaBinding{std::move(r), true};
          }
          why = fmt::format("the reserved replica {} is {}", r.id, ToString(r.state));
        } else if (agent.config.replica_mode != ReplicaMode::kManualStandby) {
          why = "replica mode does not allow a replica launched by the agent";
        } else if (c.registration.instance_id != agent.placement.instance_id) {
          why = "only the primary launches replicas";
        } else {
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
          if (live) {
            why = fmt::format("the agent already has live replica {}", live->id);
          } else {
            // Step 2: a manual standby the agent launched on its own.
            SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ResolveReplicaPool(agent, ""));
            Replica r =
                NewReplica(agent, std::move(pool), report.replica_type, LaunchPath::kCommand, now);
            SPOTOPT_RETURN_IF_ERROR(bind(r));
            SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(r));
            return ReplicaBinding{std::move(r), true};
          }
        }
        refusal =
            Refused(fmt::format("{}; instance {} recorded as an orphan", why, report.instance_id));
        SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(
            MakeEvent(agent, EventKind::kOrphanInstance, report.instance_id,
                      fmt::format("replica instance reported by POST replicas: {}", why), now)));
        return ReplicaBinding{};
      });
  if (!result.ok()) return result;
  if (!refusal.ok()) return refusal;
  return result;
}

absl::StatusOr<Replica> Controller::ReportReplicaStatus(
    std::string_view tenant_id, std::string_view registration_id, std::string_view replica_id,
    ReplicaReport status, std::optional<Time> at, std::string_view error) {
  if (static_cast<int>(status) < static_cast<int>(ReplicaReport::kLaunching) ||
      static_cast<int>(status) > static_cast<int>(ReplicaReport::kTerminated)) {
    return Invalid("status", "unknown replica status");
  }
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
    SPOTOPT_RETURN_IF_ERROR(PromoteInTx(tx, agent, r, force, PromotionCause::kOperator, now));
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
