#include "store/memory/state.h"

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>

#include "fmt/format.h"

namespace spotopt::memory {

bool SameIdentity(const CompactAgent& a, const CompactAgent& b) {
  return a.tenant_id == b.tenant_id && a.created_at == b.created_at;
}
bool SameIdentity(const CompactRegistration& a, const CompactRegistration& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.instance_id == b.instance_id &&
         a.created_at == b.created_at;
}
bool SameIdentity(const Command& a, const Command& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.type == b.type &&
         a.created_at == b.created_at;
}
bool SameIdentity(const Replica& a, const Replica& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.created_at == b.created_at;
}
bool SameIdentity(const CompactRunSegment& a, const CompactRunSegment& b) {
  return a.tenant_id == b.tenant_id && a.agent_id == b.agent_id && a.instance_id == b.instance_id &&
         a.role == b.role && a.placement == b.placement && a.started_at == b.started_at;
}

void Database::Undo(UndoEntry& entry) {
  std::visit(
      [&](auto& op) {
        using Op = std::decay_t<decltype(op)>;
        if constexpr (requires { op.old; }) {
          Replace<typename Op::Record>(entry.row, *op.old);
        } else if constexpr (requires { typename Op::Record; }) {
          RemoveLast<typename Op::Record>(entry.row);
        } else if constexpr (std::is_same_v<Op, std::unique_ptr<PriceDeletion>>) {
          prices.Restore(*op);
        } else {
          static_assert(std::is_same_v<Op, std::unique_ptr<DecisionUndo>>);
          decisions.Undo(*op);
        }
      },
      entry.op);
}

absl::Status Database::Check(const CompactAgent& a, std::optional<Row> self) {
  std::optional<Row> other = agent_by_logical.Find(LogicalKey()(a));
  if (other && other != self) {
    return absl::FailedPreconditionError(fmt::format(
        "tenant {} already has an agent with logical id {}", names[a.tenant_id], a.logical_id));
  }
  return absl::OkStatus();
}

absl::Status Database::Check(const CompactRegistration& r, std::optional<Row> self) {
  std::optional<Row> other = registration_by_instance.Find(InstanceKey()(r));
  if (other && other != self) {
    return absl::FailedPreconditionError(
        fmt::format("agent {} already has a registration for instance {}", KeyText(r.agent_id),
                    names[r.instance_id]));
  }
  return absl::OkStatus();
}

absl::Status Database::Check(const Command& c, std::optional<Row> self) {
  if (IsClosed(c.state)) return absl::OkStatus();
  for (Row row : open_commands_by_agent.Of(c.agent_id)) {
    if (row == self) continue;
    const Command& other = rows<Command>()[row];
    if (c.state == CommandState::kLeased && other.state == CommandState::kLeased) {
      return absl::FailedPreconditionError(
          fmt::format("agent {} already has leased command {}", c.agent_id, other.id));
    }
    if (c.is_placement() && other.is_placement()) {
      return absl::FailedPreconditionError(
          fmt::format("agent {} already has open placement command {}", c.agent_id, other.id));
    }
  }
  return absl::OkStatus();
}

absl::Status Database::Check(const Replica& r, std::optional<Row> self) {
  if (!IsLive(r.state)) return absl::OkStatus();
  auto it = live_replica_by_agent.find(r.agent_id);
  if (it != live_replica_by_agent.end() && it->second != self) {
    return absl::FailedPreconditionError(fmt::format("agent {} already has live replica {}",
                                                     r.agent_id, rows<Replica>()[it->second].id));
  }
  return absl::OkStatus();
}

absl::Status Database::Check(const CompactRunSegment& s, std::optional<Row> self) {
  if (s.ended_at.has_value()) return absl::OkStatus();
  std::optional<Row> other = open_segments.Find(OpenSegmentKey()(s));
  if (other && other != self) {
    return absl::FailedPreconditionError(fmt::format(
        "agent {} already has open {} run segment {} for instance {}", KeyText(s.agent_id),
        ToString(s.role), KeyText(rows<RunSegment>()[*other].id), names[s.instance_id]));
  }
  return absl::OkStatus();
}

void Database::Relink(const Tenant*, const Tenant*, Row) {}

void Database::Relink(const ApiToken* before, const ApiToken* after, Row row) {
  tokens_by_tenant.Relist(before, after, row);
}

absl::flat_hash_set<Row>* Database::ModeSet(const CompactAgent* a) {
  if (a == nullptr || a->lifecycle != Lifecycle::kActive) return nullptr;
  return &active_agents_by_mode[static_cast<int>(a->config.replica_mode)];
}

void Database::Relink(const CompactAgent* before, const CompactAgent* after, Row row) {
  agents_by_tenant.Relist(before, after, row);
  MoveInSets(ModeSet(before), ModeSet(after), row);
}

void Database::Relink(const AgentAlias* before, const AgentAlias* after, Row row) {
  aliases_by_tenant.Relist(before, after, row);
}

void Database::Relink(const CompactRegistration* before, const CompactRegistration* after,
                      Row row) {
  registrations_by_agent.Relist(before, after, row);
}

const Command* Database::IfOpen(const Command* c) {
  return c != nullptr && !IsClosed(c->state) ? c : nullptr;
}

void Database::Relink(const Command* before, const Command* after, Row row) {
  commands_by_agent.Relist(before, after, row);
  open_commands_by_agent.Relist(IfOpen(before), IfOpen(after), row);
}

const std::string* Database::LiveOwner(const Replica* r) {
  return r != nullptr && IsLive(r->state) ? &r->agent_id : nullptr;
}

void Database::Relink(const Replica* before, const Replica* after, Row row) {
  replicas_by_agent.Relist(before, after, row);
  const std::string* was_live = LiveOwner(before);
  const std::string* now_live = LiveOwner(after);
  if (was_live != nullptr && now_live != nullptr && *was_live == *now_live) return;
  if (was_live != nullptr) live_replica_by_agent.erase(*was_live);
  if (now_live != nullptr) live_replica_by_agent[*now_live] = row;
}

absl::flat_hash_set<Row>* Database::OpenSet(const Incident* i) {
  return i != nullptr && !i->closed_at.has_value() ? &open_incidents : nullptr;
}

void Database::Relink(const Incident* before, const Incident* after, Row row) {
  incidents_by_agent.Relist(before, after, row);
  MoveInSets(OpenSet(before), OpenSet(after), row);
}

void Database::Relink(const AgentEvent* before, const AgentEvent* after, Row row) {
  events_by_agent.Relist(before, after, row);
}

void Database::Relink(const SwitchRecord* before, const SwitchRecord* after, Row row) {
  switches_by_agent.Relist(before, after, row);
}

void Database::Relink(const CleanupLog* before, const CleanupLog* after, Row row) {
  cleanup_logs_by_agent.Relist(before, after, row);
}

void Database::Relink(const CompactRunSegment* before, const CompactRunSegment* after, Row row) {
  run_segments_by_agent.Relist(before, after, row);
  run_segments_by_tenant.Relist(before, after, row);
}

}  // namespace spotopt::memory
