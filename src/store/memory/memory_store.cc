// MemoryStore, the facade over src/store/memory: tables.h (rows and indexes),
// price_store.h (price observations), state.h (the tables together, the undo log's
// entries and the storage constraints) and transaction.h (the unit of work, one file
// per group of tables).
#include "spotopt/store/memory_store.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "store/memory/state.h"
#include "store/memory/transaction.h"

namespace spotopt {

struct MemoryStore::State final : memory::Database {};

MemoryStore::MemoryStore() : state_(std::make_unique<State>()) {}
MemoryStore::~MemoryStore() = default;

absl::StatusOr<std::unique_ptr<Transaction>> MemoryStore::Begin(TxMode mode) {
  if (mode == TxMode::kWrite) {
    state_->mu.lock();
  } else {
    state_->mu.lock_shared();
  }
  return std::make_unique<memory::MemoryTransaction>(state_.get(), mode);
}

absl::Status MemoryStore::TouchRegistration(std::string_view id, Time at) {
  std::lock_guard lock(state_->mu);
  // last_seen_at is in no index, so the row changes in place.
  if (std::optional<memory::Row> row = state_->FindRow<Registration>(id)) {
    memory::CompactRegistration& r = state_->rows<Registration>()[*row];
    r.last_seen_at = std::max(r.last_seen_at, at);
  }
  return absl::OkStatus();
}

}  // namespace spotopt
