// MemoryTransaction: agents, their aliases and registrations.
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "fmt/format.h"
#include "store/memory/transaction.h"

namespace spotopt::memory {

namespace {

bool AgentLess(const Agent& a, const Agent& b) { return a.id < b.id; }
bool AliasLess(const AgentAlias& a, const AgentAlias& b) { return a.logical_id < b.logical_id; }
bool RegistrationLess(const Registration& a, const Registration& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}

}  // namespace

absl::StatusOr<Agent> MemoryTransaction::GetAgent(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<Agent>(id);
}
absl::StatusOr<Agent> MemoryTransaction::FindAgent(std::string_view tenant_id,
                                                   std::string_view logical_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  std::optional<Symbol> tenant = state_->Lookup<Symbol>(tenant_id);
  std::optional<Row> row =
      tenant ? state_->agent_by_logical.Find(Logical(*tenant, logical_id)) : std::nullopt;
  if (!row) {
    return absl::NotFoundError(fmt::format("agent {}/{} not found", tenant_id, logical_id));
  }
  return state_->Load<Agent>(*row);
}
absl::Status MemoryTransaction::InsertAgent(const Agent& a) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(a, undo_);
}
absl::Status MemoryTransaction::UpdateAgent(const Agent& a) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(a, undo_);
}
absl::StatusOr<std::vector<Agent>> MemoryTransaction::ListAgents(std::string_view tenant_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<Agent>(state_->agents_by_tenant, tenant_id, AgentLess);
}
absl::StatusOr<std::vector<Agent>> MemoryTransaction::ListAgentsByReplicaMode(ReplicaMode mode) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  const absl::flat_hash_set<Row>& set = state_->active_agents_by_mode[static_cast<int>(mode)];
  return state_->Collect<Agent>(std::vector<Row>(set.begin(), set.end()), AgentLess);
}

absl::StatusOr<AgentAlias> MemoryTransaction::FindAlias(std::string_view tenant_id,
                                                        std::string_view logical_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<AgentAlias>(KeyPair(tenant_id, logical_id));
}
absl::Status MemoryTransaction::InsertAlias(const AgentAlias& a) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(a, undo_);
}
absl::StatusOr<std::vector<AgentAlias>> MemoryTransaction::ListAliases(std::string_view tenant_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<AgentAlias>(state_->aliases_by_tenant, tenant_id, AliasLess);
}

absl::StatusOr<Registration> MemoryTransaction::GetRegistration(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<Registration>(id);
}
absl::StatusOr<Registration> MemoryTransaction::FindRegistration(std::string_view agent_id,
                                                                 std::string_view instance_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  std::optional<PackedId> agent = state_->Lookup<PackedId>(agent_id);
  std::optional<Symbol> instance = state_->Lookup<Symbol>(instance_id);
  std::optional<Row> row = agent && instance
                               ? state_->registration_by_instance.Find(Instance(*agent, *instance))
                               : std::nullopt;
  if (!row) {
    return absl::NotFoundError(fmt::format("registration {}/{} not found", agent_id, instance_id));
  }
  return state_->Load<Registration>(*row);
}
absl::Status MemoryTransaction::InsertRegistration(const Registration& r) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(r, undo_);
}
absl::Status MemoryTransaction::UpdateRegistration(const Registration& r) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(r, undo_);
}
absl::StatusOr<std::vector<Registration>> MemoryTransaction::ListRegistrations(
    std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<Registration>(state_->registrations_by_agent, agent_id,
                                           RegistrationLess);
}

}  // namespace spotopt::memory
