// SqliteStore's connections: how one is opened and configured, the pool that lends
// them to transactions, and the queue of this process's writers.
#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "absl/time/time.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/store_impl.h"

namespace spotopt {
namespace {

using sqlite::Connection;
using sqlite::SqlError;

absl::Status EnableWal(Connection& conn) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(conn.db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqlError(conn.db, rc, "enable WAL");
  rc = sqlite3_step(stmt);
  absl::Status s;
  if (rc != SQLITE_ROW) {
    s = SqlError(conn.db, rc, "enable WAL");
  } else if (std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) !=
             "wal") {
    s = absl::FailedPreconditionError("sqlite store: the database cannot use WAL mode");
  }
  sqlite3_finalize(stmt);
  return s;
}

}  // namespace

SqliteStore::Impl::Impl(std::string path, SqliteOptions options)
    : path_(std::move(path)),
      options_(options),
      wait_(absl::ToChronoNanoseconds(options.busy_timeout)),
      cache_(options.cached_records),
      held_(absl::ToChronoNanoseconds(options.beat_hold), options.beat_batch) {
  for (int i = 0; i < sqlite::kStmtCount; ++i) {
    sql_[i] = sqlite::StatementSql(static_cast<sqlite::Stmt>(i));
  }
}

absl::Status SqliteStore::Impl::Init() {
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connect(Purpose::kFirst);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<std::unique_ptr<Connection>> checkpoints = Connect(Purpose::kCheckpoint);
  if (!checkpoints.ok()) return checkpoints.status();
  // A lambda rather than a member pointer: its local type keeps std::thread's
  // instantiations for it out of the shared library's exported symbols.
  background_ = std::thread([this, connection = *std::move(checkpoints)]() mutable {
    RunBackground(std::move(connection));
  });
  std::lock_guard lock(mu_);
  ++open_;
  idle_.push_back(*std::move(conn));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Connection>> SqliteStore::Impl::Acquire() {
  {
    std::unique_lock lock(mu_);
    if (!conn_freed_.wait_for(
            lock, wait_, [this] { return !idle_.empty() || open_ < options_.max_connections; })) {
      return absl::UnavailableError("sqlite store: every connection is in use");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connect(Purpose::kPool);
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    conn_freed_.notify_one();
  }
  return conn;
}

void SqliteStore::Impl::Release(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
  }
  conn_freed_.notify_one();
}

absl::Status SqliteStore::Impl::AcquireWriter() {
  std::unique_lock lock(writer_mu_);
  if (!writer_freed_.wait_for(lock, wait_, [this] { return writer_free_; })) {
    return absl::UnavailableError("sqlite store: timed out waiting for the write lock");
  }
  writer_free_ = false;
  return absl::OkStatus();
}

void SqliteStore::Impl::ReleaseWriter() {
  {
    std::lock_guard lock(writer_mu_);
    writer_free_ = true;
  }
  writer_freed_.notify_one();
}

absl::StatusOr<std::unique_ptr<Connection>> SqliteStore::Impl::Connect(Purpose purpose) {
  auto conn = std::make_unique<Connection>();
  const int rc =
      sqlite3_open_v2(path_.c_str(), &conn->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqlError(conn->db, rc, fmt::format("open {}", path_));
  sqlite3_extended_result_codes(conn->db, 1);
  sqlite3_busy_timeout(conn->db,
                       static_cast<int>(absl::ToInt64Milliseconds(options_.busy_timeout)));
  absl::Status s = conn->Exec(
      options_.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "configure connection");
  if (!s.ok()) return s;
  if (purpose == Purpose::kCheckpoint) return conn;
  // A large page cache keeps a fleet's rows in memory (a commit on another
  // connection empties it, so the pool pays off only while most work is reads);
  // memory-mapped reads lose their map on every foreign commit, so they are off.
  s = conn->Exec("PRAGMA foreign_keys = ON; PRAGMA mmap_size = 0; PRAGMA cache_size = -262144",
                 "configure connection");
  if (!s.ok()) return s;
  // Replaces SQLite's automatic checkpoint, which would run inside a commit.
  sqlite3_wal_hook(conn->db, &Impl::OnWalCommit, this);
  if (purpose == Purpose::kFirst) {
    if (s = EnableWal(*conn); !s.ok()) return s;
    if (s = sqlite::Migrate(*conn); !s.ok()) return s;
  }
  for (int i = 0; i < sqlite::kStmtCount; ++i) {
    const int prc = sqlite3_prepare_v3(conn->db, sql_[i].data(), static_cast<int>(sql_[i].size()),
                                       SQLITE_PREPARE_PERSISTENT, &conn->stmts[i], nullptr);
    if (prc != SQLITE_OK) return SqlError(conn->db, prc, "prepare statement");
  }
  return conn;
}

}  // namespace spotopt
