// PgTransaction's lifecycle: BEGIN goes out with the first statement, a constrained
// write runs inside a savepoint, COMMIT of a write transaction is confirmed (and
// looked up when its connection is lost), and a read-only transaction ends without
// waiting for the server's answer.
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/transaction.h"

namespace spotopt::pg {

PgTransaction::~PgTransaction() {
  if (conn_ != nullptr) Rollback();
}

absl::Status PgTransaction::CheckUsable() const {
  if (conn_ == nullptr) {
    return absl::FailedPreconditionError("postgres store: the transaction is already finished");
  }
  return failed_;
}

absl::Status PgTransaction::CheckWritable() const {
  if (absl::Status s = CheckUsable(); !s.ok()) return s;
  if (mode_ != TxMode::kWrite) {
    return absl::FailedPreconditionError("postgres store: write in a read transaction");
  }
  return absl::OkStatus();
}

absl::Status PgTransaction::Exchange(std::vector<Call> calls, std::string_view what,
                                     std::vector<Result>* results, size_t* failed) {
  if (absl::Status s = CheckUsable(); !s.ok()) return s;
  const bool first = !begun_;
  if (first) calls.insert(calls.begin(), Call{mode_ == TxMode::kWrite ? kBeginWrite : kBeginRead});
  size_t at = 0;
  absl::Status s = conn_->Run(calls, what, results, &at);
  begun_ = true;
  if (!s.ok()) {
    if (failed != nullptr) *failed = first && at > 0 ? at - 1 : at;
    return s;
  }
  if (first) results->erase(results->begin());
  return s;
}

absl::StatusOr<Result> PgTransaction::Exec(Stmt stmt, const Params& params, std::string_view what) {
  std::vector<Result> results;
  if (absl::Status s = Exchange({{stmt, &params}}, what, &results, nullptr); !s.ok()) {
    failed_ = s;
    return s;
  }
  return std::move(results[0]);
}

absl::StatusOr<Result> PgTransaction::Write(Stmt stmt, const Params& params, std::string_view what,
                                            bool guarded) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  std::vector<Call> calls;
  if (guarded) calls.push_back({kSavepoint});
  calls.push_back({stmt, &params});
  if (guarded) calls.push_back({kReleaseSavepoint});
  const bool learn_xid = xid_.empty();
  if (learn_xid) calls.push_back({kCurrentXid});
  std::vector<Result> results;
  size_t at = 0;
  absl::Status s = Exchange(std::move(calls), what, &results, &at);
  if (s.ok()) {
    if (learn_xid) xid_ = std::string(results.back().Text(0, 0));
    return std::move(results[guarded ? 1 : 0]);
  }
  // A conflict or a lost connection ends the whole transaction; so does any failure
  // outside a savepoint, or of anything but the write itself.
  if (!guarded || at != 1 || IsRetryable(s) || conn_->broken()) {
    failed_ = s;
    return s;
  }
  // The write was refused: back to the savepoint, and the transaction goes on.
  std::vector<Result> undone;
  if (absl::Status u =
          Exchange({{kRollbackToSavepoint}, {kReleaseSavepoint}}, what, &undone, nullptr);
      !u.ok()) {
    failed_ = u;
    return u;
  }
  return s;
}

absl::Status PgTransaction::Commit() {
  if (conn_ == nullptr) return CheckUsable();
  if (!failed_.ok()) {
    absl::Status s = failed_;
    Rollback();
    return s;
  }
  if (!begun_) {
    Finish();
    return absl::OkStatus();
  }
  if (mode_ == TxMode::kRead) {
    // A read-only snapshot has nothing to make durable: end it without waiting.
    conn_->Send({{kCommit}});
    Finish();
    return absl::OkStatus();
  }
  // A write transaction waits for its COMMIT even when it wrote nothing: SERIALIZABLE
  // may still refuse what it read.
  std::vector<Result> results;
  absl::Status s = conn_->Run({{kCommit}}, "commit", &results);
  const bool lost = conn_->broken();
  Finish();
  if (!s.ok() && lost && !xid_.empty()) return store_->ResolveCommit(xid_);
  return s;
}

void PgTransaction::Rollback() {
  if (begun_ && !conn_->broken()) conn_->Send({{kRollback}});
  Finish();
}

void PgTransaction::Finish() { store_->Release(std::move(conn_)); }

absl::StatusOr<std::unique_ptr<PgTransaction>> StartTransaction(PostgresStore::Impl& impl,
                                                                TxMode mode) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = impl.Acquire();
  if (!conn.ok()) return conn.status();
  return std::make_unique<PgTransaction>(&impl, *std::move(conn), mode);
}

}  // namespace spotopt::pg
