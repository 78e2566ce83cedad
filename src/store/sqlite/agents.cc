// SqliteTransaction: agents, their aliases, and registrations with their liveness
// (a narrow table of its own, which held heartbeats rewrite in batches).
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

absl::StatusOr<Agent> SqliteTransaction::GetAgent(std::string_view id) {
  if (Cacheable(changes_.agents, id)) {
    if (std::optional<Agent> hit = store_->cache().FindAgent(id, version_)) return *hit;
  }
  absl::StatusOr<Agent> a = Get<Agent>(kGetAgent, "agent", id);
  if (a.ok() && cached_ && mode_ == TxMode::kRead) store_->cache().FillAgent(*a, version_);
  return a;
}
absl::StatusOr<Agent> SqliteTransaction::FindAgent(std::string_view tenant_id,
                                                   std::string_view logical_id) {
  return Get<Agent>(kFindAgent, "agent", tenant_id, logical_id);
}
absl::Status SqliteTransaction::InsertAgent(const Agent& a) {
  return Changed(changes_.agents, a.id, Insert(kInsertAgent, "insert agent", a, kGetAgent, a.id));
}
absl::Status SqliteTransaction::UpdateAgent(const Agent& a) {
  return Changed(changes_.agents, a.id,
                 UpdateIdentified(kUpdateAgent, "update agent", a, kGetAgent, a.id));
}
absl::StatusOr<std::vector<Agent>> SqliteTransaction::ListAgents(std::string_view tenant_id) {
  return List<Agent>(kListAgents, "list agents", tenant_id);
}
absl::StatusOr<std::vector<Agent>> SqliteTransaction::ListAgentsByReplicaMode(ReplicaMode mode) {
  return List<Agent>(kListAgentsByReplicaMode, "list agents", ToString(mode));
}

absl::StatusOr<AgentAlias> SqliteTransaction::FindAlias(std::string_view tenant_id,
                                                        std::string_view logical_id) {
  return Get<AgentAlias>(kFindAlias, "alias", tenant_id, logical_id);
}
absl::Status SqliteTransaction::InsertAlias(const AgentAlias& a) {
  return Write(kInsertAlias, "insert alias", a);
}
absl::StatusOr<std::vector<AgentAlias>> SqliteTransaction::ListAliases(std::string_view tenant_id) {
  return List<AgentAlias>(kListAliases, "list aliases", tenant_id);
}

absl::StatusOr<Registration> SqliteTransaction::GetRegistration(std::string_view id) {
  if (Cacheable(changes_.registrations, id)) {
    if (std::optional<Registration> hit = store_->cache().FindRegistration(id, version_)) {
      return WithHeldBeat(*std::move(hit));
    }
  }
  absl::StatusOr<Registration> r = Get<Registration>(kGetRegistration, "registration", id);
  if (r.ok() && cached_ && mode_ == TxMode::kRead) {
    store_->cache().FillRegistration(*r, version_);
  }
  return WithHeldBeat(std::move(r));
}
absl::StatusOr<Registration> SqliteTransaction::FindRegistration(std::string_view agent_id,
                                                                 std::string_view instance_id) {
  return WithHeldBeat(Get<Registration>(kFindRegistration, "registration", agent_id, instance_id));
}
absl::Status SqliteTransaction::InsertRegistration(const Registration& r) {
  absl::Status s = Insert(kInsertRegistration, "insert registration", r, kGetRegistration, r.id);
  return Changed(changes_.registrations, r.id, s.ok() ? PutLiveness(r) : s);
}
absl::Status SqliteTransaction::UpdateRegistration(const Registration& r) {
  absl::Status s =
      UpdateIdentified(kUpdateRegistration, "update registration", r, kGetRegistration, r.id);
  return Changed(changes_.registrations, r.id, s.ok() ? PutLiveness(r) : s);
}
absl::StatusOr<std::vector<Registration>> SqliteTransaction::ListRegistrations(
    std::string_view agent_id) {
  absl::StatusOr<std::vector<Registration>> list =
      List<Registration>(kListRegistrations, "list registrations", agent_id);
  if (list.ok()) {
    for (Registration& r : *list) store_->ApplyHeld(r);
  }
  return list;
}
absl::Status SqliteTransaction::TouchRegistration(std::string_view id, Time at) {
  absl::Status s = WriteLiveness(kTouchRegistration, id, at);
  if (s.ok()) changes_.seen.emplace_back(id, at);
  return s;
}

absl::Status SqliteTransaction::PutLiveness(const Registration& r) {
  return WriteLiveness(kPutLiveness, r.id, r.last_seen_at);
}
absl::Status SqliteTransaction::WriteLiveness(Stmt stmt, std::string_view id, Time at) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  Query q(*conn_, stmt);
  q.Bind(1, id);
  q.Bind(2, at);
  const int rc = q.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : q.Error(rc, "write registration liveness");
}

absl::StatusOr<Registration> SqliteTransaction::WithHeldBeat(absl::StatusOr<Registration> r) {
  if (r.ok()) store_->ApplyHeld(*r);
  return r;
}

void SqliteTransaction::BindRow(Query& q, const Agent& a, const std::string& doc) {
  q.Bind(1, a.id);
  q.Bind(2, a.tenant_id);
  q.Bind(3, a.logical_id);
  q.Bind(4, ToString(a.lifecycle));
  q.Bind(5, ToString(a.config.replica_mode));
  q.Bind(6, a.placement.instance_id);
  q.Bind(7, a.created_at);
  q.Bind(8, doc);
}
void SqliteTransaction::BindRow(Query& q, const AgentAlias& a, const std::string& doc) {
  q.Bind(1, a.tenant_id);
  q.Bind(2, a.logical_id);
  q.Bind(3, a.agent_id);
  q.Bind(4, a.created_at);
  q.Bind(5, doc);
}
void SqliteTransaction::BindRow(Query& q, const Registration& r, const std::string& doc) {
  q.Bind(1, r.id);
  q.Bind(2, r.tenant_id);
  q.Bind(3, r.agent_id);
  q.Bind(4, r.instance_id);
  q.Bind(5, r.created_at);
  q.Bind(6, doc);
}

}  // namespace spotopt::sqlite
