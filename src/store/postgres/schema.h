// PostgresStore's schema: the versioned migrations and the one function that applies
// them when a store opens.
#ifndef SPOTOPT_STORE_POSTGRES_SCHEMA_H_
#define SPOTOPT_STORE_POSTGRES_SCHEMA_H_

#include <libpq-fe.h>

#include "absl/status/status.h"

namespace spotopt::pg {

constexpr int kSchemaVersion = 1;

// Brings the schema (in the connection's search_path) to kSchemaVersion in one
// transaction, holding an advisory lock: of several processes opening a new
// database at once, one migrates and the others find it migrated. `conn` is a plain
// connection, not yet in pipeline mode.
absl::Status Migrate(PGconn* conn);

}  // namespace spotopt::pg

#endif  // SPOTOPT_STORE_POSTGRES_SCHEMA_H_
