// SqliteTransaction: what happened to an agent: events, run segments, switches and
// cleanup logs.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

absl::Status SqliteTransaction::InsertEvent(const AgentEvent& e) {
  return Write(kInsertEvent, "insert event", e);
}
absl::StatusOr<std::vector<AgentEvent>> SqliteTransaction::ListEvents(std::string_view agent_id) {
  return List<AgentEvent>(kListEvents, "list events", agent_id);
}

absl::Status SqliteTransaction::InsertRunSegment(const RunSegment& s) {
  return Insert(kInsertRunSegment, "insert run segment", s, kGetRunSegment, s.id);
}
// The stored record is read and compared, as the placement exists only in `doc`.
absl::Status SqliteTransaction::UpdateRunSegment(const RunSegment& s) {
  if (absl::Status st = CheckWritable(); !st.ok()) return st;
  absl::StatusOr<RunSegment> stored = Get<RunSegment>(kGetRunSegment, "run segment", s.id);
  if (!stored.ok()) return stored.status();
  RunSegment only_end_changed = *stored;
  only_end_changed.ended_at = s.ended_at;
  if (!(only_end_changed == s)) {
    return absl::FailedPreconditionError(
        fmt::format("update run segment: only ended_at of run segment {} can change", s.id));
  }
  return Write(kUpdateRunSegment, "update run segment", s);
}
absl::StatusOr<RunSegment> SqliteTransaction::FindOpenRunSegment(std::string_view agent_id,
                                                                 std::string_view instance_id) {
  return Get<RunSegment>(kFindOpenRunSegment, "open run segment", agent_id, instance_id);
}
absl::StatusOr<std::vector<RunSegment>> SqliteTransaction::ListRunSegments(
    std::string_view agent_id) {
  return List<RunSegment>(kListRunSegments, "list run segments", agent_id);
}
absl::StatusOr<std::vector<RunSegment>> SqliteTransaction::ListTenantRunSegments(
    std::string_view tenant_id) {
  return List<RunSegment>(kListTenantRunSegments, "list run segments", tenant_id);
}

absl::StatusOr<SwitchRecord> SqliteTransaction::GetSwitch(std::string_view id) {
  return Get<SwitchRecord>(kGetSwitch, "switch", id);
}
absl::Status SqliteTransaction::InsertSwitch(const SwitchRecord& r) {
  return Insert(kInsertSwitch, "insert switch", r, kGetSwitch, r.id);
}
absl::Status SqliteTransaction::UpdateSwitch(const SwitchRecord& r) {
  return Write(kUpdateSwitch, "update switch", r);
}
absl::StatusOr<std::vector<SwitchRecord>> SqliteTransaction::ListSwitches(
    std::string_view agent_id) {
  return List<SwitchRecord>(kListSwitches, "list switches", agent_id);
}

absl::Status SqliteTransaction::InsertCleanupLog(const CleanupLog& l) {
  return Write(kInsertCleanupLog, "insert cleanup log", l);
}
absl::StatusOr<std::vector<CleanupLog>> SqliteTransaction::ListCleanupLogs(
    std::string_view agent_id) {
  return List<CleanupLog>(kListCleanupLogs, "list cleanup logs", agent_id);
}

void SqliteTransaction::BindRow(Query& q, const AgentEvent& e, const std::string& doc) {
  q.Bind(1, e.id);
  q.Bind(2, e.tenant_id);
  q.Bind(3, e.agent_id);
  q.Bind(4, ToString(e.kind));
  q.Bind(5, e.at);
  q.Bind(6, doc);
}

void SqliteTransaction::BindRow(Query& q, const RunSegment& s, const std::string& doc) {
  q.Bind(1, s.id);
  q.Bind(2, s.tenant_id);
  q.Bind(3, s.agent_id);
  q.Bind(4, s.instance_id);
  q.Bind(5, ToString(s.role));
  q.Bind(6, s.started_at);
  q.Bind(7, s.ended_at);
  q.Bind(8, doc);
}
void SqliteTransaction::BindRow(Query& q, const SwitchRecord& r, const std::string& doc) {
  q.Bind(1, r.id);
  q.Bind(2, r.tenant_id);
  q.Bind(3, r.agent_id);
  q.Bind(4, r.created_at);
  q.Bind(5, doc);
}
void SqliteTransaction::BindRow(Query& q, const CleanupLog& l, const std::string& doc) {
  q.Bind(1, l.id);
  q.Bind(2, l.tenant_id);
  q.Bind(3, l.agent_id);
  q.Bind(4, l.received_at);
  q.Bind(5, doc);
}

}  // namespace spotopt::sqlite
