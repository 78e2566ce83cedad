// SqliteStore's schema: the versioned migrations and the one function that applies
// them when a store opens.
#ifndef SPOTOPT_STORE_SQLITE_SCHEMA_H_
#define SPOTOPT_STORE_SQLITE_SCHEMA_H_

#include "absl/status/status.h"
#include "store/sqlite/connection.h"

namespace spotopt::sqlite {

constexpr int kSchemaVersion = 5;

// Brings the schema to kSchemaVersion in one transaction. The version is checked
// again under the write lock, so two processes opening a new file at once
// migrate it once.
absl::Status Migrate(Connection& conn);

}  // namespace spotopt::sqlite

#endif  // SPOTOPT_STORE_SQLITE_SCHEMA_H_
