// PostgresStore's connections: opening one (the first migrates the schema), the pool
// that lends them to transactions, and the lookup of a commit whose connection was
// lost.
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "store/postgres/connection.h"
#include "store/postgres/schema.h"
#include "store/postgres/store_impl.h"

namespace spotopt {

using pg::Connection;

PostgresStore::Impl::Impl(std::string conninfo, PostgresOptions options)
    : conninfo_(std::move(conninfo)),
      options_(options),
      wait_(absl::ToChronoNanoseconds(options.acquire_timeout)),
      held_(absl::ToChronoNanoseconds(options.beat_hold), options.beat_batch) {
  for (int i = 0; i < pg::kStmtCount; ++i) sql_[i] = pg::StatementSql(static_cast<pg::Stmt>(i));
}

absl::Status PostgresStore::Impl::Init() {
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_);
  if (!conn.ok()) return conn.status();
  if (absl::Status s = pg::Migrate((*conn)->raw()); !s.ok()) return s;
  if (absl::Status s = (*conn)->Prepare(sql_); !s.ok()) return s;
  // A lambda rather than a member pointer: its local type keeps std::thread's
  // instantiations for it out of the shared library's exported symbols.
  background_ = std::thread([this] { RunBackground(); });
  std::lock_guard lock(mu_);
  ++open_;
  idle_.push_back(*std::move(conn));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Connection>> PostgresStore::Impl::Connect() {
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_);
  if (conn.ok()) {
    if (absl::Status s = (*conn)->Prepare(sql_); !s.ok()) return s;
  }
  return conn;
}

absl::StatusOr<std::unique_ptr<Connection>> PostgresStore::Impl::Acquire() {
  std::vector<std::unique_ptr<Connection>> dead;  // closed outside the lock
  {
    std::unique_lock lock(mu_);
    if (!conn_freed_.wait_for(
            lock, wait_, [this] { return !idle_.empty() || open_ < options_.max_connections; })) {
      return absl::UnavailableError("postgres store: every connection is in use");
    }
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->StillUp()) return conn;
      // The server closed it while it was idle: it restarted, and took the others.
      dead.push_back(std::move(conn));
      for (auto& other : idle_) dead.push_back(std::move(other));
      open_ -= static_cast<int>(idle_.size()) + 1;
      idle_.clear();
    }
    ++open_;
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connect();
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    conn_freed_.notify_one();
  }
  return conn;
}

void PostgresStore::Impl::Release(std::unique_ptr<Connection> conn) {
  std::vector<std::unique_ptr<Connection>> dead;  // closed outside the lock
  {
    std::lock_guard lock(mu_);
    if (conn->broken()) {
      dead.push_back(std::move(conn));
      for (auto& other : idle_) dead.push_back(std::move(other));
      open_ -= static_cast<int>(idle_.size()) + 1;
      idle_.clear();
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  conn_freed_.notify_all();
}

absl::Status PostgresStore::Impl::ResolveCommit(const std::string& xid) {
  const absl::Time deadline = absl::Now() + options_.resolve_timeout;
  absl::Duration pause = absl::Milliseconds(10);
  absl::Status last;
  while (true) {
    absl::StatusOr<std::unique_ptr<Connection>> conn = Acquire();
    if (conn.ok()) {
      pg::Params p{std::string_view(xid)};
      std::vector<pg::Result> results;
      last = (*conn)->Run({{pg::kXactStatus, &p}}, "resolve a commit", &results);
      Release(*std::move(conn));
      if (last.ok()) {
        const std::string_view status = results[0].rows() == 1 && !results[0].IsNull(0, 0)
                                            ? results[0].Text(0, 0)
                                            : std::string_view("unknown");
        if (status == "committed") return absl::OkStatus();
        if (status == "aborted") {
          return Retryable(absl::UnavailableError(
              "postgres store: lost the connection during COMMIT; the transaction did not "
              "commit"));
        }
        // "in progress": the old session is still finishing; ask again.
        last = absl::UnavailableError(fmt::format("transaction {} is {}", xid, status));
      }
    } else {
      last = conn.status();
    }
    if (absl::Now() + pause > deadline) break;
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Seconds(1));
  }
  // Not Retryable: it may have committed.
  return absl::UnavailableError(
      fmt::format("postgres store: lost the connection during COMMIT and could not learn whether "
                  "transaction {} committed: {}",
                  xid, std::string(last.message())));
}

}  // namespace spotopt
