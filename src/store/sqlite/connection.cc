#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "store/sql.h"

namespace spotopt::sqlite {

absl::Status SqlError(sqlite3* db, int rc, std::string_view what) {
  const std::string_view detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(fmt::format("{}: database is busy ({})", what, detail));
    case SQLITE_CONSTRAINT:
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(fmt::format("{}: {}", what, detail));
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return absl::UnavailableError(fmt::format("{}: {}", what, detail));
    default:
      return absl::InternalError(fmt::format("{}: {}", what, detail));
  }
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return absl::AlreadyExistsError(fmt::format("{}: the record already exists", what));
  }
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return absl::FailedPreconditionError(
        fmt::format("{}: refers to a tenant or agent that does not exist", what));
  }
  if (rc == SQLITE_CONSTRAINT_UNIQUE) {
    constexpr std::string_view kPrefix = "UNIQUE constraint failed: ";
    std::string_view columns = detail;
    if (columns.starts_with(kPrefix)) columns.remove_prefix(kPrefix.size());
    if (const sql::UniqueRule* rule = sql::FindUniqueRule("", columns)) {
      return absl::Status(rule->code, fmt::format("{}: {}", what, rule->message));
    }
    return absl::AlreadyExistsError(fmt::format("{}: {}", what, detail));
  }
  return absl::FailedPreconditionError(fmt::format("{}: {}", what, detail));
}

absl::Status Connection::Exec(const std::string& sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqlError(db, rc, what);
}

absl::StatusOr<int64_t> Connection::QueryInt(const char* sql, std::string_view what) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqlError(db, rc, what);
  rc = sqlite3_step(stmt);
  const int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
  absl::Status s = rc == SQLITE_ROW ? absl::OkStatus() : SqlError(db, rc, what);
  sqlite3_finalize(stmt);
  if (!s.ok()) return s;
  return value;
}

}  // namespace spotopt::sqlite
