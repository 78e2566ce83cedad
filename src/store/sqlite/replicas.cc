// SqliteTransaction: replicas and interruption incidents.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

absl::StatusOr<Replica> SqliteTransaction::GetReplica(std::string_view id) {
  return Get<Replica>(kGetReplica, "replica", id);
}
absl::Status SqliteTransaction::InsertReplica(const Replica& r) {
  return Insert(kInsertReplica, "insert replica", r, kGetReplica, r.id);
}
absl::Status SqliteTransaction::UpdateReplica(const Replica& r) {
  return UpdateIdentified(kUpdateReplica, "update replica", r, kGetReplica, r.id);
}
absl::StatusOr<std::vector<Replica>> SqliteTransaction::ListReplicas(std::string_view agent_id) {
  return List<Replica>(kListReplicas, "list replicas", agent_id);
}
absl::StatusOr<std::vector<Replica>> SqliteTransaction::ListLiveReplicas() {
  return List<Replica>(kListLiveReplicas, "list live replicas");
}

absl::StatusOr<Incident> SqliteTransaction::GetIncident(std::string_view id) {
  return Get<Incident>(kGetIncident, "incident", id);
}
absl::Status SqliteTransaction::InsertIncident(const Incident& i) {
  return Insert(kInsertIncident, "insert incident", i, kGetIncident, i.id);
}
absl::Status SqliteTransaction::UpdateIncident(const Incident& i) {
  return Write(kUpdateIncident, "update incident", i);
}
absl::StatusOr<std::vector<Incident>> SqliteTransaction::ListIncidents(std::string_view agent_id) {
  return List<Incident>(kListIncidents, "list incidents", agent_id);
}
absl::StatusOr<std::vector<Incident>> SqliteTransaction::ListOpenIncidents() {
  return List<Incident>(kListOpenIncidents, "list open incidents");
}
absl::StatusOr<std::vector<Incident>> SqliteTransaction::ListTenantIncidentsSince(
    std::string_view tenant_id, Time since) {
  return List<Incident>(kListTenantIncidentsSince, "list recent incidents", tenant_id, since);
}

void SqliteTransaction::BindRow(Query& q, const Replica& r, const std::string& doc) {
  q.Bind(1, r.id);
  q.Bind(2, r.tenant_id);
  q.Bind(3, r.agent_id);
  q.Bind(4, ToString(r.state));
  q.Bind(5, r.instance_id);
  q.Bind(6, r.created_at);
  q.Bind(7, doc);
}
void SqliteTransaction::BindRow(Query& q, const Incident& i, const std::string& doc) {
  q.Bind(1, i.id);
  q.Bind(2, i.tenant_id);
  q.Bind(3, i.agent_id);
  q.Bind(4, i.instance_id);
  q.Bind(5, ToString(i.signal));
  q.Bind(6, i.notice_time);
  q.Bind(7, i.first_seen);
  q.Bind(8, i.closed_at);
  q.Bind(9, doc);
}

}  // namespace spotopt::sqlite
