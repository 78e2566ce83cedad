// MemoryTransaction: replicas and interruption incidents.
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "fmt/format.h"
#include "store/memory/transaction.h"

namespace spotopt::memory {

namespace {

bool ReplicaLess(const Replica& a, const Replica& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}
bool IncidentLess(const Incident& a, const Incident& b) {
  return std::tie(a.first_seen, a.id) < std::tie(b.first_seen, b.id);
}

}  // namespace

absl::StatusOr<Replica> MemoryTransaction::GetReplica(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<Replica>(id);
}
absl::Status MemoryTransaction::InsertReplica(const Replica& r) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(r, undo_);
}
absl::Status MemoryTransaction::UpdateReplica(const Replica& r) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(r, undo_);
}
absl::StatusOr<std::vector<Replica>> MemoryTransaction::ListReplicas(std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<Replica>(state_->replicas_by_agent, agent_id, ReplicaLess);
}
absl::StatusOr<std::vector<Replica>> MemoryTransaction::ListLiveReplicas() {
  if (absl::Status s = Usable(); !s.ok()) return s;
  std::vector<Row> live;
  live.reserve(state_->live_replica_by_agent.size());
  for (const auto& [agent_id, row] : state_->live_replica_by_agent) live.push_back(row);
  return state_->Collect<Replica>(live, ReplicaLess);
}

absl::StatusOr<Incident> MemoryTransaction::GetIncident(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<Incident>(id);
}
absl::Status MemoryTransaction::InsertIncident(const Incident& i) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(i, undo_);
}
absl::Status MemoryTransaction::UpdateIncident(const Incident& i) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(i, undo_);
}
absl::StatusOr<std::vector<Incident>> MemoryTransaction::ListIncidents(std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<Incident>(state_->incidents_by_agent, agent_id, IncidentLess);
}
absl::StatusOr<std::vector<Incident>> MemoryTransaction::ListOpenIncidents() {
  if (absl::Status s = Usable(); !s.ok()) return s;
  const absl::flat_hash_set<Row>& open = state_->open_incidents;
  return state_->Collect<Incident>(std::vector<Row>(open.begin(), open.end()), IncidentLess);
}

absl::StatusOr<std::vector<Incident>> MemoryTransaction::ListTenantIncidentsSince(
    std::string_view tenant_id, Time since) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  const Rows<Incident>& incidents = state_->rows<Incident>();
  std::vector<Row> recent;
  for (size_t row = 0; row < incidents.size(); ++row) {
    const Incident& i = incidents[row];
    if (i.tenant_id == tenant_id && i.first_seen >= since) recent.push_back(static_cast<Row>(row));
  }
  return state_->Collect<Incident>(recent, IncidentLess);
}

}  // namespace spotopt::memory
