// The agent's reactions to an interruption signal: create-emergency-replica,
// termination-imminent and rebalance-recommendation (protocol sections 5.12-5.14).
// Each upserts the signal's incident first, so the three calls of one episode
// share it, and a repeat answers from what the incident recorded.
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include "service/deciding.h"
#include "service/use_case.h"

namespace spotopt {
namespace {

// The incident and the caller's role before the incident's side effects (a standby
// that reports a signal stops being the live replica).
struct Episode {
  Caller caller;
  Role role = Role::kOther;
  SignalResult signal;
};

absl::StatusOr<Episode> OpenEpisode(Transaction& tx, std::string_view tenant_id,
                                    std::string_view registration_id, const SignalReport& report,
                                    Time now) {
  SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
  SPOTOPT_ASSIGN_OR_RETURN(Role role, RoleOf(tx, c.agent, c.registration));
  SPOTOPT_ASSIGN_OR_RETURN(SignalResult signal, UpsertIncident(tx, c, report, now));
  return Episode{std::move(c), role, std::move(signal)};
}

// The create-emergency-replica answer the incident records: the replica it named,
// unless that is the interrupted instance itself (a lost standby).
absl::StatusOr<EmergencyReplicaResult> EmergencyAnswer(Transaction& tx, const Incident& i) {
  EmergencyReplicaResult out;
  out.incident_id = i.id;
  out.urgency = i.signal == Signal::kTerminationNotice ? "critical" : "high";
  if (!i.replica_id.empty()) {
    SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(i.replica_id));
    if (r.instance_id != i.instance_id) {
      out.success = true;
      out.message = i.decision;
      out.replica = std::move(r);
      return out;
    }
  }
  out.error = i.decision;
  return out;
}

decision::Trigger TriggerOf(Signal s) {
  return s == Signal::kTerminationNotice ? decision::Trigger::kTermination
                                         : decision::Trigger::kRebalance;
}

// The decision layer's reaction to the incident's signal, acted on and logged; the
// incident records what came of it. nullopt when the agent has no market to decide
// in (its instance type is unknown).
absl::StatusOr<std::optional<Acted>> React(Transaction& tx, const decision::EngineRegistry& engines,
                                           Agent& agent, Incident& i, Time now,
                                           const ControllerOptions& o,
                                           std::shared_ptr<const AdvisorFeed> feed) {
  absl::StatusOr<AgentDecision> d =
      DecideInTx(tx, engines, agent, TriggerOf(i.signal), now, o, std::move(feed));
  if (absl::IsFailedPrecondition(d.status())) return std::optional<Acted>();
  if (!d.ok()) return d.status();
  SPOTOPT_ASSIGN_OR_RETURN(
      Acted acted, Act(tx, agent, d->decided.decision, d->input.trigger, i.deadline, i.id, now));
  decision::DecisionRecord record = NewRecord(agent, *d, now);
  record.acted = acted.acted;
  record.command_id = acted.command_id;
  record.replica_id = acted.replica_id;
  record.outcome = acted.outcome;
  SPOTOPT_RETURN_IF_ERROR(tx.InsertDecision(record).status());
  if (!acted.replica_id.empty()) i.replica_id = acted.replica_id;
  if (!acted.command_id.empty()) i.command_id = acted.command_id;
  i.decision = SanitizeFreeText(fmt::format("{} {}", d->decided.decision.message, acted.outcome));
  return std::optional<Acted>(std::move(acted));
}

TerminationResult PromotedAnswer(const Incident& i, const Replica& r) {
  TerminationResult out;
  out.success = true;
  out.action = "replica_promoted";
  out.message = fmt::format("replica promoted; {} is now primary", r.instance_id);
  out.incident_id = i.id;
  out.replica_id = r.id;
  out.new_instance_id = r.instance_id;
  out.forced = r.forced_promotion;
  out.deadline = i.deadline;
  return out;
}

}  // namespace

absl::StatusOr<EmergencyReplicaResult> Controller::CreateEmergencyReplica(
    std::string_view tenant_id, std::string_view registration_id, const SignalReport& report) {
  SPOTOPT_RETURN_IF_ERROR(ValidateSignalReport(report));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<EmergencyReplicaResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Episode e,
                                 OpenEpisode(tx, tenant_id, registration_id, report, now));
        Incident& i = e.signal.incident;
        // A repeat gets the decision of the first call and creates nothing.
        if (e.signal.repeat || e.role != Role::kPrimary) return EmergencyAnswer(tx, i);

        Agent& agent = e.caller.agent;
        bool created = false;
        SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
        if (live) {
          i.replica_id = live->id;
          i.decision = fmt::format("live replica {} already protects the primary", live->id);
        } else if (agent.config.replica_mode == ReplicaMode::kOff) {
          i.decision = "replica mode is off for this agent";
        } else if (!agent.config.enabled) {
          i.decision = "agent is disabled";
        } else {
          // The engine chooses the pool, or a move instead of a replica.
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Acted> acted,
                                   React(tx, *engines_, agent, i, now, options_, advisor_feed()));
          created = acted && !acted->replica_id.empty();
          if (created) {
            i.decision = "replica requested; the agent's next replica poll launches it";
          } else if (!acted || !acted->acted) {
            i.decision = "no eligible pool";
          }
        }
        i.decided_at = now;
        SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
        SPOTOPT_ASSIGN_OR_RETURN(EmergencyReplicaResult out, EmergencyAnswer(tx, i));
        out.created = created;
        return out;
      });
}

absl::StatusOr<TerminationResult> Controller::TerminationImminent(std::string_view tenant_id,
                                                                  std::string_view registration_id,
                                                                  const SignalReport& report) {
  SPOTOPT_RETURN_IF_ERROR(ValidateSignalReport(report));
  SignalReport notice = report;
  notice.signal = Signal::kTerminationNotice;
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<TerminationResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Episode e,
                                 OpenEpisode(tx, tenant_id, registration_id, notice, now));
        Incident& i = e.signal.incident;
        // After a promotion every repeat gets the same success body.
        if (i.promoted_at) {
          SPOTOPT_ASSIGN_OR_RETURN(Replica promoted, tx.GetReplica(i.replica_id));
          return PromotedAnswer(i, promoted);
        }
        TerminationResult out;
        out.action = "none";
        out.incident_id = i.id;
        out.deadline = i.deadline;
        if (e.role != Role::kPrimary) {
          out.error = e.role == Role::kReplica ? "standby replica lost; no failover needed"
                                               : "recorded; instance is not the primary";
          return out;
        }

        Agent& agent = e.caller.agent;
        if (!i.decided_at) i.decided_at = now;
        SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
        const bool ready = live && live->state == ReplicaState::kReady;
        // Policy force_promote_syncing_on_termination (on): a running standby beats
        // none once the primary is about to vanish.
        const bool syncing =
            live && live->state == ReplicaState::kSyncing && i.deadline && now < *i.deadline;
        if ((ready || syncing) && !live->instance_id.empty()) {
          SPOTOPT_RETURN_IF_ERROR(PromoteInTx(tx, agent, *live, syncing,
                                              PromotionCause::kTermination, now, i.deadline));
          i.promoted_at = now;
          i.replica_id = live->id;
          i.decision = fmt::format("replica {} promoted", live->id);
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
          return PromotedAnswer(i, *live);
        }
        if (live && i.replica_id.empty()) i.replica_id = live->id;
        out.error = "no ready replica to promote";
        if (!live && i.command_id.empty() && agent.config.enabled) {
          // Nothing protects the agent: the decision layer moves it, queued to expire
          // at the deadline.
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Acted> acted,
                                   React(tx, *engines_, agent, i, now, options_, advisor_feed()));
          if (acted && !acted->command_id.empty()) {
            out.error =
                fmt::format("no ready replica to promote; switch {} queued", acted->command_id);
          }
        }
        SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
        out.replica_id = live ? live->id : i.replica_id;
        return out;
      });
}

absl::StatusOr<RebalanceResult> Controller::RebalanceRecommendation(
    std::string_view tenant_id, std::string_view registration_id, const SignalReport& report) {
  SPOTOPT_RETURN_IF_ERROR(ValidateSignalReport(report));
  SignalReport recommendation = report;
  recommendation.signal = Signal::kRebalanceRecommendation;
  recommendation.notice_time.reset();
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<RebalanceResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Episode e,
                                 OpenEpisode(tx, tenant_id, registration_id, recommendation, now));
        Incident& i = e.signal.incident;
        RebalanceResult out;
        out.action = "monitor";
        out.incident_id = i.id;
        if (e.role != Role::kPrimary) {
          out.reason = i.decision;
          return out;
        }

        Agent& agent = e.caller.agent;
        if (!i.decided_at) i.decided_at = now;
        SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
        if (live) {
          out.action = "replica";
          out.replica_id = live->id;
          out.reason = fmt::format("standby replica {} in {}", live->id, live->pool.az);
          if (i.replica_id.empty()) i.replica_id = live->id;
        } else if (!i.command_id.empty()) {
          // The episode already queued its move: never a second one.
          SPOTOPT_ASSIGN_OR_RETURN(Command c, tx.GetCommand(i.command_id));
          if (IsClosed(c.state)) {
            out.reason = fmt::format("the rebalance switch is {}", ToString(c.state));
          } else {
            out.action = "switch";
            out.reason = "rebalance recommendation";
            out.command = std::move(c);
          }
        } else if (!agent.config.auto_switch) {
          out.reason = "auto switch is off";
        } else {
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Acted> acted,
                                   React(tx, *engines_, agent, i, now, options_, advisor_feed()));
          if (acted && !acted->command_id.empty()) {
            SPOTOPT_ASSIGN_OR_RETURN(Command c, tx.GetCommand(acted->command_id));
            out.action = "switch";
            out.reason = "rebalance recommendation";
            out.command = std::move(c);
          } else if (acted && !acted->replica_id.empty()) {
            out.action = "replica";
            out.replica_id = acted->replica_id;
            out.reason = i.decision;
          } else {
            out.reason = acted ? i.decision : "no better pool";
          }
        }
        SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
        return out;
      });
}

}  // namespace spotopt
