// PostgresStore, the facade over src/store/postgres: opening a store, beginning its
// transactions and the held heartbeats' entry points. The rest of the store is in
// this folder: statements.cc (the SQL), schema.cc, connection.cc (libpq), pool.cc,
// background.cc, transaction.h (the unit of work, one file per group of tables).
#include "spotopt/store/postgres_store.h"

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "store/postgres/schema.h"
#include "store/postgres/store_impl.h"
#include "store/postgres/transaction.h"

namespace spotopt {

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& conninfo,
                                                                   PostgresOptions options) {
  if (conninfo.find_first_not_of(" \t\n") == std::string::npos) {
    // libpq would connect to its defaults: say which database instead.
    return absl::InvalidArgumentError("postgres store: needs a connection string");
  }
  if (options.max_connections < 1 || options.beat_batch < 1 ||
      options.acquire_timeout < absl::ZeroDuration() ||
      options.resolve_timeout < absl::ZeroDuration() || options.beat_hold < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "postgres store: max_connections and beat_batch must be >= 1, acquire_timeout, "
        "resolve_timeout and beat_hold >= 0");
  }
  try {
    auto impl = std::make_unique<Impl>(conninfo, options);
    if (absl::Status s = impl->Init(); !s.ok()) return s;
    return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("postgres store: open failed: {}", e.what()));
  }
}

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Closing writes what is held; a failure here has no caller left to tell, which is
// why hosts flush first (Controller::Tick).
PostgresStore::~PostgresStore() { (void)FlushHeld(); }

int PostgresStore::SchemaVersion() { return pg::kSchemaVersion; }

absl::StatusOr<std::unique_ptr<Transaction>> PostgresStore::Begin(TxMode mode) {
  absl::StatusOr<std::unique_ptr<pg::PgTransaction>> tx = pg::StartTransaction(*impl_, mode);
  if (!tx.ok()) return tx.status();
  return std::unique_ptr<Transaction>(*std::move(tx));
}

absl::Status PostgresStore::TouchRegistration(std::string_view id, Time at) {
  return impl_->TouchRegistration(id, at);
}

absl::Status PostgresStore::FlushHeld() { return impl_->FlushHeld(); }

}  // namespace spotopt
