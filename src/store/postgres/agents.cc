// PgTransaction: agents, their aliases, and registrations with their liveness (a
// narrow table of its own, which held heartbeats rewrite in batches).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

absl::StatusOr<Agent> PgTransaction::GetAgent(std::string_view id) {
  return Get<Agent>(kGetAgent, "agent", id);
}
absl::StatusOr<Agent> PgTransaction::FindAgent(std::string_view tenant_id,
                                               std::string_view logical_id) {
  return Get<Agent>(kFindAgent, "agent", tenant_id, logical_id);
}
absl::Status PgTransaction::InsertAgent(const Agent& a) {
  return InsertConstrained(kInsertAgent, "insert agent", a, kGetAgent, a.id);
}
absl::Status PgTransaction::UpdateAgent(const Agent& a) {
  return Update(kUpdateAgent, "update agent", a, /*guarded=*/true, kGetAgent, a.id);
}
absl::StatusOr<std::vector<Agent>> PgTransaction::ListAgents(std::string_view tenant_id) {
  return List<Agent>(kListAgents, "list agents", tenant_id);
}
absl::StatusOr<std::vector<Agent>> PgTransaction::ListAgentsByReplicaMode(ReplicaMode mode) {
  return List<Agent>(kListAgentsByReplicaMode, "list agents", ToString(mode));
}

absl::StatusOr<AgentAlias> PgTransaction::FindAlias(std::string_view tenant_id,
                                                    std::string_view logical_id) {
  return Get<AgentAlias>(kFindAlias, "alias", tenant_id, logical_id);
}
absl::Status PgTransaction::InsertAlias(const AgentAlias& a) {
  return InsertKeyed(kInsertAlias, "insert alias", a, a.logical_id);
}
absl::StatusOr<std::vector<AgentAlias>> PgTransaction::ListAliases(std::string_view tenant_id) {
  return List<AgentAlias>(kListAliases, "list aliases", tenant_id);
}

absl::StatusOr<Registration> PgTransaction::GetRegistration(std::string_view id) {
  return WithHeldBeat(Get<Registration>(kGetRegistration, "registration", id));
}
absl::StatusOr<Registration> PgTransaction::FindRegistration(std::string_view agent_id,
                                                             std::string_view instance_id) {
  return WithHeldBeat(Get<Registration>(kFindRegistration, "registration", agent_id, instance_id));
}
absl::Status PgTransaction::InsertRegistration(const Registration& r) {
  absl::Status s =
      InsertConstrained(kInsertRegistration, "insert registration", r, kGetRegistration, r.id);
  return s.ok() ? PutLiveness(r) : s;
}
absl::Status PgTransaction::UpdateRegistration(const Registration& r) {
  absl::Status s = Update(kUpdateRegistration, "update registration", r, /*guarded=*/false,
                          kGetRegistration, r.id);
  return s.ok() ? PutLiveness(r) : s;
}
absl::StatusOr<std::vector<Registration>> PgTransaction::ListRegistrations(
    std::string_view agent_id) {
  absl::StatusOr<std::vector<Registration>> list =
      List<Registration>(kListRegistrations, "list registrations", agent_id);
  if (list.ok()) {
    for (Registration& r : *list) store_->ApplyHeld(r);
  }
  return list;
}

absl::Status PgTransaction::PutLiveness(const Registration& r) {
  Params p(std::string_view(r.id), r.last_seen_at);
  return Write(kPutLiveness, p, "write registration liveness", /*guarded=*/false).status();
}

absl::StatusOr<Registration> PgTransaction::WithHeldBeat(absl::StatusOr<Registration> r) {
  if (r.ok()) store_->ApplyHeld(*r);
  return r;
}

void PgTransaction::BindRow(Params& p, const Agent& a, const std::string& doc) {
  p.Add(a.id);
  p.Add(a.tenant_id);
  p.Add(a.logical_id);
  p.Add(ToString(a.lifecycle));
  p.Add(ToString(a.config.replica_mode));
  p.Add(a.placement.instance_id);
  p.Add(a.created_at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const AgentAlias& a, const std::string& doc) {
  p.Add(a.tenant_id);
  p.Add(a.logical_id);
  p.Add(a.agent_id);
  p.Add(a.created_at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const Registration& r, const std::string& doc) {
  p.Add(r.id);
  p.Add(r.tenant_id);
  p.Add(r.agent_id);
  p.Add(r.instance_id);
  p.Add(r.created_at);
  p.Add(doc);
}

}  // namespace spotopt::pg
