// PostgresStore: one PostgreSQL database shared by several host processes (several
// spotopt-server behind a load balancer), over libpq.
//
// - Write transactions run SERIALIZABLE, so they are serializable with respect to
//   each other across every process, as the Store contract asks; a conflict with
//   another transaction, or a connection lost before the commit, fails the
//   transaction with a status IsRetryable() recognizes, and the Controller runs the
//   use case again. Read transactions run REPEATABLE READ READ ONLY: one snapshot,
//   never a conflict.
// - A connection lost during COMMIT is resolved, not guessed: the store asks the
//   server (pg_xact_status) whether that transaction committed once it can reach it
//   again, so a commit is never repeated or reported lost when it was not.
// - The storage constraints are partial unique indexes, as in SQLite. A command is
//   leased in a SERIALIZABLE transaction: of two processes leasing the same command,
//   one commits and the other fails and runs again, finding it leased, so a command
//   is delivered at most once across processes.
// - The schema is versioned and migrated in one transaction at open, under an
//   advisory lock, so processes opening a new database at once migrate it once.
// - Connections are pooled; each prepares every statement once.
// - Held heartbeats are written in batches by one background thread, as SqliteStore
//   does; another process sees a beat once its batch is written (beat_hold).
// - No record cache: every read goes to the database, so what one process committed
//   is what every other reads next (docs/decisions.md says why).
#ifndef SPOTOPT_STORE_POSTGRES_STORE_H_
#define SPOTOPT_STORE_POSTGRES_STORE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "spotopt/store/store.h"

namespace spotopt {

struct PostgresOptions {
  // Connections this store opens at most; a transaction holds one from its first
  // statement to its end.
  int max_connections = 8;
  // How long Begin waits for a free connection, and how long connecting may take,
  // before Unavailable.
  Duration acquire_timeout = absl::Seconds(5);
  // How long a commit whose connection was lost may take to be resolved (the server
  // restarting) before it is reported Unavailable without knowing its outcome.
  Duration resolve_timeout = absl::Seconds(30);
  // As in SqliteOptions: how long a heartbeat may be held, and how many
  // registrations' beats at most, before the background thread writes them. Zero
  // writes every beat at once.
  Duration beat_hold = absl::Seconds(1);
  size_t beat_batch = 65536;
};

class SPOTOPT_EXPORT PostgresStore final : public Store {
 public:
  // Connects with a libpq connection string, in either of libpq's forms: a URI
  // ("postgresql://user@host:port/db?sslmode=require") or keywords
  // ("host=/run/postgresql dbname=spotopt"); PG* environment variables fill in what
  // it leaves out. Creates or migrates the schema, in the connection's search_path.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo,
                                                             PostgresOptions options = {});
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TxMode mode) override;
  absl::Status TouchRegistration(std::string_view id, Time at) override;
  absl::Status FlushHeld() override;

  // The schema version this build writes.
  static int SchemaVersion();

  class Impl;

 private:
  explicit PostgresStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spotopt

#endif  // SPOTOPT_STORE_POSTGRES_STORE_H_
