#include "store/sql.h"

#include <fmt/format.h>

#include "spotopt/domain/agent.h"
#include "spotopt/domain/command.h"
#include "spotopt/domain/replica.h"
#include "spotopt/domain/report.h"
#include "spotopt/domain/run_segment.h"

namespace spotopt::sql {
namespace {

// The columns of a price observation, in the order both stores read them.
constexpr std::string_view kPriceColumns =
    "seq, tenant_id, agent_id, registration_id, region, az, instance_type, kind, price_micros, "
    "observed_at, received_at, server_received, source";

constexpr UniqueRule kUniqueRules[] = {
    {"commands_id_key", "commands.id", absl::StatusCode::kAlreadyExists,
     "a command with this id already exists"},
    {"commands_one_leased", "commands.agent_id, commands.state",
     absl::StatusCode::kFailedPrecondition, "the agent already has a LEASED command"},
    {"commands_one_open_placement", "commands.agent_id, commands.type",
     absl::StatusCode::kFailedPrecondition,
     "the agent already has a placement command PENDING or LEASED"},
    {"replicas_one_live", "replicas.agent_id", absl::StatusCode::kFailedPrecondition,
     "the agent already has a live replica"},
    {"registrations_agent_instance", "registrations.agent_id, registrations.instance_id",
     absl::StatusCode::kFailedPrecondition,
     "the instance already has a registration under this agent"},
    {"agents_logical_id", "agents.tenant_id, agents.logical_id",
     absl::StatusCode::kFailedPrecondition, "the tenant already has an agent with this logical id"},
    {"run_segments_one_open", "run_segments.agent_id, run_segments.instance_id, run_segments.role",
     absl::StatusCode::kFailedPrecondition,
     "the instance already has an open run segment in this role under this agent"},
};

}  // namespace

std::string FormatSql(std::string_view text) {
  return fmt::format(fmt::runtime(text), fmt::arg("active", ToString(Lifecycle::kActive)),
                     fmt::arg("pending", ToString(CommandState::kPending)),
                     fmt::arg("leased", ToString(CommandState::kLeased)),
                     fmt::arg("switch", ToString(CommandType::kSwitch)),
                     fmt::arg("promoted", ToString(ReplicaState::kPromoted)),
                     fmt::arg("failed", ToString(ReplicaState::kFailed)),
                     fmt::arg("terminated", ToString(ReplicaState::kTerminated)),
                     fmt::arg("spot", ToString(PriceKind::kSpot)),
                     fmt::arg("ondemand", ToString(PriceKind::kOnDemand)),
                     fmt::arg("primary_role", ToString(RunRole::kPrimary)),
                     fmt::arg("price_columns", kPriceColumns));
}

const UniqueRule* FindUniqueRule(std::string_view index, std::string_view sqlite_columns) {
  for (const UniqueRule& rule : kUniqueRules) {
    if ((!index.empty() && rule.index == index) ||
        (!sqlite_columns.empty() && rule.sqlite_columns == sqlite_columns)) {
      return &rule;
    }
  }
  return nullptr;
}

}  // namespace spotopt::sql
