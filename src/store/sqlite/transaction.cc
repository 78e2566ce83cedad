// SqliteTransaction's lifecycle: begin (with the snapshot's store version), commit,
// rollback, and the return of its connection to the pool.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

SqliteTransaction::~SqliteTransaction() {
  if (conn_ != nullptr) Rollback();
}

absl::Status SqliteTransaction::Start() {
  // Before the snapshot: what was committed by then is in it.
  prices_mark_ = store_->held_prices().mark();
  absl::Status s;
  {
    Query q(*conn_, mode_ == TxMode::kWrite ? kBeginImmediate : kBegin);
    const int rc = q.Step();
    if (rc != SQLITE_DONE) s = q.Error(rc, "begin transaction");
  }
  if (s.ok()) {
    // The first read fixes the snapshot, and with it the version the cache must have.
    Query q(*conn_, kReadVersion);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) {
      version_ = q.Int(0);
      cached_ = store_->cache().Admit(version_);
    } else {
      s = q.Error(rc, "read store version");
    }
  }
  if (!s.ok()) Rollback();
  return s;
}

absl::Status SqliteTransaction::Commit() {
  if (conn_ == nullptr) return Finished();
  absl::Status s;
  if (sqlite3_get_autocommit(conn_->db)) {
    // SQLite already rolled back after an I/O or memory error.
    s = absl::AbortedError("sqlite store: the transaction was rolled back by an earlier error");
  } else {
    if (mode_ == TxMode::kWrite) s = Exec(kBumpVersion, "bump store version");
    if (s.ok() && mode_ == TxMode::kWrite) store_->cache().Committing(version_, &changes_);
    if (s.ok()) s = Exec(kCommit, "commit");
    if (!s.ok() && mode_ == TxMode::kWrite) store_->cache().Abandoned();
  }
  if (!s.ok()) {
    Rollback();
    return s;
  }
  if (mode_ == TxMode::kWrite) store_->cache().Committed(version_, version_ + 1, changes_);
  store_->held_prices().Written(std::exchange(taken_prices_, {}).size());
  Finish();
  return s;
}

absl::Status SqliteTransaction::WriteHeldPrices() {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  const size_t first = taken_prices_.size();
  std::vector<PriceObservation> taken = store_->held_prices().Take();
  taken_prices_.insert(taken_prices_.end(), std::make_move_iterator(taken.begin()),
                       std::make_move_iterator(taken.end()));
  // The held marks are satisfied from here on, whatever an insert below answers:
  // a failure fails the transaction, whose rollback holds them again.
  prices_mark_.written = prices_mark_.held;
  for (size_t i = first; i < taken_prices_.size(); ++i) {
    if (absl::StatusOr<int64_t> seq = InsertPriceObservation(taken_prices_[i]); !seq.ok()) {
      return seq.status();
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteTransaction::ShowHeldPrices() {
  if (conn_ == nullptr) return Finished();
  if (prices_mark_.written >= prices_mark_.held) return absl::OkStatus();
  if (mode_ == TxMode::kWrite) return WriteHeldPrices();
  const uint64_t needed = prices_mark_.held;
  // The connection goes back to the pool meanwhile: the flush may need it.
  absl::Status s = Exec(kRollback, "end snapshot");
  store_->Release(std::move(conn_));
  // Writes everything held by now: `needed` and whatever followed it.
  if (s.ok()) s = store_->FlushHeld();
  if (!s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Connection>> conn = store_->Acquire();
  if (!conn.ok()) return conn.status();
  conn_ = *std::move(conn);
  if (s = Start(); !s.ok()) return s;
  prices_mark_.held = std::min(prices_mark_.held, needed);
  return absl::OkStatus();
}

absl::Status SqliteTransaction::Finished() {
  return absl::FailedPreconditionError("sqlite store: the transaction is already finished");
}

absl::Status SqliteTransaction::Exec(Stmt stmt, std::string_view what) {
  Query q(*conn_, stmt);
  const int rc = q.Step();
  return rc == SQLITE_DONE ? absl::OkStatus() : q.Error(rc, what);
}

absl::Status SqliteTransaction::CheckWritable() const {
  if (conn_ == nullptr) return Finished();
  if (mode_ != TxMode::kWrite) {
    return absl::FailedPreconditionError("sqlite store: write in a read transaction");
  }
  return absl::OkStatus();
}

void SqliteTransaction::Rollback() {
  {
    Query q(*conn_, kRollback);
    q.Step();
  }
  Finish();
}

void SqliteTransaction::Finish() {
  if (!taken_prices_.empty()) store_->HoldAgain(std::exchange(taken_prices_, {}));
  store_->Release(std::move(conn_));
  if (mode_ == TxMode::kWrite) store_->ReleaseWriter();
}

absl::StatusOr<std::unique_ptr<SqliteTransaction>> StartTransaction(SqliteStore::Impl& impl,
                                                                    TxMode mode) {
  if (mode == TxMode::kWrite) {
    if (absl::Status s = impl.AcquireWriter(); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn = impl.Acquire();
  if (!conn.ok()) {
    if (mode == TxMode::kWrite) impl.ReleaseWriter();
    return conn.status();
  }
  auto tx = std::make_unique<SqliteTransaction>(&impl, *std::move(conn), mode);
  if (absl::Status s = tx->Start(); !s.ok()) return s;
  return tx;
}

}  // namespace spotopt::sqlite
