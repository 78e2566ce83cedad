// SqliteTransaction's lifecycle: begin (with the snapshot's store version), commit,
// rollback, and the return of its connection to the pool.
#include <sqlite3.h>

#include <memory>
#include <string_view>
#include <utility>

#include "store/sqlite/transaction.h"

namespace spotopt::sqlite {

SqliteTransaction::~SqliteTransaction() {
  if (conn_ != nullptr) Rollback();
}

absl::Status SqliteTransaction::Start() {
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
    if (s.ok()) s = Exec(kCommit, "commit");
  }
  if (!s.ok()) {
    Rollback();
    return s;
  }
  if (mode_ == TxMode::kWrite) store_->cache().Committed(version_, version_ + 1, changes_);
  Finish();
  return s;
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
