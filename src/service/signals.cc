// Interruption signals and their incidents (protocol section 8).
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include "common/enum_text.h"
#include "service/use_case.h"

namespace spotopt {

absl::Status ValidateSignalReport(const SignalReport& report) {
  if (!IsValidEnum(report.signal)) return Invalid("signal_type", "unknown signal");
  if (!report.instance_id.empty()) {
    SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(report.instance_id, "instance_id"));
  }
  if (report.notice_time) SPOTOPT_RETURN_IF_ERROR(ValidateTime(*report.notice_time, "notice_time"));
  if (report.detected_at) SPOTOPT_RETURN_IF_ERROR(ValidateTime(*report.detected_at, "detected_at"));
  return absl::OkStatus();
}

absl::StatusOr<SignalResult> UpsertIncident(Transaction& tx, const Caller& c,
                                            const SignalReport& report, Time now) {
  const std::string instance =
      report.instance_id.empty() ? c.registration.instance_id : report.instance_id;
  if (instance != c.registration.instance_id) {
    return Refused("a registration reports signals of its own instance only");
  }
  const bool termination = report.signal == Signal::kTerminationNotice;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> incidents, tx.ListIncidents(c.agent.id));
  for (Incident& i : incidents) {
    if (i.instance_id != instance || i.signal != report.signal || i.closed_at) continue;
    // A termination notice is keyed by its time; a rebalance recommendation has
    // none, so the open incident absorbs every repeat.
    if (termination && report.notice_time && i.notice_time != *report.notice_time) continue;
    i.last_seen = now;
    ++i.repeat_count;
    if (!i.detected_at) i.detected_at = report.detected_at;
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
    return SignalResult{std::move(i), true};
  }

  Incident i;
  i.id = NewId();
  i.tenant_id = c.agent.tenant_id;
  i.agent_id = c.agent.id;
  i.instance_id = instance;
  i.signal = report.signal;
  i.notice_time = termination && report.notice_time ? *report.notice_time : now;
  if (termination) i.deadline = report.notice_time.value_or(now + kTerminationNoticeLead);
  i.first_seen = now;
  i.last_seen = now;
  i.detected_at = report.detected_at;
  SPOTOPT_ASSIGN_OR_RETURN(Role role, RoleOf(tx, c.agent, c.registration));
  // Where the signalled instance runs: the primary's placement, else what the
  // instance reported about itself (the decision layer counts signals per pool).
  const Placement& here = c.agent.placement;
  i.pool = role == Role::kPrimary
               ? Pool{here.region, here.az, here.instance_type}
               : Pool{here.region, c.registration.facts.az, c.registration.facts.instance_type};
  if (role == Role::kReplica) {
    // The standby itself is being reclaimed.
    SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, c.agent));
    if (live && live->state != ReplicaState::kTerminating) {
      SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, *live, "standby interrupted", now));
      i.replica_id = live->id;
    }
    i.decision = "standby replica lost; no failover needed";
  } else if (role == Role::kOther) {
    i.decision = "recorded; instance is not the primary";
  }
  SPOTOPT_RETURN_IF_ERROR(tx.InsertIncident(i));
  return SignalResult{std::move(i), false};
}

// ---- Interruption signals --------------------------------------------------------

absl::StatusOr<SignalResult> Controller::RecordSignal(std::string_view tenant_id,
                                                      std::string_view registration_id,
                                                      const SignalReport& report) {
  SPOTOPT_RETURN_IF_ERROR(ValidateSignalReport(report));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<SignalResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
        return UpsertIncident(tx, c, report, now);
      });
}

absl::StatusOr<std::vector<Incident>> Controller::ListIncidents(std::string_view tenant_id,
                                                                std::string_view agent_id) {
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<Incident>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListIncidents(a.id);
      });
}

}  // namespace spotopt
