// SqliteStore's thin layer over the SQLite C API: the error mapping, one connection
// with its prepared statements, and Query, one use of a prepared statement.
#ifndef SPOTOPT_STORE_SQLITE_CONNECTION_H_
#define SPOTOPT_STORE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/types.h"
#include "store/sqlite/statements.h"

namespace spotopt::sqlite {

// The canonical status for SQLite result code `rc` of the operation `what`; a
// UNIQUE violation is named by the constraint it broke.
absl::Status SqlError(sqlite3* db, int rc, std::string_view what);

// One SQLite connection and its prepared statements. Used by one transaction at a
// time, so it is opened without SQLite's own mutex.
struct Connection {
  sqlite3* db = nullptr;
  std::array<sqlite3_stmt*, kStmtCount> stmts{};

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (sqlite3_stmt* s : stmts) sqlite3_finalize(s);
    sqlite3_close_v2(db);
  }

  // Runs SQL that returns no rows worth reading (pragmas, DDL).
  absl::Status Exec(const std::string& sql, std::string_view what);
  absl::StatusOr<int64_t> QueryInt(const char* sql, std::string_view what);
};

// One use of a cached statement: bind, step, and reset when it goes out of scope.
// Text is bound without a copy; the bound strings outlive the Query.
class Query {
 public:
  Query(Connection& c, Stmt id) : db_(c.db), stmt_(c.stmts[id]) {}
  ~Query() { sqlite3_reset(stmt_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  void Bind(int i, std::string_view s) {
    // A null pointer would bind SQL NULL; an empty view must stay an empty text.
    sqlite3_bind_text(stmt_, i, s.empty() ? "" : s.data(), static_cast<int>(s.size()),
                      SQLITE_STATIC);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, Time t) { Bind(i, ToMicros(t)); }
  void Bind(int i, const std::optional<Time>& t) {
    if (t.has_value()) {
      Bind(i, *t);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }

  int Step() { return sqlite3_step(stmt_); }
  std::string_view Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return std::string_view(p == nullptr ? "" : p,
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  absl::Status Error(int rc, std::string_view what) { return SqlError(db_, rc, what); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace spotopt::sqlite

#endif  // SPOTOPT_STORE_SQLITE_CONNECTION_H_
