// SqliteStore, the facade over src/store/sqlite: opening a store, beginning its
// transactions, the held heartbeats' entry points and the integrity check. The
// rest of the store is in this folder: statements.cc (the SQL), schema.cc, pool.cc,
// background.cc, transaction.h (the unit of work, one file per group of tables).
#include "spotopt/store/sqlite_store.h"

#include <sqlite3.h>

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/store_impl.h"
#include "store/sqlite/transaction.h"

namespace spotopt {

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               SqliteOptions options) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError(
        "sqlite store: needs a database file; private and in-memory databases cannot be "
        "shared by its connections");
  }
  if (options.max_connections < 1 || options.beat_batch < 1 ||
      options.busy_timeout < absl::ZeroDuration() || options.beat_hold < absl::ZeroDuration() ||
      options.price_hold < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "sqlite store: max_connections and beat_batch must be >= 1, busy_timeout, beat_hold and "
        "price_hold >= 0");
  }
  try {
    auto impl = std::make_unique<Impl>(path, options);
    if (absl::Status s = impl->Init(); !s.ok()) return s;
    return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("sqlite store: open failed: {}", e.what()));
  }
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Closing writes what is held; a failure here has no caller left to tell, which
// is why hosts flush first (Controller::Tick).
SqliteStore::~SqliteStore() { (void)FlushHeld(); }

int SqliteStore::SchemaVersion() { return sqlite::kSchemaVersion; }

absl::StatusOr<std::unique_ptr<Transaction>> SqliteStore::Begin(TxMode mode) {
  absl::StatusOr<std::unique_ptr<sqlite::SqliteTransaction>> tx =
      sqlite::StartTransaction(*impl_, mode);
  if (!tx.ok()) return tx.status();
  return std::unique_ptr<Transaction>(*std::move(tx));
}

absl::Status SqliteStore::TouchRegistration(std::string_view id, Time at) {
  return impl_->TouchRegistration(id, at);
}

absl::Status SqliteStore::FlushHeld() { return impl_->FlushHeld(); }

absl::Status SqliteStore::AddPriceObservations(const std::vector<PriceObservation>& observations) {
  return impl_->AddPriceObservations(observations);
}

absl::Status SqliteStore::CheckIntegrity() {
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> conn = impl_->Acquire();
  if (!conn.ok()) return conn.status();
  std::vector<std::string> problems;
  // integrity_check covers structure and indexes; foreign_key_check the references.
  for (const char* sql : {"PRAGMA integrity_check", "PRAGMA foreign_key_check"}) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2((*conn)->db, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
      std::vector<std::string> cols;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        cols.emplace_back(text == nullptr ? "" : text);
      }
      std::string row = absl::StrJoin(cols, " ");
      if (row != "ok") problems.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) problems.push_back(sqlite::SqlError((*conn)->db, rc, sql).ToString());
    sqlite3_finalize(stmt);
  }
  impl_->Release(*std::move(conn));
  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(
      fmt::format("sqlite store: integrity check failed: {}", absl::StrJoin(problems, "; ")));
}

}  // namespace spotopt
