// MemoryTransaction: the decision log (DecisionLog, decision_log.h).
#include <memory>
#include <string_view>
#include <vector>

#include "store/memory/transaction.h"

namespace spotopt::memory {

absl::StatusOr<int64_t> MemoryTransaction::InsertDecision(const decision::DecisionRecord& d) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  decision::DecisionRecord stored = d;
  stored.seq = state_->next_decision_seq;
  auto undo = std::make_unique<DecisionUndo>();
  if (absl::Status s = state_->decisions.Insert(stored, undo.get()); !s.ok()) return s;
  ++state_->next_decision_seq;
  undo_.push_back(UndoEntry{0, std::move(undo)});
  return stored.seq;
}

absl::StatusOr<std::vector<decision::DecisionRecord>> MemoryTransaction::ListDecisions(
    std::string_view agent_id, int64_t before_seq, size_t limit) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->decisions.OfAgent(agent_id, before_seq, limit);
}

absl::StatusOr<std::vector<decision::DecisionRecord>> MemoryTransaction::ListTenantDecisions(
    std::string_view tenant_id, int64_t before_seq, size_t limit) {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->decisions.OfTenant(tenant_id, before_seq, limit);
}

absl::StatusOr<std::vector<Transaction::DecisionHead>> MemoryTransaction::ListLatestDecisionKeys() {
  if (absl::Status s = Usable(); !s.ok()) return s;
  return state_->decisions.Heads();
}

absl::StatusOr<int64_t> MemoryTransaction::DeleteDecisionsBefore(Time cutoff) {
  if (absl::Status s = Writable(); !s.ok()) return s;
  auto undo = std::make_unique<DecisionUndo>();
  const int64_t deleted = state_->decisions.DeleteBefore(cutoff, undo.get());
  if (deleted > 0) undo_.push_back(UndoEntry{0, std::move(undo)});
  return deleted;
}

}  // namespace spotopt::memory
