// What the SQL stores (SqliteStore, PostgresStore) share about their SQL: the enum
// texts substituted into schema and statement templates, the columns of a price
// observation row, and what each storage constraint's unique index means.
// Internal to the store layer.
#ifndef SPOTOPT_STORE_SQL_H_
#define SPOTOPT_STORE_SQL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace spotopt::sql {

// Substitutes the enum texts ({active}, {pending}, {leased}, {switch}, {promoted},
// {failed}, {terminated}, {spot}, {ondemand}, {primary_role}) and {price_columns}
// into a schema or statement template: the same text the codec writes.
std::string FormatSql(std::string_view text);

// A unique index that enforces a storage constraint or a key, and what violating it
// means. Both schemas give these indexes the same names.
struct UniqueRule {
  std::string_view index;           // its name in both schemas
  std::string_view sqlite_columns;  // as SQLite names the columns in its message
  absl::StatusCode code;
  std::string_view message;
};

// The rule for the unique index named `index` (PostgreSQL) or on `sqlite_columns`
// (SQLite); nullptr for any other, such as a primary key.
const UniqueRule* FindUniqueRule(std::string_view index, std::string_view sqlite_columns);

}  // namespace spotopt::sql

#endif  // SPOTOPT_STORE_SQL_H_
