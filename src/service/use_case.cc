// The toolkit shared by the Controller's use cases.
#include "service/use_case.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "absl/time/clock.h"

namespace spotopt {

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", field, why));
}
absl::Status Refused(std::string_view why) {
  return absl::FailedPreconditionError(std::string(why));
}
absl::Status NotFound(std::string_view what) {
  return absl::NotFoundError(fmt::format("{} not found", what));
}

bool RunAgain(const absl::Status& status, int attempt) {
  // Sixteen attempts, pauses of 1 ms doubling to at most 64 ms: up to about 0.6 s in
  // all, enough for a burst of conflicts to clear even in a sanitizer build (eight
  // attempts, a quarter second, were not), short of an HTTP client's patience.
  constexpr int kAttempts = 16;
  constexpr int kDoublings = 7;  // 1, 2, ... 64 ms
  if (!IsRetryable(status) || attempt >= kAttempts) return false;
  thread_local std::minstd_rand random(std::random_device{}());
  const absl::Duration pause = absl::Milliseconds(1 << (std::min(attempt, kDoublings) - 1));
  absl::SleepFor(pause / 2 + pause * std::uniform_real_distribution<double>(0, 1)(random) / 2);
  return true;
}

absl::Status CheckId(std::string_view id, std::string_view what) {
  if (!IsCanonicalId(id)) return NotFound(what);
  return absl::OkStatus();
}

absl::Status CheckOptionalShort(std::string_view value, std::string_view field) {
  if (value.empty()) return absl::OkStatus();
  return ValidateShortString(value, field);
}

AgentEvent MakeEvent(const Agent& agent, EventKind kind, std::string_view instance_id,
                     std::string_view detail, Time now) {
  AgentEvent e;
  e.id = NewId();
  e.tenant_id = agent.tenant_id;
  e.agent_id = agent.id;
  e.kind = kind;
  e.instance_id = std::string(instance_id);
  e.detail = SanitizeFreeText(detail);
  e.at = now;
  return e;
}

// ---- Loading records on behalf of a tenant ---------------------------------
// A record of another tenant is reported exactly like a missing one.

absl::StatusOr<Agent> LoadAgent(Transaction& tx, std::string_view tenant_id,
                                std::string_view agent_id, bool allow_deleted) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(agent_id, "agent"));
  absl::StatusOr<Agent> agent = tx.GetAgent(agent_id);
  if (absl::IsNotFound(agent.status()) ||
      (agent.ok() && (agent->tenant_id != tenant_id ||
                      (!allow_deleted && agent->lifecycle == Lifecycle::kDeleted)))) {
    return NotFound("agent");
  }
  return agent;
}

absl::StatusOr<Caller> LoadCaller(Transaction& tx, std::string_view tenant_id,
                                  std::string_view registration_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(registration_id, "registration"));
  absl::StatusOr<Registration> reg = tx.GetRegistration(registration_id);
  if (absl::IsNotFound(reg.status()) || (reg.ok() && reg->tenant_id != tenant_id)) {
    return NotFound("registration");
  }
  if (!reg.ok()) return reg.status();
  absl::StatusOr<Agent> agent = LoadAgent(tx, tenant_id, reg->agent_id);
  if (absl::IsNotFound(agent.status())) return NotFound("registration");
  if (!agent.ok()) return agent.status();
  return Caller{*std::move(reg), *std::move(agent)};
}

absl::StatusOr<Command> LoadCommand(Transaction& tx, const Agent& agent,
                                    std::string_view command_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(command_id, "command"));
  absl::StatusOr<Command> c = tx.GetCommand(command_id);
  if (absl::IsNotFound(c.status()) || (c.ok() && c->agent_id != agent.id)) {
    return NotFound("command");
  }
  return c;
}

absl::StatusOr<Replica> LoadReplica(Transaction& tx, const Agent& agent,
                                    std::string_view replica_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(replica_id, "replica"));
  absl::StatusOr<Replica> r = tx.GetReplica(replica_id);
  if (absl::IsNotFound(r.status()) || (r.ok() && r->agent_id != agent.id)) {
    return NotFound("replica");
  }
  return r;
}

absl::StatusOr<std::optional<Replica>> LiveReplica(Transaction& tx, const Agent& agent) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
  for (Replica& r : replicas) {
    if (IsLive(r.state)) return std::optional<Replica>(std::move(r));
  }
  return std::optional<Replica>();
}

absl::StatusOr<Role> RoleOf(Transaction& tx, const Agent& agent, const Registration& reg) {
  if (reg.instance_id == agent.placement.instance_id) return Role::kPrimary;
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
  if (live && live->instance_id == reg.instance_id) return Role::kReplica;
  return Role::kOther;
}

// ---- State transitions with their bookkeeping ------------------------------

absl::Status TransitionCommand(Command& c, CommandEvent event, Time now, std::string_view message) {
  SPOTOPT_ASSIGN_OR_RETURN(c.state, NextState(c.state, event));
  if (IsClosed(c.state)) {
    c.closed_at = now;
    c.result_message = SanitizeFreeText(message);
  }
  return absl::OkStatus();
}

absl::Status TransitionReplica(Replica& r, ReplicaEvent event, Time now, bool force) {
  SPOTOPT_ASSIGN_OR_RETURN(r.state, NextState(r.state, event, {!r.instance_id.empty(), force}));
  r.entered_at[static_cast<size_t>(r.state)] = now;
  r.updated_at = now;
  return absl::OkStatus();
}

absl::Status FailReplica(Transaction& tx, Replica r, std::string_view why, Time now) {
  SPOTOPT_RETURN_IF_ERROR(TransitionReplica(r, ReplicaEvent::kFail, now));
  r.error = SanitizeFreeText(why);
  return tx.UpdateReplica(r);
}

absl::Status CancelCommandsFor(Transaction& tx, const Agent& agent, std::string_view instance_id,
                               std::string_view keep_id, std::string_view why, Time now) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent.id));
  for (Command& c : open) {
    if (c.id == keep_id || c.issued_for_instance != instance_id) continue;
    SPOTOPT_RETURN_IF_ERROR(TransitionCommand(c, CommandEvent::kCancel, now, why));
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
  }
  return absl::OkStatus();
}

std::optional<PriceOrError> ReadReportedPrice(const ReportedPrice& value) {
  if (const double* usd = std::get_if<double>(&value)) return Money::ReadPrice(*usd);
  if (const std::string* text = std::get_if<std::string>(&value)) return Money::ReadPrice(*text);
  return std::nullopt;
}

absl::StatusOr<std::optional<Money>> ParseReportedPrice(const ReportedPrice& value,
                                                        std::string_view field) {
  if (const double* usd = std::get_if<double>(&value)) {
    SPOTOPT_ASSIGN_OR_RETURN(Money m, Money::PriceFromDouble(*usd, field));
    return std::optional<Money>(m);
  }
  if (const std::string* text = std::get_if<std::string>(&value)) {
    SPOTOPT_ASSIGN_OR_RETURN(Money m, Money::ParsePrice(*text, field));
    return std::optional<Money>(m);
  }
  return std::optional<Money>();
}

absl::Status CheckOptionalTime(const std::optional<Time>& t, std::string_view field) {
  return t ? ValidateTime(*t, field) : absl::OkStatus();
}

absl::Status RecordPrimaryRun(Transaction& tx, const Agent& agent,
                              std::string_view previous_instance, Time now) {
  const Placement& here = agent.placement;
  const auto close_if_stale = [&](std::string_view instance) -> absl::StatusOr<bool> {
    absl::StatusOr<RunSegment> open = tx.FindOpenRunSegment(agent.id, instance);
    if (absl::IsNotFound(open.status())) return false;
    if (!open.ok()) return open.status();
    if (open->role != RunRole::kPrimary) return false;
    if (open->placement == here) return true;  // still running as recorded
    open->ended_at = std::max(now, open->started_at);
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateRunSegment(*open));
    return false;
  };
  if (!previous_instance.empty() && previous_instance != here.instance_id) {
    SPOTOPT_RETURN_IF_ERROR(close_if_stale(previous_instance).status());
  }
  SPOTOPT_ASSIGN_OR_RETURN(const bool already_open, close_if_stale(here.instance_id));
  if (already_open) return absl::OkStatus();
  RunSegment s;
  s.id = NewId();
  s.tenant_id = agent.tenant_id;
  s.agent_id = agent.id;
  s.instance_id = here.instance_id;
  s.role = RunRole::kPrimary;
  s.placement = here;
  s.started_at = now;
  return tx.InsertRunSegment(s);
}

absl::Status EndPrimaryRun(Transaction& tx, const Agent& agent, std::string_view instance,
                           Time at) {
  absl::StatusOr<RunSegment> open = tx.FindOpenRunSegment(agent.id, instance);
  if (absl::IsNotFound(open.status())) return absl::OkStatus();
  if (!open.ok()) return open.status();
  if (open->role != RunRole::kPrimary) return absl::OkStatus();
  open->ended_at = std::max(at, open->started_at);
  return tx.UpdateRunSegment(*open);
}

absl::StatusOr<std::optional<Time>> ReclaimedAt(Transaction& tx, const Agent& agent,
                                                std::string_view instance, Time now) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Incident> incidents, tx.ListIncidents(agent.id));
  std::optional<Time> at;
  for (const Incident& i : incidents) {
    if (i.signal != Signal::kTerminationNotice || i.instance_id != instance || !i.deadline ||
        *i.deadline > now) {
      continue;
    }
    if (!at || *i.deadline < *at) at = *i.deadline;
  }
  return at;
}

absl::Status MovePlacement(Transaction& tx, Agent& agent, const Placement& next,
                           InstanceState old_fate, std::string_view keep_command_id,
                           std::string_view why, Time now, std::optional<Time> old_runs_until) {
  const std::string old_instance = agent.placement.instance_id;
  const Placement old_placement = agent.placement;
  SPOTOPT_RETURN_IF_ERROR(
      CancelCommandsFor(tx, agent, old_instance, keep_command_id,
                        fmt::format("superseded: placement moved to {}", next.instance_id), now));
  absl::StatusOr<Registration> old_reg = tx.FindRegistration(agent.id, old_instance);
  if (old_reg.ok()) {
    old_reg->instance_state = old_fate;
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateRegistration(*old_reg));
  } else if (!absl::IsNotFound(old_reg.status())) {
    return old_reg.status();
  }
  agent.placement = next;
  agent.placement_since = now;
  agent.updated_at = now;
  SPOTOPT_RETURN_IF_ERROR(tx.UpdateAgent(agent));
  if (old_runs_until && *old_runs_until < now && !old_instance.empty()) {
    SPOTOPT_RETURN_IF_ERROR(EndPrimaryRun(tx, agent, old_instance, *old_runs_until));
  }
  SPOTOPT_RETURN_IF_ERROR(RecordPrimaryRun(tx, agent, old_instance, now));
  if (old_runs_until && *old_runs_until > now && !old_instance.empty()) {
    // The old primary drains: it costs its price until it is gone, and a decision
    // to move pays for that (ledger: drain segments have no baseline).
    RunSegment drain;
    drain.id = NewId();
    drain.tenant_id = agent.tenant_id;
    drain.agent_id = agent.id;
    drain.instance_id = old_instance;
    drain.role = RunRole::kDrain;
    drain.placement = old_placement;
    drain.started_at = now;
    drain.ended_at = *old_runs_until;
    SPOTOPT_RETURN_IF_ERROR(tx.InsertRunSegment(drain));
  }
  return tx.InsertEvent(MakeEvent(
      agent, EventKind::kPlacementMoved, next.instance_id,
      fmt::format("{} -> {} ({}): {}", old_instance, next.instance_id, ToString(next.mode), why),
      now));
}

int64_t WireTerminateWait(const AgentConfig& config) {
  if (!config.auto_terminate) return 0;
  return std::max<int64_t>(1, config.terminate_wait_seconds);
}

absl::StatusOr<Pool> ResolveReplicaPool(const Agent& agent, std::string_view pool_id) {
  if (pool_id.empty()) {
    if (agent.placement.instance_type.empty() || agent.placement.az.empty()) {
      return Refused("the primary's pool is unknown; name a pool");
    }
    return Pool{agent.placement.region, agent.placement.az, agent.placement.instance_type};
  }
  SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ParsePoolId(pool_id, agent.placement.region));
  if (!agent.placement.instance_type.empty() &&
      pool.instance_type != agent.placement.instance_type) {
    return Invalid("pool_id", "a replica runs the primary's instance type");
  }
  return pool;
}

Replica NewReplica(const Agent& agent, Pool pool, std::string_view type, LaunchPath path,
                   Time now) {
  Replica r;
  r.id = NewId();
  r.tenant_id = agent.tenant_id;
  r.agent_id = agent.id;
  r.pool = std::move(pool);
  r.replica_type = std::string(type);
  r.launch_path = path;
  r.created_at = now;
  r.updated_at = now;
  r.entered_at[static_cast<size_t>(ReplicaState::kRequested)] = now;
  return r;
}

absl::Status CheckCanHaveReplica(Transaction& tx, const Agent& agent) {
  if (agent.config.replica_mode == ReplicaMode::kOff) return Refused("replica mode is off");
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, agent));
  if (live) return Refused("the agent already has a live replica");
  return absl::OkStatus();
}

bool InSuccessorWindow(const Command& c, const ControllerOptions& o, Time now) {
  if (c.state == CommandState::kLeased) return true;
  if (!c.leased_at || !c.closed_at) return false;
  return now <= *c.closed_at + o.successor_window + absl::Seconds(c.terminate_wait_seconds);
}

absl::Status PromoteInTx(Transaction& tx, Agent& agent, Replica& r, bool force,
                         PromotionCause cause, Time now, std::optional<Time> old_runs_until) {
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
  const Placement next{r.instance_id, r.pool.instance_type, r.pool.region, r.pool.az, Mode::kSpot};
  const bool demote = cause == PromotionCause::kOperator &&
                      agent.config.replica_mode == ReplicaMode::kManualStandby;
  InstanceState old_fate = InstanceState::kRetained;
  if (cause == PromotionCause::kTermination) old_fate = InstanceState::kTerminating;
  if (demote) old_fate = InstanceState::kActive;
  SPOTOPT_RETURN_IF_ERROR(MovePlacement(tx, agent, next, old_fate, "",
                                        fmt::format("replica {} promoted", r.id), now,
                                        demote ? std::nullopt : old_runs_until));
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
  return absl::OkStatus();
}

absl::StatusOr<SwitchRecord> FindOrNewSwitch(Transaction& tx, const Agent& agent,
                                             std::string_view old_instance,
                                             std::string_view new_instance, Time now,
                                             bool* existed) {
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<SwitchRecord> records, tx.ListSwitches(agent.id));
  for (SwitchRecord& r : records) {
    if (r.from.instance_id == old_instance && r.to.instance_id == new_instance) {
      *existed = true;
      return std::move(r);
    }
  }
  *existed = false;
  SwitchRecord r;
  r.id = NewId();
  r.tenant_id = agent.tenant_id;
  r.agent_id = agent.id;
  r.from.instance_id = std::string(old_instance);
  r.to.instance_id = std::string(new_instance);
  r.created_at = now;
  r.updated_at = now;
  return r;
}

absl::StatusOr<RegistrationView> ViewOf(Transaction& tx, const Agent& agent, Registration reg,
                                        Time now, const ControllerOptions& o) {
  SPOTOPT_ASSIGN_OR_RETURN(Role role, RoleOf(tx, agent, reg));
  const Liveness liveness = ComputeLiveness(reg, now, o.offline_after);
  return RegistrationView{std::move(reg), role, liveness};
}

absl::StatusOr<AgentView> AgentViewOf(Transaction& tx, Agent agent, Time now,
                                      const ControllerOptions& o) {
  AgentView view;
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Registration> regs, tx.ListRegistrations(agent.id));
  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent.id));
  for (const Replica& r : replicas) view.live_replicas += IsLive(r.state);
  for (Registration& reg : regs) {
    const bool primary = reg.instance_id == agent.placement.instance_id;
    SPOTOPT_ASSIGN_OR_RETURN(RegistrationView rv, ViewOf(tx, agent, std::move(reg), now, o));
    if (primary) view.liveness = rv.liveness;
    view.registrations.push_back(std::move(rv));
  }
  view.agent = std::move(agent);
  return view;
}

}  // namespace spotopt
