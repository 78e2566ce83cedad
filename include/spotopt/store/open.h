// Opening a store by URI: one spelling for every host (the C ABI, Python,
// spotopt-server --db).
#ifndef SPOTOPT_STORE_OPEN_H_
#define SPOTOPT_STORE_OPEN_H_

#include <memory>
#include <string_view>

#include "spotopt/store/store.h"

namespace spotopt {

// Opens the store `uri` names:
//   "memory:"                      a MemoryStore, gone when closed;
//   "sqlite:PATH"                  a SqliteStore on the file at PATH;
//   "postgresql://..." or
//   "postgres://..."               a PostgresStore on libpq's URI, as is
//                                  ("postgresql://spotopt@db.internal:5432/spotopt");
//   "postgresql:KEYWORDS"          a PostgresStore on libpq's keyword form after the
//                                  prefix ("postgresql:host=/run/postgresql dbname=spotopt").
// Anything else, or a scheme with nothing after it, is InvalidArgument; a store that
// cannot be opened returns its own error (Unavailable for a database that cannot be
// reached).
SPOTOPT_EXPORT absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view uri);

// Whether `text` starts with one of the schemes above (spotopt-server's --db takes a
// URI or a SQLite file path).
SPOTOPT_EXPORT bool IsStoreUri(std::string_view text);

}  // namespace spotopt

#endif  // SPOTOPT_STORE_OPEN_H_
