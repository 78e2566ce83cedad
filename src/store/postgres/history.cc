// PgTransaction: what happened to an agent: events, run segments, switches and
// cleanup logs.
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

absl::Status PgTransaction::InsertEvent(const AgentEvent& e) {
  return InsertKeyed(kInsertEvent, "insert event", e, e.id);
}
absl::StatusOr<std::vector<AgentEvent>> PgTransaction::ListEvents(std::string_view agent_id) {
  return List<AgentEvent>(kListEvents, "list events", agent_id);
}

absl::Status PgTransaction::InsertRunSegment(const RunSegment& s) {
  return InsertConstrained(kInsertRunSegment, "insert run segment", s, kGetRunSegment, s.id);
}
// The stored record is read and compared, as the placement exists only in `doc`.
absl::Status PgTransaction::UpdateRunSegment(const RunSegment& s) {
  if (absl::Status st = CheckWritable(); !st.ok()) return st;
  absl::StatusOr<RunSegment> stored = Get<RunSegment>(kGetRunSegment, "run segment", s.id);
  if (!stored.ok()) return stored.status();
  RunSegment only_end_changed = *stored;
  only_end_changed.ended_at = s.ended_at;
  if (!(only_end_changed == s)) {
    return absl::FailedPreconditionError(
        fmt::format("update run segment: only ended_at of run segment {} can change", s.id));
  }
  return Update(kUpdateRunSegment, "update run segment", s, /*guarded=*/true);
}
absl::StatusOr<RunSegment> PgTransaction::FindOpenRunSegment(std::string_view agent_id,
                                                             std::string_view instance_id) {
  return Get<RunSegment>(kFindOpenRunSegment, "open run segment", agent_id, instance_id);
}
absl::StatusOr<std::vector<RunSegment>> PgTransaction::ListRunSegments(std::string_view agent_id) {
  return List<RunSegment>(kListRunSegments, "list run segments", agent_id);
}
absl::StatusOr<std::vector<RunSegment>> PgTransaction::ListTenantRunSegments(
    std::string_view tenant_id) {
  return List<RunSegment>(kListTenantRunSegments, "list run segments", tenant_id);
}

absl::StatusOr<SwitchRecord> PgTransaction::GetSwitch(std::string_view id) {
  return Get<SwitchRecord>(kGetSwitch, "switch", id);
}
absl::Status PgTransaction::InsertSwitch(const SwitchRecord& r) {
  return InsertKeyed(kInsertSwitch, "insert switch", r, r.id);
}
absl::Status PgTransaction::UpdateSwitch(const SwitchRecord& r) {
  return Update(kUpdateSwitch, "update switch", r, /*guarded=*/false);
}
absl::StatusOr<std::vector<SwitchRecord>> PgTransaction::ListSwitches(std::string_view agent_id) {
  return List<SwitchRecord>(kListSwitches, "list switches", agent_id);
}

absl::Status PgTransaction::InsertCleanupLog(const CleanupLog& l) {
  return InsertKeyed(kInsertCleanupLog, "insert cleanup log", l, l.id);
}
absl::StatusOr<std::vector<CleanupLog>> PgTransaction::ListCleanupLogs(std::string_view agent_id) {
  return List<CleanupLog>(kListCleanupLogs, "list cleanup logs", agent_id);
}

void PgTransaction::BindRow(Params& p, const AgentEvent& e, const std::string& doc) {
  p.Add(e.id);
  p.Add(e.tenant_id);
  p.Add(e.agent_id);
  p.Add(ToString(e.kind));
  p.Add(e.at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const RunSegment& s, const std::string& doc) {
  p.Add(s.id);
  p.Add(s.tenant_id);
  p.Add(s.agent_id);
  p.Add(s.instance_id);
  p.Add(ToString(s.role));
  p.Add(s.started_at);
  p.Add(s.ended_at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const SwitchRecord& r, const std::string& doc) {
  p.Add(r.id);
  p.Add(r.tenant_id);
  p.Add(r.agent_id);
  p.Add(r.created_at);
  p.Add(doc);
}
void PgTransaction::BindRow(Params& p, const CleanupLog& l, const std::string& doc) {
  p.Add(l.id);
  p.Add(l.tenant_id);
  p.Add(l.agent_id);
  p.Add(l.received_at);
  p.Add(doc);
}

}  // namespace spotopt::pg
