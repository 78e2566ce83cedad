// What agents report besides prices: switches (protocol section 5.7) and cleanup
// logs (5.15). Prices are in prices.cc.
#include "spotopt/service/controller.h"

#include <fmt/format.h>

#include "service/use_case.h"

namespace spotopt {

// ---- Switches -----------------------------------------------------------------------

namespace {

// A pool id names an AZ of the instance's region (the agent's when not sent).
absl::Status ValidateSwitchInstance(const SwitchInstance& s, std::string_view side,
                                    std::string_view agent_region) {
  SPOTOPT_RETURN_IF_ERROR(ValidateInstanceId(s.instance_id, fmt::format("{}.instance_id", side)));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalShort(s.instance_type, fmt::format("{}.instance_type", side)));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(s.region, fmt::format("{}.region", side)));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(s.az, fmt::format("{}.az", side)));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(s.ami_id, fmt::format("{}.ami_id", side)));
  if (s.pool_id.empty()) return absl::OkStatus();
  absl::StatusOr<Pool> pool = ParsePoolId(s.pool_id, s.region.empty() ? agent_region : s.region);
  if (!pool.ok()) {
    return Invalid(fmt::format("{}.pool_id", side), std::string(pool.status().message()));
  }
  return absl::OkStatus();
}

// Where an instance of the report runs; unknown parts come from `fallback`.
Placement PlacementOf(const SwitchInstance& s, const Placement& fallback) {
  Placement p{s.instance_id, s.instance_type, s.region, s.az, s.mode.value_or(fallback.mode)};
  if (p.instance_type.empty()) p.instance_type = fallback.instance_type;
  if (p.region.empty()) p.region = fallback.region;
  if (p.az.empty() && !s.pool_id.empty()) p.az = s.pool_id.substr(s.pool_id.rfind('.') + 1);
  return p;
}

// Does a placement command ask for exactly this target?
bool Targets(const Command& c, const Placement& to) {
  if (c.target_mode != to.mode) return false;
  if (to.mode == Mode::kOnDemand) return true;
  return c.target_pool_id && to.pool() && *c.target_pool_id == to.pool()->id();
}

}  // namespace

absl::StatusOr<SwitchRecord> Controller::ReportSwitch(std::string_view tenant_id,
                                                      std::string_view registration_id,
                                                      const SwitchReport& report) {
  SPOTOPT_RETURN_IF_ERROR(
      ValidateInstanceId(report.old_instance.instance_id, "old_instance.instance_id"));
  SPOTOPT_RETURN_IF_ERROR(
      ValidateInstanceId(report.new_instance.instance_id, "new_instance.instance_id"));
  if (!report.new_instance.mode) return Invalid("new_instance.mode", "required");
  if (*report.new_instance.mode == Mode::kSpot && report.new_instance.az.empty() &&
      report.new_instance.pool_id.empty()) {
    return Invalid("new_instance.pool_id", "a spot target needs a pool or an AZ");
  }
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Money> on_demand,
                           ParseReportedPrice(report.on_demand_price, "prices.on_demand"));
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Money> old_spot,
                           ParseReportedPrice(report.old_spot_price, "prices.old_spot"));
  SPOTOPT_ASSIGN_OR_RETURN(std::optional<Money> new_spot,
                           ParseReportedPrice(report.new_spot_price, "prices.new_spot"));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalTime(report.timings.initiated_at, "timing.switch_initiated_at"));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalTime(report.timings.launched_at, "timing.new_instance_launched_at"));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalTime(report.timings.ready_at, "timing.new_instance_ready_at"));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalTime(report.timings.traffic_switched_at, "timing.traffic_switched_at"));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalTime(report.timings.old_terminated_at, "timing.old_instance_terminated_at"));
  SPOTOPT_RETURN_IF_ERROR(
      CheckOptionalTime(report.timings.ami_created_at, "timing.ami_created_at"));
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalShort(report.trigger, "trigger"));
  if (!report.command_id.empty()) SPOTOPT_RETURN_IF_ERROR(CheckId(report.command_id, "command"));
  const Time now = clock_->Now();

  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<SwitchRecord> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
        Agent& agent = c.agent;
        const std::string& region = agent.placement.region;
        SPOTOPT_RETURN_IF_ERROR(
            ValidateSwitchInstance(report.old_instance, "old_instance", region));
        SPOTOPT_RETURN_IF_ERROR(
            ValidateSwitchInstance(report.new_instance, "new_instance", region));
        if (report.old_instance.instance_id != c.registration.instance_id) {
          return Refused("old_instance.instance_id is not this registration's instance");
        }
        const bool primary = c.registration.instance_id == agent.placement.instance_id;
        const Placement from =
            primary ? agent.placement : PlacementOf(report.old_instance, agent.placement);
        const Placement to = PlacementOf(report.new_instance, agent.placement);

        // Step 2: the command this switch carried out.
        std::optional<Command> command;
        if (!report.command_id.empty()) {
          SPOTOPT_ASSIGN_OR_RETURN(command, LoadCommand(tx, agent, report.command_id));
          if (!command->is_placement()) return Refused("command_id does not name a switch");
        } else {
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> commands, tx.ListCommands(agent.id));
          for (Command& cmd : commands) {
            if (cmd.is_placement() && cmd.leased_at && cmd.lease_holder == c.registration.id &&
                InSuccessorWindow(cmd, options_, now) && Targets(cmd, to)) {
              command = std::move(cmd);
              break;
            }
          }
        }

        // Step 3: create the record, or complete the one a successor started.
        bool existed = false;
        SPOTOPT_ASSIGN_OR_RETURN(SwitchRecord rec,
                                 FindOrNewSwitch(tx, agent, report.old_instance.instance_id,
                                                 report.new_instance.instance_id, now, &existed));
        if (!existed) {
          rec.from = from;
          rec.to = to;
        }
        const auto merge = [](std::optional<Time>& into, const std::optional<Time>& t) {
          if (t) into = t;
        };
        merge(rec.timings.initiated_at, report.timings.initiated_at);
        merge(rec.timings.launched_at, report.timings.launched_at);
        merge(rec.timings.ready_at, report.timings.ready_at);
        merge(rec.timings.traffic_switched_at, report.timings.traffic_switched_at);
        merge(rec.timings.old_terminated_at, report.timings.old_terminated_at);
        merge(rec.timings.ami_created_at, report.timings.ami_created_at);
        if (on_demand) rec.on_demand_price = on_demand;
        if (old_spot) rec.old_spot_price = old_spot;
        if (new_spot) rec.new_spot_price = new_spot;
        if (!report.trigger.empty()) rec.trigger = report.trigger;
        rec.reported = true;
        if (command) {
          rec.command_id = command->id;
          rec.reason = command->reason;
          rec.requested_by = command->requested_by;
        }
        rec.unsolicited = rec.command_id.empty();
        rec.updated_at = now;

        // Step 4: a report is proof of success.
        if (command && command->state == CommandState::kLeased) {
          SPOTOPT_RETURN_IF_ERROR(
              TransitionCommand(*command, CommandEvent::kSucceed, now, "switch reported"));
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateCommand(*command));
        }

        // Steps 5-7: only the primary's report moves the placement.
        InstanceState fate = InstanceState::kRetained;
        if (report.timings.old_terminated_at) {
          fate = InstanceState::kTerminated;
        } else if (command && command->terminate_wait_seconds > 0) {
          fate = InstanceState::kTerminating;
        }
        bool move = primary && command.has_value();
        if (primary && !command) {
          SPOTOPT_ASSIGN_OR_RETURN(std::vector<Command> open, tx.ListOpenCommands(agent.id));
          move = std::none_of(open.begin(), open.end(),
                              [](const Command& cmd) { return cmd.is_placement(); });
        }
        if (move) {
          // The old primary runs until it reported itself gone, else for the wait.
          std::optional<Time> old_runs_until = report.timings.old_terminated_at;
          if (!old_runs_until && command) {
            old_runs_until = now + absl::Seconds(command->terminate_wait_seconds);
          }
          SPOTOPT_RETURN_IF_ERROR(MovePlacement(tx, agent, to, fate, command ? command->id : "",
                                                "switch reported", now, old_runs_until));
        } else if (!command) {
          SPOTOPT_RETURN_IF_ERROR(tx.InsertEvent(MakeEvent(
              agent, EventKind::kIdentityConflict, report.new_instance.instance_id,
              fmt::format("unsolicited switch {} -> {} reported; placement not moved",
                          report.old_instance.instance_id, report.new_instance.instance_id),
              now)));
        }
        SPOTOPT_RETURN_IF_ERROR(existed ? tx.UpdateSwitch(rec) : tx.InsertSwitch(rec));
        return rec;
      });
}

absl::StatusOr<std::vector<SwitchRecord>> Controller::ListSwitches(std::string_view tenant_id,
                                                                   std::string_view agent_id) {
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<SwitchRecord>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListSwitches(a.id);
      });
}

// ---- Cleanup --------------------------------------------------------------------------

namespace {

absl::StatusOr<CleanupSection> CleanSection(const CleanupSection& in, std::string_view name) {
  CleanupSection out;
  const auto ids = [&](const std::vector<std::string>& list, std::string_view key,
                       std::vector<std::string>* into) -> absl::Status {
    const std::string field = fmt::format("{}.{}", name, key);
    if (list.size() > kMaxCleanupIds) {
      return Invalid(field, fmt::format("at most {} entries", kMaxCleanupIds));
    }
    for (const std::string& id : list) SPOTOPT_RETURN_IF_ERROR(ValidateShortString(id, field));
    *into = list;
    return absl::OkStatus();
  };
  SPOTOPT_RETURN_IF_ERROR(ids(in.deleted_snapshots, "deleted_snapshots", &out.deleted_snapshots));
  SPOTOPT_RETURN_IF_ERROR(ids(in.deleted_amis, "deleted_amis", &out.deleted_amis));
  if (in.failed.size() > kMaxCleanupIds) {
    return Invalid(fmt::format("{}.failed", name),
                   fmt::format("at most {} entries", kMaxCleanupIds));
  }
  for (const CleanupFailure& f : in.failed) {
    // Free text is cut, never refused; a failure without an id is still a failure.
    out.failed.push_back(CleanupFailure{SanitizeFreeText(f.id.substr(0, kMaxShortString)),
                                        SanitizeFreeText(f.error)});
  }
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalTime(in.cutoff, fmt::format("{}.cutoff_date", name)));
  out.cutoff = in.cutoff;
  out.error = SanitizeFreeText(in.error);
  return out;
}

}  // namespace

absl::StatusOr<CleanupResult> Controller::ReportCleanup(std::string_view tenant_id,
                                                        std::string_view registration_id,
                                                        const CleanupReport& report) {
  CleanupLog log;
  if (report.snapshots) {
    SPOTOPT_ASSIGN_OR_RETURN(log.snapshots, CleanSection(*report.snapshots, "snapshots"));
  }
  if (report.amis) {
    SPOTOPT_ASSIGN_OR_RETURN(log.amis, CleanSection(*report.amis, "amis"));
  }
  SPOTOPT_RETURN_IF_ERROR(CheckOptionalTime(report.timestamp, "timestamp"));
  const Time now = clock_->Now();
  return InTransaction(
      *store_, TxMode::kWrite, [&](Transaction& tx) -> absl::StatusOr<CleanupResult> {
        SPOTOPT_ASSIGN_OR_RETURN(Caller c, LoadCaller(tx, tenant_id, registration_id));
        log.id = NewId();
        log.tenant_id = c.agent.tenant_id;
        log.agent_id = c.agent.id;
        log.registration_id = c.registration.id;
        log.reported_at = report.timestamp.value_or(now);
        log.received_at = now;
        SPOTOPT_RETURN_IF_ERROR(tx.InsertCleanupLog(log));
        if (!c.registration.last_cleanup_at || *c.registration.last_cleanup_at < log.reported_at) {
          c.registration.last_cleanup_at = log.reported_at;
          SPOTOPT_RETURN_IF_ERROR(tx.UpdateRegistration(c.registration));
        }
        return CleanupResult{log, log.deleted_snapshots(), log.deleted_amis(), log.failed()};
      });
}

absl::StatusOr<std::vector<CleanupLog>> Controller::ListCleanupLogs(std::string_view tenant_id,
                                                                    std::string_view agent_id) {
  return InTransaction(
      *store_, TxMode::kRead, [&](Transaction& tx) -> absl::StatusOr<std::vector<CleanupLog>> {
        SPOTOPT_ASSIGN_OR_RETURN(Agent a, LoadAgent(tx, tenant_id, agent_id, true));
        return tx.ListCleanupLogs(a.id);
      });
}

}  // namespace spotopt
