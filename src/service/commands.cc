// The command queue: enqueue guards, at-most-once delivery, acknowledgements
// (protocol section 6).
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/enum_text.h"
#include "service/use_case.h"

namespace spotopt {
namespace {

bool IsAutomatic(Priority p) {
  return p == Priority::kUrgent || p == Priority::kNormal || p == Priority::kScheduled;
}

// Successful switches of the agent closed in (now - window, now].
int64_t CountSwitches(const std::vector<Command>& commands, Time now, Duration window) {
  int64_t n = 0;
  for (const Command& c : commands) {
    n += c.is_placement() && c.state == CommandState::kSucceeded && c.closed_at &&
         *c.closed_at > now - window;
  }
  return n;
}

absl::Status CheckSwitchLimits(const Agent& agent, const SwitchRequest& req,
                               const std::vector<Command>& history, Time now, EnqueueCheck check) {
  const AgentConfig& cfg = agent.config;
  const int64_t day = CountSwitches(history, now, absl::Hours(24));
  if (day >= cfg.max_switches_per_day) return Refused("max_switches_per_day reached");
  const int64_t week = CountSwitches(history, now, absl::Hours(24 * 7));
  if (week >= cfg.max_switches_per_week) return Refused("max_switches_per_week reached");
  if (req.priority == Priority::kEmergency) return absl::OkStatus();  // answers a risk
  if (now - agent.placement_since < absl::Hours(1) * cfg.min_pool_duration_hours) {
    return Refused("min_pool_duration_hours not reached");
  }
  if (IsAutomatic(req.priority) && check == EnqueueCheck::kFull) {
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

}  // namespace

absl::Status ValidateSwitchRequest(const SwitchRequest& req) {
  SPOTOPT_RETURN_IF_ERROR(PriorityFromInt(static_cast<int>(req.priority)).status());
  if (!req.reason.empty()) SPOTOPT_RETURN_IF_ERROR(ValidateShortString(req.reason, "reason"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(req.requested_by, "requested_by"));
  if (req.ttl && *req.ttl <= absl::ZeroDuration()) return Invalid("ttl", "must be positive");
  if (req.override_limits && req.priority != Priority::kManual) {
    return Invalid("override_limits", "only manual switches may override the limits");
  }
  if (!IsValidEnum(req.target_mode)) return Invalid("target_mode", "unknown mode");
  if (req.target_mode == Mode::kSpot) {
    if (req.target_pool_id.empty()) return Invalid("target_pool_id", "a spot target needs a pool");
  } else if (!req.target_pool_id.empty()) {
    return Invalid("target_pool_id", "an on-demand target has no pool");
  }
  return absl::OkStatus();
}

absl::StatusOr<Command> EnqueueSwitchInTx(Transaction& tx, const Agent& agent,
                                          const SwitchRequest& req, Time now, EnqueueCheck check) {
  if (!agent.config.enabled) return Refused("agent is disabled");
  if (req.priority != Priority::kManual && !agent.config.auto_switch) {
    return Refused("auto switch is off for this agent");
  }
  const Placement& here = agent.placement;
  if (req.target_mode == Mode::kSpot) {
    SPOTOPT_ASSIGN_OR_RETURN(Pool pool, ParsePoolId(req.target_pool_id, here.region));
    if (here.instance_type.empty()) return Refused("the agent's instance type is unknown");
    const std::vector<std::string>& compatible = agent.config.compatible_instance_types;
    if (pool.instance_type != here.instance_type &&
        std::find(compatible.begin(), compatible.end(), pool.instance_type) == compatible.end()) {
      return Invalid("target_pool_id",
                     "the agent keeps its instance type unless compatible_instance_types lists "
                     "the target's");
    }
    if (here.mode == Mode::kSpot && pool.az == here.az &&
        pool.instance_type == here.instance_type) {
      return Refused("the agent already runs in that pool");
    }
  } else if (here.mode == Mode::kOnDemand) {
    return Refused("the agent already runs on demand");
  }

  SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> history, tx.ListCommands(agent.id));
  if (!req.override_limits) {
    SPOTOPT_RETURN_IF_ERROR(CheckSwitchLimits(agent, req, history, now, check));
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
}

// ---- Commands ------------------------------------------------------------------

absl::StatusOr<Command> Controller::EnqueueSwitch(std::string_view tenant_id,
                                                  std::string_view agent_id,
                                                  const SwitchRequest& req) {
  SPOTOPT_RETURN_IF_ERROR(ValidateSwitchRequest(req));
  const Time now = clock_->Now();
  return InTransaction(*store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<Command> {
    SPOTOPT_ASSIGN_OR_RETURN(Agent agent, LoadAgent(tx, tenant_id, agent_id));
    return EnqueueSwitchInTx(tx, agent, req, now);
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
    if (absl::IsNotFound(c.status()) || (c.ok() && c->tenant_id != tenant_id)) {
      return NotFound("command");
    }
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

}  // namespace spotopt
