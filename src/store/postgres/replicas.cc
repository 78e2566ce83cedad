// PgTransaction: replicas and interruption incidents.
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

absl::StatusOr<Replica> PgTransaction::GetReplica(std::string_view id) {
  return Get<Replica>(kGetReplica, "replica", id);
}
absl::Status PgTransaction::InsertReplica(const Replica& r) {
  return InsertConstrained(kInsertReplica, "insert replica", r, kGetReplica, r.id);
}
absl::Status PgTransaction::UpdateReplica(const Replica& r) {
  return Update(kUpdateReplica, "update replica", r, /*guarded=*/true, kGetReplica, r.id);
}
absl::StatusOr<std::vector<Replica>> PgTransaction::ListReplicas(std::string_view agent_id) {
  return List<Replica>(kListReplicas, "list replicas", agent_id);
}
absl::StatusOr<std::vector<Replica>> PgTransaction::ListLiveReplicas() {
  return List<Replica>(kListLiveReplicas, "list live replicas");
}

absl::StatusOr<Incident> PgTransaction::GetIncident(std::string_view id) {
  return Get<Incident>(kGetIncident, "incident", id);
}
absl::Status PgTransaction::InsertIncident(const Incident& i) {
  return InsertKeyed(kInsertIncident, "insert incident", i, i.id);
}
absl::Status PgTransaction::UpdateIncident(const Incident& i) {
  return Update(kUpdateIncident, "update incident", i, /*guarded=*/false);
}
absl::StatusOr<std::vector<Incident>> PgTransaction::ListIncidents(std::string_view agent_id) {
  return List<Incident>(kListIncidents, "list incidents", agent_id);
}
absl::StatusOr<std::vector<Incident>> PgTransaction::ListOpenIncidents() {
  return List<Incident>(kListOpenIncidents, "list open incidents");
}
absl::StatusOr<std::vector<Incident>> PgTransaction::ListTenantIncidentsSince(
    std::string_view tenant_id, Time since) {
  return List<Incident>(kListTenantIncidentsSince, "list recent incidents", tenant_id, since);
}

void PgTransaction::BindRow(Params& p, const Replica& r, const std::string& doc) {
  p.Add(r.id);
  p.Add(r.tenant_id);
  p.Add(r.agent_id);
  p.Add(ToString(r.state));
  p.Add(r.instance_id);
  p.Add(r.created_at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const Incident& i, const std::string& doc) {
  p.Add(i.id);
  p.Add(i.tenant_id);
  p.Add(i.agent_id);
  p.Add(i.instance_id);
  p.Add(ToString(i.signal));
  p.Add(i.notice_time);
  p.Add(i.first_seen);
  p.Add(i.closed_at);
  p.Add(doc);
}

}  // namespace spotopt::pg
