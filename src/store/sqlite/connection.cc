#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace spotopt::sqlite {
namespace {

// What a UNIQUE violation on each constrained column set means.
struct UniqueRule {
  std::string_view columns;  // as SQLite names them in the error message
  absl::StatusCode code;
  std::string_view message;
};
constexpr UniqueRule kUniqueRules[] = {
    {"commands.id", absl::StatusCode::kAlreadyExists, "a command with this id already exists"},
    {"commands.agent_id, commands.state", absl::StatusCode::kFailedPrecondition,
     "the agent already has a LEASED command"},
    {"commands.agent_id, commands.type", absl::StatusCode::kFailedPrecondition,
     "the agent already has a placement command PENDING or LEASED"},
    {"replicas.agent_id", absl::StatusCode::kFailedPrecondition,
     "the agent already has a live replica"},
    {"registrations.agent_id, registrations.instance_id", absl::StatusCode::kFailedPrecondition,
     "the instance already has a registration under this agent"},
    {"agents.tenant_id, agents.logical_id", absl::StatusCode::kFailedPrecondition,
     "the tenant already has an agent with this logical id"},
    {"run_segments.agent_id, run_segments.instance_id, run_segments.role",
     absl::StatusCode::kFailedPrecondition,
     "the instance already has an open run segment in this role under this agent"},
};

}  // namespace

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
    for (const UniqueRule& rule : kUniqueRules) {
      if (columns == rule.columns) {
        return absl::Status(rule.code, fmt::format("{}: {}", what, rule.message));
      }
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
