// Logical agents, registrations (protocol section 3), liveness and config.
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include "common/enum_text.h"
#include "service/use_case.h"

namespace spotopt {
namespace {

// Does a registering instance match the target of a delivered placement command
// (protocol section 3.3 step 7b)?
bool MatchesTarget(const Command& c, const Agent& agent, const RegisterRequest& req) {
  if (!c.is_placement() || !c.leased_at) return false;
  if (req.region != agent.placement.region) return false;
  if (req.facts.instance_type != agent.placement.instance_type) return false;
  if (req.facts.mode && *req.facts.mode != c.target_mode) return false;
  if (c.target_mode == Mode::kSpot) {
    if (!c.target_pool_id) return false;
    absl::StatusOr<Pool> pool = ParsePoolId(*c.target_pool_id, agent.placement.region);
    return pool.ok() && pool->az == req.facts.az;
  }
  return true;
}

// The delivered placement command whose target this registration fulfils.
absl::StatusOr<std::optional<Command>> ExpectedSuccessorCommand(Transaction& tx, const Agent& agent,
                                                                const RegisterRequest& req,
                                                                const ControllerOptions& o,
                                                                Time now) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> commands, tx.ListCommands(agent.id));
  for (Command& c : commands) {
    if (c.issued_for_instance == agent.placement.instance_id && MatchesTarget(c, agent, req) &&
        InSuccessorWindow(c, o, now)) {
      return std::optional<Command>(std::move(c));
    }
  }
  return std::optional<Command>();
}

// Fallback identity (protocol section 3.4): the agents of the tenant that the
// registering instance succeeds.
absl::StatusOr<std::vector<Agent>> SuccessorCandidates(Transaction& tx, std::string_view tenant_id,
                                                       const RegisterRequest& req,
                                                       const ControllerOptions& o, Time now) {
  std::vector<Agent> found;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Agent> agents, tx.ListAgents(tenant_id));
  for (Agent& agent : agents) {
    if (agent.lifecycle == Lifecycle::kDeleted) continue;
    bool match = false;
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
    for (const Replica& r : replicas) {
      match |= r.instance_id == req.instance_id &&
               (IsLive(r.state) || r.state == ReplicaState::kPromoted);
    }
    if (!match) {
      SPOTOPT_ASSIGN_OR_RETURN(std::vector<SwitchRecord> switches, tx.ListSwitches(agent.id));
      for (const SwitchRecord& sw : switches)
        match |= sw.reported && sw.to.instance_id == req.instance_id;
    }
    if (!match && !req.facts.ami_id.empty()) {
      SPOTOPT_ASSIGN_OR_RETURN(std::optional<Command> c,
                               ExpectedSuccessorCommand(tx, agent, req, o, now));
      if (c) {
        absl::StatusOr<Registration> old_primary =
            tx.FindRegistration(agent.id, agent.placement.instance_id);
        match = old_primary.ok() && old_primary->facts.ami_id == req.facts.ami_id;
      }
    }
    if (match) found.push_back(std::move(agent));
  }
  return found;
}

absl::Status ValidateRegisterRequest(const RegisterRequest& r) {
  SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(r.instance_id, "instance_id"));
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(r.region, "region"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(r.logical_id, "logical_agent_id"));
  const InstanceFacts& f = r.facts;
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(f.hostname, "hostname"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(f.instance_type, "instance_type"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(f.az, "az"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(f.ami_id, "ami_id"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(f.private_ip, "private_ip"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(f.public_ip, "public_ip"));
  if (f.mode && !IsValidEnum(*f.mode)) return Invalid("mode", "unknown mode");
  return CheckOptionalShort(f.agent_version, "agent_version");
}

// The termination incidents whose failover this beat ends: the first online beat
// of a freshly promoted primary is the healthy phase. Only a recent placement move
// can have one.
absl::StatusOr<std::vector<Incident>> FailoversEnded(Transaction& tx, const Caller& caller,
                                                     const HeartbeatReport& report, Time now,
                                                     const ControllerOptions& o) {
  const Agent& agent = caller.agent;
  const Registration& reg = caller.registration;
  std::vector<Incident> ended;
  if (reg.instance_id != agent.placement.instance_id || report.status != HeartbeatStatus::kOnline ||
      now - agent.placement_since >= o.successor_window) {
    return ended;
  }
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> incidents, tx.ListIncidents(agent.id));
  for (Incident& i : incidents) {
    if (!i.promoted_at || i.healthy_at || i.replica_id.empty()) continue;
    SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(i.replica_id));
    if (r.instance_id == reg.instance_id) ended.push_back(std::move(i));
  }
  return ended;
}

// Whether a heartbeat does more than renew liveness (a status change, new facts, a
// conflict, an ended failover): those are written at once.
absl::StatusOr<bool> ChangesState(Transaction& tx, const Caller& caller,
                                  const HeartbeatReport& report, Time now,
                                  const ControllerOptions& o) {
  const Registration& reg = caller.registration;
  if (report.status != reg.last_status ||
      (!report.instance_id.empty() && report.instance_id != reg.instance_id) ||
      (!report.instance_type.empty() && report.instance_type != reg.facts.instance_type) ||
      (!report.az.empty() && report.az != reg.facts.az)) {
    return true;
  }
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> ended, FailoversEnded(tx, caller, report, now, o));
  return !ended.empty();
}

Placement PlacementFrom(const RegisterRequest& r) {
  return Placement{r.instance_id, r.facts.instance_type, r.region, r.facts.az,
                   r.facts.mode.value_or(Mode::kSpot)};
}

// The placement a restarted primary reports; facts it leaves out keep their values.
Placement RefreshedPlacement(const Agent& agent, const RegisterRequest& req) {
  Placement refreshed = PlacementFrom(req);
  if (refreshed.instance_type.empty()) refreshed.instance_type = agent.placement.instance_type;
  if (refreshed.az.empty()) refreshed.az = agent.placement.az;
  if (!req.facts.mode) refreshed.mode = agent.placement.mode;
  return refreshed;
}

// What a restarted primary's old process was handed and never answered: its leased
// commands and the replica launches it had not confirmed (protocol section 3.3 step 6).
struct Orphans {
  std::vector<Command> commands;
  std::vector<Replica> launches;
  bool empty() const { return commands.empty() && launches.empty(); }
};

absl::StatusOr<Orphans> OrphansOf(Transaction& tx, const Agent& agent,
                                  std::string_view registration_id) {
  Orphans orphans;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent.id));
  for (Command& c : open) {
    if (c.state == CommandState::kLeased && c.lease_holder == registration_id)
      orphans.commands.push_back(std::move(c));
  }
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
  for (Replica& r : replicas) {
    if (r.state == ReplicaState::kLaunching && r.lease_holder == registration_id &&
        r.instance_id.empty())
      orphans.launches.push_back(std::move(r));
  }
  return orphans;
}

// A re-registration that only renews liveness: a known instance of a live agent, found
// by its logical id, with the same facts, still online, whose old process left nothing
// to clean up, and which is the primary in place or the agent's standby. After a server
// restart the whole fleet registers again, and almost all of it looks like this; it then
// costs a read transaction and a touch instead of a write transaction (issue 14).
absl::StatusOr<std::optional<RegisterResult>> RenewOnly(Transaction& tx, std::string_view tenant_id,
                                                        const RegisterRequest& req,
                                                        const ControllerOptions& o, Time now) {
  const std::optional<RegisterResult> no;
  SPOTOPT_ASSIGN_OR_RETURN(Tenant tenant, tx.GetTenant(tenant_id));
  if (tenant.state != TenantState::kActive) return no;
  absl::StatusOr<Agent> agent = tx.FindAgent(tenant_id, req.logical_id);
  if (absl::IsNotFound(agent.status())) return no;
  if (!agent.ok()) return agent.status();
  if (agent->lifecycle == Lifecycle::kDeleted) return no;
  absl::StatusOr<Registration> reg = tx.FindRegistration(agent->id, req.instance_id);
  if (absl::IsNotFound(reg.status())) return no;
  if (!reg.ok()) return reg.status();
  if (!(reg->facts == req.facts) || reg->last_status != HeartbeatStatus::kOnline) return no;
  if (req.instance_id == agent->placement.instance_id) {
    SPOTOPT_ASSIGN_OR_RETURN(Orphans orphans, OrphansOf(tx, *agent, reg->id));
    if (!orphans.empty() || !(RefreshedPlacement(*agent, req) == agent->placement)) return no;
  } else {
    SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, *agent));
    if (!live || live->instance_id != req.instance_id) return no;
  }
  reg->last_seen_at = now;
  SPOTOPT_ASSIGN_OR_RETURN(RegistrationView view, ViewOf(tx, *agent, *std::move(reg), now, o));
  return RegisterResult{std::move(view), *std::move(agent), false};
}

}  // namespace

// ---- Agents and registrations --------------------------------------------------

absl::StatusOr<RegisterResult> Controller::Register(std::string_view tenant_id,
                                                    const RegisterRequest& request) {
  SPOTOPT_RETURN_IF_ERROR(ValidateRegisterRequest(request));
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  RegisterRequest req = request;
  if (req.logical_id.empty()) req.logical_id = req.instance_id;
  const Time now = clock_->Now();

  std::optional<RegisterResult> renewed;
  SPOTOPT_RETURN_IF_ERROR(InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
    SPOTOPT_ASSIGN_OR_RETURN(renewed, RenewOnly(tx, tenant_id, req, options_, now));
    return absl::OkStatus();
  }));
  if (renewed) {
    SPOTOPT_RETURN_IF_ERROR(store_->TouchRegistration(renewed->registration.registration.id, now));
    return *std::move(renewed);
  }
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<RegisterResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Tenant tenant, tx.GetTenant(tenant_id));
        if (tenant.state != TenantState::kActive) return NotFound("tenant");

        // Step 2: the logical agent, directly or through an alias.
        std::optional<Agent> agent;
        absl::StatusOr<Agent> found = tx.FindAgent(tenant_id, req.logical_id);
        if (found.ok()) {
          agent = *std::move(found);
        } else if (absl::IsNotFound(found.status())) {
          absl::StatusOr<AgentAlias> alias = tx.FindAlias(tenant_id, req.logical_id);
          if (alias.ok()) {
            SPOTOPT_ASSIGN_OR_RETURN(agent, tx.GetAgent(alias->agent_id));
          } else if (!absl::IsNotFound(alias.status())) {
            return alias.status();
          }
        } else {
          return found.status();
        }
        if (agent && agent->lifecycle == Lifecycle::kDeleted) return Refused("agent deleted");

        // Step 3: fallback identity finds the agent this instance succeeds.
        std::vector<Agent> ambiguous;
        if (!agent && req.logical_id == req.instance_id) {
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<Agent> candidates,
                                   SuccessorCandidates(tx, tenant_id, req, options_, now));
          if (candidates.size() == 1) {
            agent = std::move(candidates.front());
            SPOTOPT_RETURN_IF_ERROR(
                tx.InsertAlias(AgentAlias{std::string(tenant_id), req.logical_id, agent->id, now}));
          } else {
            ambiguous = std::move(candidates);
          }
        }

        // Step 4: a new logical agent, placed on this instance.
        const bool new_agent = !agent;
        if (new_agent) {
          Agent a;
          a.id = NewId();
          a.tenant_id = std::string(tenant_id);
          a.logical_id = req.logical_id;
          a.placement = PlacementFrom(req);
          a.placement_since = now;
          a.fallback_identity = req.logical_id == req.instance_id;
          a.created_at = now;
          a.updated_at = now;
          SPOTOPT_RETURN_IF_ERROR(tx.InsertAgent(a));
          SPOTOPT_RETURN_IF_ERROR(RecordPrimaryRun(tx, a, "", now));
          for (const Agent& other : ambiguous) {
            SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(
                MakeEvent(a, EventKind::kIdentityConflict, req.instance_id,
                          fmt::format("fallback identity matches several agents, e.g. {}; set "
                                      "LOGICAL_AGENT_ID",
                                      other.id),
                          now)));
          }
          agent = std::move(a);
        }

        // Step 5: the registration for (agent, instance); registering counts as a beat.
        Registration reg;
        absl::StatusOr<Registration> existing = tx.FindRegistration(agent->id, req.instance_id);
        const bool created = absl::IsNotFound(existing.status());
        if (!created && !existing.ok()) return existing.status();
        if (created) {
          reg.id = NewId();
          reg.tenant_id = std::string(tenant_id);
          reg.agent_id = agent->id;
          reg.instance_id = req.instance_id;
          reg.created_at = now;
        } else {
          reg = *std::move(existing);
        }
        reg.facts = req.facts;
        reg.last_seen_at = now;
        reg.last_status = HeartbeatStatus::kOnline;
        SPOTOPT_RETURN_IF_ERROR(created ? tx.InsertRegistration(reg) : tx.UpdateRegistration(reg));

        if (req.instance_id == agent->placement.instance_id) {
          // Step 6: the primary restarted; what was handed to its old process is lost.
          SPOTOPT_ASSIGN_OR_RETURN(Orphans orphans, OrphansOf(tx, *agent, reg.id));
          for (Command& c : orphans.commands) {
            SPOTOPT_RETURN_IF_ERROR(TransitionCommand(c, CommandEvent::kExpire, now,
                                                      "agent restarted before acknowledging"));
            SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
          }
          for (Replica& r : orphans.launches) {
            SPOTOPT_RETURN_IF_ERROR(
                FailReplica(tx, r, "agent restarted before confirming the launch", now));
          }
          if (!new_agent) {
            const Placement refreshed = RefreshedPlacement(*agent, req);
            if (!(refreshed == agent->placement)) {
              agent->placement = refreshed;
              agent->updated_at = now;
              SPOTOPT_RETURN_IF_ERROR(tx.UpdateAgent(*agent));
              SPOTOPT_RETURN_IF_ERROR(RecordPrimaryRun(tx, *agent, "", now));
            }
          }
        } else {
          // Step 7: another instance of an existing agent.
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, *agent));
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Command> command,
                                   ExpectedSuccessorCommand(tx, *agent, req, options_, now));
          if (live && live->instance_id == req.instance_id) {
            // (a) the agent's standby: nothing moves.
          } else if (command) {
            // (b) the expected successor of a delivered switch.
            const InstanceState fate = command->terminate_wait_seconds > 0
                                           ? InstanceState::kTerminating
                                           : InstanceState::kRetained;
            if (command->state == CommandState::kLeased) {
              SPOTOPT_RETURN_IF_ERROR(TransitionCommand(
                  *command, CommandEvent::kSucceed, now,
                  fmt::format("outcome inferred: successor {} registered", req.instance_id)));
              SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(*command));
            }
            const Placement old_placement = agent->placement;
            SPOTOPT_RETURN_IF_ERROR(MovePlacement(
                tx, *agent, PlacementFrom(req), fate, command->id, "expected successor registered",
                now, now + absl::Seconds(command->terminate_wait_seconds)));
            // The switch record, or the completion of the one the report started.
            bool existed = false;
            SPOTOPT_ASSIGN_OR_RETURN(SwitchRecord rec,
                                     FindOrNewSwitch(tx, *agent, old_placement.instance_id,
                                                     req.instance_id, now, &existed));
            if (!existed) rec.from = old_placement;
            rec.to = agent->placement;
            rec.command_id = command->id;
            rec.reason = command->reason;
            rec.requested_by = command->requested_by;
            rec.unsolicited = false;
            rec.updated_at = now;
            SPOTOPT_RETURN_IF_ERROR(existed ? tx.UpdateSwitch(rec) : tx.InsertSwitch(rec));
          } else {
            absl::StatusOr<Registration> primary =
                tx.FindRegistration(agent->id, agent->placement.instance_id);
            if (!primary.ok() && !absl::IsNotFound(primary.status())) return primary.status();
            const bool primary_gone =
                !primary.ok() ||
                ComputeLiveness(*primary, now, options_.offline_after) == Liveness::kOffline;
            if (created && primary_gone) {
              // (c) re-home: the primary is gone and this instance is new to the agent.
              // A primary reclaimed at a termination deadline stopped running (and
              // costing) there, not now.
              SPOTOPT_ASSIGN_OR_RETURN(std::optional<Time> reclaimed,
                                       ReclaimedAt(tx, *agent, agent->placement.instance_id, now));
              SPOTOPT_RETURN_IF_ERROR(MovePlacement(tx, *agent, PlacementFrom(req),
                                                    InstanceState::kLost, "",
                                                    "re-home: primary offline", now, reclaimed));
              SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(MakeEvent(
                  *agent, EventKind::kRehome, req.instance_id, "primary offline; re-homed", now)));
            } else {
              // (d) conflict: recorded for the operator; the agent keeps running.
              SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(
                  MakeEvent(*agent, EventKind::kIdentityConflict, req.instance_id,
                            fmt::format("instance {} registered while {} is primary",
                                        req.instance_id, agent->placement.instance_id),
                            now)));
            }
          }
        }

        SPOTOPT_ASSIGN_OR_RETURN(RegistrationView view, ViewOf(tx, *agent, reg, now, options_));
        return RegisterResult{std::move(view), *std::move(agent), created};
      });
}

absl::StatusOr<AgentConfig> Controller::Heartbeat(std::string_view tenant_id,
                                                  std::string_view registration_id,
                                                  const HeartbeatReport& report) {
  if (!report.instance_id.empty()) {
    SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(report.instance_id, "instance_id"));
  }
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.instance_type, "instance_type"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.az, "az"));
  if (!IsValidEnum(report.status)) return Invalid("status", "unknown heartbeat status");
  const Time now = clock_->Now();
  // Most beats only renew liveness: a read transaction, then a touch the store may
  // hold. The rest take the write transaction below.
  std::optional<Caller> renew;
  SPOTOPT_RETURN_IF_ERROR(InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) {
    renew.reset();
    SPOTOPT_ASSIGN_OR_RETURN(Caller caller, LoadCaller(tx, tenant_id, registration_id));
    SPOTOPT_ASSIGN_OR_RETURN(bool changes, ChangesState(tx, caller, report, now, options_));
    if (!changes) renew = std::move(caller);
    return absl::OkStatus();
  }));
  if (renew) {
    SPOTOPT_RETURN_IF_ERROR(store_->TouchRegistration(renew->registration.id, now));
    return renew->agent.config;
  }
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<AgentConfig> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller caller, LoadCaller(tx, tenant_id, registration_id));
        Registration& reg = caller.registration;
        reg.last_seen_at = now;
        reg.last_status = report.status;
        // A heartbeat never moves the placement: the registration fixes the instance.
        if (!report.instance_id.empty() && report.instance_id != reg.instance_id) {
          SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(
              MakeEvent(caller.agent, EventKind::kIdentityConflict, report.instance_id,
                        fmt::format("heartbeat of registration {} names instance {}", reg.id,
                                    report.instance_id),
                        now)));
        } else {
          if (!report.instance_type.empty()) reg.facts.instance_type = report.instance_type;
          if (!report.az.empty()) reg.facts.az = report.az;
        }
        SPOTOPT_RETURN_IF_ERROR(tx.UpdateRegistration(reg));
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> ended,
                                 FailoversEnded(tx, caller, report, now, options_));
        for (Incident& i : ended) {
          i.healthy_at = now;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateIncident(i));
        }
        return caller.agent.config;
      });
}

absl::StatusOr<RegistrationView> Controller::GetRegistration(std::string_view tenant_id,
                                                             std::string_view registration_id) {
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<RegistrationView> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
        return ViewOf(tx, c.agent, std::move(c.registration), now, options_);
      });
}

absl::StatusOr<AgentView> Controller::GetAgent(std::string_view tenant_id,
                                               std::string_view agent_id) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<AgentView> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id, true));
    return AgentViewOf(tx, std::move(agent), now, options_);
  });
}

absl::StatusOr<std::vector<AgentView>> Controller::ListAgents(std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<AgentView>> {
        if (absl::IsNotFound(tx.GetTenant(tenant_id).status())) return NotFound("tenant");
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<Agent> agents, tx.ListAgents(tenant_id));
        std::vector<AgentView> out;
        out.reserve(agents.size());
        for (Agent& a : agents) {
          SPOTOPT_ASSIGN_OR_RETURN(AgentView v, AgentViewOf(tx, std::move(a), now, options_));
          out.push_back(std::move(v));
        }
        return out;
      });
}

absl::Status Controller::SetEnabled(std::string_view tenant_id, std::string_view agent_id,
                                    bool enabled) {
  AgentConfigPatch patch;
  patch.enabled = enabled;
  return UpdateConfig(tenant_id, agent_id, patch).status();
}

absl::Status Controller::DeleteAgent(std::string_view tenant_id, std::string_view agent_id) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::Status {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent.id));
    for (Command& c : open) {
      SPOTOPT_RETURN_IF_ERROR(TransitionCommand(c, CommandEvent::kCancel, now, "agent deleted"));
      SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
    }
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
    for (Replica& r : replicas) {
      if (!IsLive(r.state) || r.state == ReplicaState::kTerminating) continue;
      // A replica with no instance has nothing to terminate.
      if (r.instance_id.empty()) {
        SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, "agent deleted", now));
      } else {
        SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kRetire, now));
        SPOTOPT_RETURN_IF_ERROR(tx.UpdateReplica(r));
      }
    }
    agent.lifecycle = Lifecycle::kDeleted;
    agent.updated_at = now;
    return tx.UpdateAgent(agent);
  });
}

absl::StatusOr<std::vector<AgentEvent>> Controller::ListEvents(std::string_view tenant_id,
                                                               std::string_view agent_id) {
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<AgentEvent>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListEvents(a.id);
      });
}

// ---- Config ------------------------------------------------------------------

absl::StatusOr<AgentConfig> Controller::GetConfig(std::string_view tenant_id,
                                                  std::string_view agent_id) {
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<AgentConfig> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id));
    return a.config;
  });
}

absl::StatusOr<ConfigView> Controller::GetConfigForRegistration(std::string_view tenant_id,
                                                                std::string_view registration_id) {
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<ConfigView> {
    SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
    SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, c.agent));
    return ConfigView{c.agent.config, live ? 1 : 0};
  });
}

absl::StatusOr<AgentConfig> Controller::UpdateConfig(std::string_view tenant_id,
                                                     std::string_view agent_id,
                                                     const AgentConfigPatch& patch,
                                                     std::optional<int64_t> expected_version) {
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<AgentConfig> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
        if (expected_version && *expected_version != agent.config.version) {
          return Refused(
              fmt::format("config version is {}, not {}", agent.config.version, *expected_version));
        }
        SPOTOPT_ASSIGN_OR_RETURN(AgentConfig next, ApplyPatch(agent.config, patch));
        if (next.version != agent.config.version) {
          agent.config = next;
          agent.updated_at = now;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateAgent(agent));
        }
        return next;
      });
}

}  // namespace spotopt
