// MemoryTransaction: what happened to an agent: events, run segments, switches and
// cleanup logs.
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "fmt/format.h"
#include "store/memory/transaction.h"

namespace spotopt::memory {

namespace {

bool EventLess(const AgentEvent& a, const AgentEvent& b) {
  return std::tie(a.at, a.id) < std::tie(b.at, b.id);
}
bool SwitchLess(const SwitchRecord& a, const SwitchRecord& b) {
  return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
}
bool CleanupLess(const CleanupLog& a, const CleanupLog& b) {
  return std::tie(a.received_at, a.id) < std::tie(b.received_at, b.id);
}
bool SegmentLess(const RunSegment& a, const RunSegment& b) {
  return std::tie(a.started_at, a.id) < std::tie(b.started_at, b.id);
}

}  // namespace

absl::Status MemoryTransaction::InsertEvent(const AgentEvent& e) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(e, undo_);
}
absl::StatusOr<std::vector<AgentEvent>> MemoryTransaction::ListEvents(std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<AgentEvent>(state_->events_by_agent, agent_id, EventLess);
}

absl::Status MemoryTransaction::InsertRunSegment(const RunSegment& s) {
  if (absl::Status st = Writable(); !st.ok()) return st;
  return state_->Insert(s, undo_);
}
absl::Status MemoryTransaction::UpdateRunSegment(const RunSegment& s) {
  if (absl::Status st = Writable(); !st.ok()) return st;
  return state_->Update(s, undo_);
}
absl::StatusOr<RunSegment> MemoryTransaction::FindOpenRunSegment(std::string_view agent_id,
                                                                 std::string_view instance_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  std::optional<PackedId> agent = state_->Lookup<PackedId>(agent_id);
  std::optional<Symbol> instance = state_->Lookup<Symbol>(instance_id);
  if (agent && instance) {
    for (RunRole role : {RunRole::kPrimary, RunRole::kReplica}) {
      if (std::optional<Row> row = state_->open_segments.Find({*agent, *instance, role})) {
        return state_->Load<RunSegment>(*row);
      }
    }
  }
  return absl::NotFoundError(
      fmt::format("no open run segment for agent {} instance {}", agent_id, instance_id));
}
absl::StatusOr<std::vector<RunSegment>> MemoryTransaction::ListRunSegments(
    std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<RunSegment>(state_->run_segments_by_agent, agent_id, SegmentLess);
}
absl::StatusOr<std::vector<RunSegment>> MemoryTransaction::ListTenantRunSegments(
    std::string_view tenant_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<RunSegment>(state_->run_segments_by_tenant, tenant_id, SegmentLess);
}

absl::StatusOr<SwitchRecord> MemoryTransaction::GetSwitch(std::string_view id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->Get<SwitchRecord>(id);
}
absl::Status MemoryTransaction::InsertSwitch(const SwitchRecord& r) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(r, undo_);
}
absl::Status MemoryTransaction::UpdateSwitch(const SwitchRecord& r) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Update(r, undo_);
}
absl::StatusOr<std::vector<SwitchRecord>> MemoryTransaction::ListSwitches(
    std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<SwitchRecord>(state_->switches_by_agent, agent_id, SwitchLess);
}

absl::Status MemoryTransaction::InsertCleanupLog(const CleanupLog& l) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  return state_->Insert(l, undo_);
}
absl::StatusOr<std::vector<CleanupLog>> MemoryTransaction::ListCleanupLogs(
    std::string_view agent_id) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->CollectList<CleanupLog>(state_->cleanup_logs_by_agent, agent_id, CleanupLess);
}

}  // namespace spotopt::memory
