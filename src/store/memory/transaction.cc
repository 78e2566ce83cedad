// MemoryTransaction's lifecycle: a commit drops the undo log, a rollback runs it
// backwards; either way the store's lock is released.
#include "store/memory/transaction.h"

namespace spotopt::memory {

MemoryTransaction::MemoryTransaction(Database* state, TxMode mode) : state_(state), mode_(mode) {
  if (mode_ == TxMode::kWrite) {
    seq_at_begin_ = state_->next_seq;
    price_seq_at_begin_ = state_->next_price_seq;
    decision_seq_at_begin_ = state_->next_decision_seq;
  }
}

MemoryTransaction::~MemoryTransaction() {
  if (!active_) return;
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) state_->Undo(*it);
  if (mode_ == TxMode::kWrite) {
    // After the undo log: a deletion it took back may have restored one of these.
    state_->prices.RemoveInserted(price_seq_at_begin_, state_->next_price_seq);
    // The sequence rolls back too, as SQLite's does: both stores number the same
    // committed writes the same.
    state_->next_seq = seq_at_begin_;
    state_->next_price_seq = price_seq_at_begin_;
    state_->next_decision_seq = decision_seq_at_begin_;
  }
  Release();
}

absl::Status MemoryTransaction::Commit() {
  if (absl::Status s = Usable(); !s.ok()) return s;
  undo_.clear();
  Release();
  return absl::OkStatus();
}

void MemoryTransaction::Release() {
  active_ = false;
  if (mode_ == TxMode::kWrite) {
    state_->mu.unlock();
  } else {
    state_->mu.unlock_shared();
  }
}

}  // namespace spotopt::memory
