#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "service/tokens.h"

namespace spotopt {
namespace {

// ---- Small helpers ---------------------------------------------------------

absl::Status Invalid(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", field, why));
}
absl::Status Refused(std::string_view why) {
  return absl::FailedPreconditionError(std::string(why));
}
absl::Status NotFound(std::string_view what) {
  return absl::NotFoundError(fmt::format("{} not found", what));
}

#define SPOTOPT_RETURN_IF_ERROR(expr)           \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

#define SPOTOPT_CONCAT_INNER(a, b) a##b
#define SPOTOPT_CONCAT(a, b) SPOTOPT_CONCAT_INNER(a, b)
#define SPOTOPT_ASSIGN_OR_RETURN(lhs, expr) \
  SPOTOPT_ASSIGN_OR_RETURN_IMPL(SPOTOPT_CONCAT(_statusor_, __LINE__), lhs, expr)
#define SPOTOPT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(*tmp)

// Ids from outside: anything that is not a canonical server id cannot name a
// record, so it is simply not found (the wire answers 404 either way).
absl::Status CheckId(std::string_view id, std::string_view what) {
  if (!IsCanonicalId(id)) return NotFound(what);
  return absl::OkStatus();
}

absl::Status CheckOptionalShort(std::string_view value, std::string_view field) {
  if (value.empty()) return absl::OkStatus();
  return ValidateShortString(value, field);
}

// Runs `body` in one transaction and commits if it succeeded; anything else rolls
// back when the transaction is destroyed.
template <class F>
auto InTransaction(Store& store, TxMode mode, F&& body) -> std::invoke_result_t<F, Transaction&> {
  using Result = std::invoke_result_t<F, Transaction&>;
  absl::StatusOr<std::unique_ptr<Transaction>> tx = store.Begin(mode);
  if (!tx.ok()) return Result(tx.status());
  Result result = body(**tx);
  if (!result.ok()) return result;
  if (absl::Status s = (*tx)->Commit(); !s.ok()) return Result(s);
  return result;
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
                                std::string_view agent_id, bool allow_deleted = false) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(agent_id, "agent"));
  absl::StatusOr<Agent> agent = tx.GetAgent(agent_id);
  if (absl::IsNotFound(agent.status()) ||
      (agent.ok() && (agent->tenant_id != tenant_id ||
                      (!allow_deleted && agent->lifecycle == Lifecycle::kDeleted)))) {
    return NotFound("agent");
  }
  return agent;
}

struct Caller {
  Registration registration;
  Agent agent;
};

// The registration named on the wire and its logical agent. Registrations of a
// deleted agent are not found.
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

absl::Status TransitionReplica(Replica& r, ReplicaEvent event, Time now, bool force = false) {
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

// Closes every open command issued for `instance_id`, except `keep_id`.
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

// Moves the agent's placement to `next`. Commands issued for the old primary are
// cancelled (but `keep_command_id`); the old primary's registration, if any, gets
// `old_fate`.
absl::Status MovePlacement(Transaction& tx, Agent& agent, const Placement& next,
                           InstanceState old_fate, std::string_view keep_command_id,
                           std::string_view why, Time now) {
  const std::string old_instance = agent.placement.instance_id;
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
  return tx.InsertEvent(MakeEvent(
      agent, EventKind::kPlacementMoved, next.instance_id,
      fmt::format("{} -> {} ({}): {}", old_instance, next.instance_id, ToString(next.mode), why),
      now));
}

// The wire value of terminate_wait_seconds for a switch (protocol section 6.1).
int64_t WireTerminateWait(const AgentConfig& config) {
  if (!config.auto_terminate) return 0;
  return std::max<int64_t>(1, config.terminate_wait_seconds);
}

bool IsAutomatic(Priority p) {
  return p == Priority::kUrgent || p == Priority::kNormal || p == Priority::kScheduled;
}

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

bool InSuccessorWindow(const Command& c, const ControllerOptions& o, Time now) {
  if (c.state == CommandState::kLeased) return true;
  if (!c.leased_at || !c.closed_at) return false;
  return now <= *c.closed_at + o.successor_window + absl::Seconds(c.terminate_wait_seconds);
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
  return CheckOptionalShort(f.agent_version, "agent_version");
}

Placement PlacementFrom(const RegisterRequest& r) {
  return Placement{r.instance_id, r.facts.instance_type, r.region, r.facts.az,
                   r.facts.mode.value_or(Mode::kSpot)};
}

// Successful switches of the agent closed in (now - window, now].
absl::StatusOr<int64_t> CountSwitches(const std::vector<Command>& commands, Time now,
                                      Duration window) {
  int64_t n = 0;
  for (const Command& c : commands) {
    n += c.is_placement() && c.state == CommandState::kSucceeded && c.closed_at &&
         *c.closed_at > now - window;
  }
  return n;
}

absl::Status CheckSwitchLimits(const Agent& agent, const SwitchRequest& req,
                               const std::vector<Command>& history, Time now) {
  const AgentConfig& cfg = agent.config;
  SPOTOPT_ASSIGN_OR_RETURN(int64_t day, CountSwitches(history, now, absl::Hours(24)));
  if (day >= cfg.max_switches_per_day) return Refused("max_switches_per_day reached");
  SPOTOPT_ASSIGN_OR_RETURN(int64_t week, CountSwitches(history, now, absl::Hours(24 * 7)));
  if (week >= cfg.max_switches_per_week) return Refused("max_switches_per_week reached");
  if (req.priority == Priority::kEmergency) return absl::OkStatus();  // answers a risk
  if (now - agent.placement_since < absl::Hours(1) * cfg.min_pool_duration_hours) {
    return Refused("min_pool_duration_hours not reached");
  }
  if (IsAutomatic(req.priority)) {
    if (!req.expected_savings_percent || !req.target_risk) {
      return Invalid("switch", "automatic switches need expected savings and target risk");
    }
    if (*req.expected_savings_percent < cfg.min_savings_percent) {
      return Refused("expected saving below min_savings_percent");
    }
    if (*req.target_risk > cfg.risk_threshold) return Refused("target risk above risk_threshold");
  }
  return absl::OkStatus();
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

absl::Status UpdateTenantState(Store& store, std::string_view tenant_id, TenantEvent event,
                               Time now) {
  return InTransaction(store, TxMode::kWrite, [&](Transaction& tx) -> absl::Status {
    SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
    absl::StatusOr<Tenant> t = tx.GetTenant(tenant_id);
    if (!t.ok()) return t.status();
    SPOTOPT_ASSIGN_OR_RETURN(t->state, NextState(t->state, event));
    t->updated_at = now;
    return tx.UpdateTenant(*t);
  });
}

}  // namespace

absl::StatusOr<ReplicaReport> ParseReplicaReport(std::string_view text) {
  if (text == "launching") return ReplicaReport::kLaunching;
  if (text == "syncing") return ReplicaReport::kSyncing;
  if (text == "ready") return ReplicaReport::kReady;
  if (text == "failed") return ReplicaReport::kFailed;
  if (text == "terminated") return ReplicaReport::kTerminated;
  return Invalid("status", "must be launching, syncing, ready, failed or terminated");
}

Controller::Controller(std::shared_ptr<Store> store, std::shared_ptr<const Clock> clock,
                       ControllerOptions options)
    : store_(std::move(store)), clock_(std::move(clock)), options_(options) {}

Controller::~Controller() = default;

// ---- Tenants and tokens ------------------------------------------------------

absl::StatusOr<CreatedTenant> Controller::CreateTenant(std::string_view name) {
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(name, "name"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<CreatedTenant> {
        CreatedTenant out;
        out.tenant = Tenant{NewId(), std::string(name), TenantState::kActive, now, now};
        SPOTOPT_RETURN_IF_ERROR(tx.InsertTenant(out.tenant));
        IssuedToken token = IssueToken(out.tenant.id, now);
        SPOTOPT_RETURN_IF_ERROR(tx.InsertToken(token.record));
        out.token = std::move(token.plaintext);
        return out;
      });
}

absl::StatusOr<Tenant> Controller::GetTenant(std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  return InTransaction(*store_, TxMode::kRead,
                       [&](Transaction& tx) { return tx.GetTenant(tenant_id); });
}

absl::StatusOr<std::vector<Tenant>> Controller::ListTenants() {
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) { return tx.ListTenants(); });
}

absl::Status Controller::SuspendTenant(std::string_view tenant_id) {
  return UpdateTenantState(*store_, tenant_id, TenantEvent::kSuspend, clock_->Now());
}

absl::Status Controller::ReactivateTenant(std::string_view tenant_id) {
  return UpdateTenantState(*store_, tenant_id, TenantEvent::kReactivate, clock_->Now());
}

absl::Status Controller::DeleteTenant(std::string_view tenant_id) {
  return UpdateTenantState(*store_, tenant_id, TenantEvent::kDelete, clock_->Now());
}

absl::StatusOr<std::string> Controller::RotateToken(std::string_view tenant_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<std::string> {
        SPOTOPT_ASSIGN_OR_RETURN(Tenant tenant, tx.GetTenant(tenant_id));
        if (tenant.state == TenantState::kDeleted) return NotFound("tenant");
        SPOTOPT_ASSIGN_OR_RETURN(std::vector<ApiToken> tokens, tx.ListTokens(tenant_id));
        for (ApiToken& t : tokens) {
          if (t.expires_at && *t.expires_at <= now + options_.token_grace) continue;
          t.expires_at = now + options_.token_grace;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateToken(t));
        }
        IssuedToken token = IssueToken(tenant_id, now);
        SPOTOPT_RETURN_IF_ERROR(tx.InsertToken(token.record));
        return std::move(token.plaintext);
      });
}

absl::StatusOr<Tenant> Controller::Authenticate(std::string_view token) {
  SPOTOPT_ASSIGN_OR_RETURN(std::string prefix, TokenPrefix(token));
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<Tenant> {
    absl::StatusOr<ApiToken> stored = tx.GetToken(prefix);
    if (absl::IsNotFound(stored.status())) return absl::UnauthenticatedError("invalid token");
    if (!stored.ok()) return stored.status();
    if (!VerifyToken(*stored, token) || (stored->expires_at && *stored->expires_at <= now)) {
      return absl::UnauthenticatedError("invalid token");
    }
    SPOTOPT_ASSIGN_OR_RETURN(Tenant tenant, tx.GetTenant(stored->tenant_id));
    if (tenant.state == TenantState::kDeleted) return absl::UnauthenticatedError("invalid token");
    if (tenant.state == TenantState::kSuspended) {
      return absl::PermissionDeniedError("tenant suspended");
    }
    return tenant;
  });
}

// ---- Agents and registrations --------------------------------------------------

absl::StatusOr<RegisterResult> Controller::Register(std::string_view tenant_id,
                                                    const RegisterRequest& request) {
  SPOTOPT_RETURN_IF_ERROR(ValidateRegisterRequest(request));
  SPOTOPT_RETURN_IF_ERROR(CheckId(tenant_id, "tenant"));
  RegisterRequest req = request;
  if (req.logical_id.empty()) req.logical_id = req.instance_id;
  const Time now = clock_->Now();

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
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent->id));
          for (Command& c : open) {
            if (c.state != CommandState::kLeased || c.lease_holder != reg.id) continue;
            SPOTOPT_RETURN_IF_ERROR(TransitionCommand(c, CommandEvent::kExpire, now,
                                                      "agent restarted before acknowledging"));
            SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
          }
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<Replica> replicas, tx.ListReplicas(agent->id));
          for (Replica& r : replicas) {
            if (r.state == ReplicaState::kLaunching && r.lease_holder == reg.id &&
                r.instance_id.empty()) {
              SPOTOPT_RETURN_IF_ERROR(
                  FailReplica(tx, r, "agent restarted before confirming the launch", now));
            }
          }
          if (!new_agent) {
            Placement refreshed = PlacementFrom(req);
            if (refreshed.instance_type.empty())
              refreshed.instance_type = agent->placement.instance_type;
            if (refreshed.az.empty()) refreshed.az = agent->placement.az;
            if (!req.facts.mode) refreshed.mode = agent->placement.mode;
            if (!(refreshed == agent->placement)) {
              agent->placement = refreshed;
              agent->updated_at = now;
              SPOTOPT_RETURN_IF_ERROR(tx.UpdateAgent(*agent));
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
            SPOTOPT_RETURN_IF_ERROR(MovePlacement(tx, *agent, PlacementFrom(req), fate, command->id,
                                                  "expected successor registered", now));
          } else {
            absl::StatusOr<Registration> primary =
                tx.FindRegistration(agent->id, agent->placement.instance_id);
            if (!primary.ok() && !absl::IsNotFound(primary.status())) return primary.status();
            const bool primary_gone =
                !primary.ok() ||
                ComputeLiveness(*primary, now, options_.offline_after) == Liveness::kOffline;
            if (created && primary_gone) {
              // (c) re-home: the primary is gone and this instance is new to the agent.
              SPOTOPT_RETURN_IF_ERROR(MovePlacement(tx, *agent, PlacementFrom(req),
                                                    InstanceState::kLost, "",
                                                    "re-home: primary offline", now));
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

absl::Status Controller::Heartbeat(std::string_view tenant_id, std::string_view registration_id,
                                   const HeartbeatReport& report) {
  if (!report.instance_id.empty()) {
    SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(report.instance_id, "instance_id"));
  }
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.instance_type, "instance_type"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.az, "az"));
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::Status {
    SPOTOPT_ASSIGN_OR_RETURN(Caller caller, LoadCaller(tx, tenant_id, registration_id));
    Registration& reg = caller.registration;
    reg.last_seen_at = now;
    reg.last_status = report.status;
    // A heartbeat never moves the placement: the registration fixes the instance.
    if (!report.instance_id.empty() && report.instance_id != reg.instance_id) {
      SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(MakeEvent(
          caller.agent, EventKind::kIdentityConflict, report.instance_id,
          fmt::format("heartbeat of registration {} names instance {}", reg.id, report.instance_id),
          now)));
    } else {
      if (!report.instance_type.empty()) reg.facts.instance_type = report.instance_type;
      if (!report.az.empty()) reg.facts.az = report.az;
    }
    return tx.UpdateRegistration(reg);
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

absl::StatusOr<AgentConfig> Controller::GetConfigForRegistration(std::string_view tenant_id,
                                                                 std::string_view registration_id) {
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<AgentConfig> {
    SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
    return c.agent.config;
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

// ---- Commands ------------------------------------------------------------------

absl::StatusOr<Command> Controller::EnqueueSwitch(std::string_view tenant_id,
                                                  std::string_view agent_id,
                                                  const SwitchRequest& req) {
  SPOTOPT_RETURN_IF_ERROR(PriorityFromInt(static_cast<int>(req.priority)).status());
  if (!req.reason.empty()) SPOTOPT_RETURN_IF_ERROR(ValidateShortString(req.reason, "reason"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(req.requested_by, "requested_by"));
  if (req.ttl && *req.ttl <= absl::ZeroDuration()) return Invalid("ttl", "must be positive");
  if (req.override_limits && req.priority != Priority::kManual) {
    return Invalid("override_limits", "only manual switches may override the limits");
  }
  if (req.target_mode == Mode::kSpot) {
    if (req.target_pool_id.empty()) return Invalid("target_pool_id", "a spot target needs a pool");
  } else if (!req.target_pool_id.empty()) {
    return Invalid("target_pool_id", "an on-demand target has no pool");
  }
  const Time now = clock_->Now();

  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Command> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    if (!agent.config.enabled) return Refused("agent is disabled");
    if (req.priority != Priority::kManual && !agent.config.auto_switch) {
      return Refused("auto switch is off for this agent");
    }
    const Placement& here = agent.placement;
    if (req.target_mode == Mode::kSpot) {
      SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ParsePoolId(req.target_pool_id, here.region));
      if (here.instance_type.empty()) return Refused("the agent's instance type is unknown");
      if (pool.instance_type != here.instance_type) {
        return Invalid("target_pool_id", "the agent keeps its instance type");
      }
      if (here.mode == Mode::kSpot && pool.az == here.az) {
        return Refused("the agent already runs in that pool");
      }
    } else if (here.mode == Mode::kOnDemand) {
      return Refused("the agent already runs on demand");
    }

    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> history, tx.ListCommands(agent.id));
    if (!req.override_limits) {
      SPOTOPT_RETURN_IF_ERROR(CheckSwitchLimits(agent, req, history, now));
    }
    const std::string dedup_key =
        fmt::format("switch:{}:{}", ToString(req.target_mode), req.target_pool_id);
    for (Command& c : history) {
      if (!c.is_placement() || IsClosed(c.state)) continue;
      if (c.state == CommandState::kLeased) return Refused("a switch is in flight");
      if (c.dedup_key == dedup_key) {
        // The same switch is already queued: keep one, with the higher priority.
        if (req.priority > c.priority) {
          c.priority = req.priority;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
        }
        return c;
      }
      if (req.priority < c.priority) return Refused("a higher-priority switch is pending");
      SPOTOPT_RETURN_IF_ERROR(
          TransitionCommand(c, CommandEvent::kCancel, now, "superseded by a newer switch"));
      SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
    }

    Command c;
    c.id = NewId();
    c.tenant_id = agent.tenant_id;
    c.agent_id = agent.id;
    c.type = CommandType::kSwitch;
    c.priority = req.priority;
    c.target_mode = req.target_mode;
    if (req.target_mode == Mode::kSpot) c.target_pool_id = req.target_pool_id;
    c.terminate_wait_seconds = WireTerminateWait(agent.config);
    c.reason = req.reason;
    c.requested_by = req.requested_by;
    c.override_limits = req.override_limits;
    c.issued_for_instance = here.instance_id;
    c.dedup_key = dedup_key;
    c.created_at = now;
    c.expires_at = now + req.ttl.value_or(DefaultTtl(req.priority));
    SPOTOPT_ASSIGN_OR_RETURN(c.seq, tx.InsertCommand(c));
    return c;
  });
}

absl::StatusOr<Command> Controller::EnqueueCreateReplica(std::string_view tenant_id,
                                                         std::string_view agent_id,
                                                         const ReplicaRequest& req) {
  SPOTOPT_RETURN_IF_ERROR(ValidateShortString(req.replica_type, "replica_type"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(req.requested_by, "requested_by"));
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Command> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    if (!agent.config.enabled) return Refused("agent is disabled");
    SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ResolveReplicaPool(agent, req.pool_id));
    SPOTOPT_RETURN_IF_ERROR(CheckCanHaveReplica(tx, agent));

    Command c;
    c.id = NewId();
    Replica r = NewReplica(agent, pool, req.replica_type, LaunchPath::kCommand, now);
    r.command_id = c.id;
    SPOTOPT_RETURN_IF_ERROR(tx.InsertReplica(r));
    c.tenant_id = agent.tenant_id;
    c.agent_id = agent.id;
    c.type = CommandType::kCreateReplica;
    c.priority = Priority::kManual;
    c.target_mode = Mode::kSpot;
    c.target_pool_id = pool.id();
    c.terminate_wait_seconds = 0;
    c.reason = "create a standby replica";
    c.requested_by = req.requested_by;
    c.issued_for_instance = agent.placement.instance_id;
    c.dedup_key = fmt::format("create_replica:{}", pool.id());
    c.replica_id = r.id;
    c.created_at = now;
    c.expires_at = now + DefaultTtl(c.priority);
    SPOTOPT_ASSIGN_OR_RETURN(c.seq, tx.InsertCommand(c));
    return c;
  });
}

absl::StatusOr<std::optional<Command>> Controller::PollCommand(std::string_view tenant_id,
                                                               std::string_view registration_id) {
  const Time now = clock_->Now();
  // The deliverable command for this caller, if any (protocol section 6.4).
  const auto pick = [&](Transaction& tx) -> absl::StatusOr<std::optional<Command>> {
    SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
    if (c.registration.instance_id != c.agent.placement.instance_id || !c.agent.config.enabled) {
      return std::optional<Command>();
    }
    SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(c.agent.id));
    for (const Command& cmd : open) {
      if (cmd.state == CommandState::kLeased) return std::optional<Command>();
    }
    for (Command& cmd : open) {
      if (cmd.issued_for_instance == c.registration.instance_id && cmd.expires_at > now) {
        return std::optional<Command>(std::move(cmd));
      }
    }
    return std::optional<Command>();
  };
  // Most polls find nothing: look in a read transaction first, and take the write
  // lock only to lease (checking again under it).
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Command> candidate,
                           InTransaction(*store_, TxMode::kRead, pick));
  if (!candidate) return candidate;
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<std::optional<Command>> {
        SPOTOPT_ASSIGN_OR_RETURN(std::optional<Command> cmd, pick(tx));
        if (!cmd) return cmd;
        SPOTOPT_RETURN_IF_ERROR(TransitionCommand(*cmd, CommandEvent::kDeliver, now, ""));
        cmd->lease_holder = std::string(registration_id);
        cmd->leased_at = now;
        cmd->lease_expires_at =
            now + (cmd->is_placement()
                       ? absl::Seconds(cmd->terminate_wait_seconds) + options_.switch_lease_extra
                       : options_.create_replica_lease);
        SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(*cmd));
        return cmd;
      });
}

absl::StatusOr<Command> Controller::AckCommand(std::string_view tenant_id,
                                               std::string_view registration_id,
                                               std::string_view command_id, bool success,
                                               std::string_view message) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Command> {
    SPOTOPT_ASSIGN_OR_RETURN(Caller caller, LoadCaller(tx, tenant_id, registration_id));
    SPOTOPT_ASSIGN_OR_RETURN(Command c, LoadCommand(tx, caller.agent, command_id));
    if (c.lease_holder != caller.registration.id) {
      return Refused("the command was not delivered to this registration");
    }
    if (IsClosed(c.state)) {
      // A repeated or late ack changes nothing; one that contradicts the recorded
      // outcome is flagged for the operator.
      const bool contradicts = (c.state == CommandState::kSucceeded && !success) ||
                               (c.state == CommandState::kFailed && success);
      if (contradicts) {
        SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(
            MakeEvent(caller.agent, EventKind::kLateAck, caller.registration.instance_id,
                      fmt::format("command {} is {} but the agent reported {}: {}", c.id,
                                  ToString(c.state), success ? "success" : "failure", message),
                      now)));
      }
      return c;
    }
    SPOTOPT_RETURN_IF_ERROR(
        TransitionCommand(c, success ? CommandEvent::kSucceed : CommandEvent::kFail, now, message));
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
    if (!success && c.replica_id) {
      SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(*c.replica_id));
      if (IsLive(r.state) && r.state != ReplicaState::kTerminating) {
        SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, "create_replica command failed", now));
      }
    }
    return c;
  });
}

absl::StatusOr<Command> Controller::CancelCommand(std::string_view tenant_id,
                                                  std::string_view agent_id,
                                                  std::string_view command_id,
                                                  std::string_view reason) {
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Command> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    SPOTOPT_ASSIGN_OR_RETURN(Command c, LoadCommand(tx, agent, command_id));
    SPOTOPT_RETURN_IF_ERROR(TransitionCommand(
        c, CommandEvent::kCancel, now, reason.empty() ? "cancelled by the operator" : reason));
    SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(c));
    if (c.replica_id) {
      SPOTOPT_ASSIGN_OR_RETURN(Replica r, tx.GetReplica(*c.replica_id));
      if (r.state == ReplicaState::kRequested) {
        SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, r, "create_replica command cancelled", now));
      }
    }
    return c;
  });
}

absl::StatusOr<Command> Controller::GetCommand(std::string_view tenant_id,
                                               std::string_view command_id) {
  SPOTOPT_RETURN_IF_ERROR(CheckId(command_id, "command"));
  return InTransaction(*store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<Command> {
    absl::StatusOr<Command> c = tx.GetCommand(command_id);
    if (c.ok() && c->tenant_id != tenant_id) return NotFound("command");
    return c;
  });
}

absl::StatusOr<std::vector<Command>> Controller::ListCommands(std::string_view tenant_id,
                                                              std::string_view agent_id) {
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<Command>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListCommands(a.id);
      });
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

// ---- Interruption signals --------------------------------------------------------

absl::StatusOr<SignalResult> Controller::RecordSignal(std::string_view tenant_id,
                                                      std::string_view registration_id,
                                                      const SignalReport& report) {
  if (!report.instance_id.empty()) {
    SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(report.instance_id, "instance_id"));
  }
  if (report.notice_time) SPOTOPT_RETURN_IF_ERROR(ValidateTime(*report.notice_time, "notice_time"));
  if (report.detected_at) SPOTOPT_RETURN_IF_ERROR(ValidateTime(*report.detected_at, "detected_at"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<SignalResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
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
        if (role == Role::kReplica) {
          // The standby itself is being reclaimed.
          SPOTOPT_ASSIGN_OR_RETURN(std::optional<Replica> live, LiveReplica(tx, c.agent));
          if (live && live->state != ReplicaState::kTerminating) {
            SPOTOPT_RETURN_IF_ERROR(FailReplica(tx, *live, "standby interrupted", now));
            i.replica_id = live->id;
          }
          i.decision = "standby replica lost";
        } else if (role == Role::kOther) {
          i.decision = "recorded; instance is not the primary";
        }
        SPOTOPT_RETURN_IF_ERROR(tx.InsertIncident(i));
        return SignalResult{std::move(i), false};
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
