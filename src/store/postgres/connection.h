// PostgresStore's thin layer over libpq: parameters and results in binary form, the
// error mapping, and one connection in pipeline mode, which sends several statements
// in one round trip (a transaction's BEGIN with its first statement; a write between
// SAVEPOINT and RELEASE) and lets a read-only transaction end without waiting.
#ifndef SPOTOPT_STORE_POSTGRES_CONNECTION_H_
#define SPOTOPT_STORE_POSTGRES_CONNECTION_H_

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spotopt/types.h"
#include "store/postgres/statements.h"

namespace spotopt::pg {

// A statement's parameters. Text and integers travel in binary form (no quoting,
// no NUL terminators); arrays as their text literal.
class Params {
 public:
  Params() = default;
  template <class... Values>
  explicit Params(const Values&... values) {
    (Add(values), ...);
  }
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  // The bytes are not copied: `s` must outlive the statement's sending.
  void Add(std::string_view s);
  void Add(int64_t v);
  void Add(Time t) { Add(ToMicros(t)); }
  void Add(const std::optional<Time>& t);
  // A text[] or bigint[] parameter, as the array literal {"a","b"} / {1,2}.
  void AddArray(const std::vector<std::string_view>& items);
  void AddArray(const std::vector<int64_t>& items);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::deque<std::string> owned_;  // encoded integers and arrays; stable addresses
};

// One statement's result, in binary form.
class Result {
 public:
  explicit Result(PGresult* r = nullptr) : r_(r) {}
  int rows() const { return r_ == nullptr ? 0 : PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
  }
  // A bigint (int8) column.
  int64_t Int(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE changed.
  int64_t Changed() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

// One statement of a pipeline.
struct Call {
  Stmt stmt;
  const Params* params = nullptr;
};

// The canonical status for a failed statement's result: serialization failures,
// deadlocks and lost connections are Retryable(Unavailable); a unique violation is
// named by the constraint it broke (src/store/sql.h).
absl::Status ErrorOf(const PGresult* r, std::string_view what);

class Connection {
 public:
  // Connects; a failure is Retryable(Unavailable).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  // Enters pipeline mode and prepares every statement, in one round trip.
  absl::Status Prepare(const std::array<std::string, kStmtCount>& sql);
  // The connection before Prepare, for the schema migration.
  PGconn* raw() { return conn_; }
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `calls` and a Sync, and reads their results into *results (one each, in
  // order). On the first failure, returns its status (about `what`) and sets *failed
  // to its index; the server skipped the calls after it.
  absl::Status Run(const std::vector<Call>& calls, std::string_view what,
                   std::vector<Result>* results, size_t* failed = nullptr);
  // Sends `calls` and a Sync without waiting: their results are read (and dropped)
  // before the next Run's. For ending a transaction whose outcome does not matter.
  void Send(const std::vector<Call>& calls);

  // The connection was lost or is in a state it cannot leave; the pool drops it.
  bool broken() const;
  // Whether a socket closed by the server (a restart) while the connection sat idle
  // shows now; reads what arrived without blocking.
  bool StillUp();

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  absl::Status SendCalls(const std::vector<Call>& calls, std::string_view what);
  // Reads the results of a pipeline of `calls` statements, up to its Sync.
  absl::Status ReadPipeline(size_t calls, std::string_view what, std::vector<Result>* results,
                            size_t* failed);
  absl::Status DrainSent();

  PGconn* conn_;
  int unread_ = 0;  // pipelines sent by Send whose results are not read yet
  bool failed_ = false;
};

}  // namespace spotopt::pg

#endif  // SPOTOPT_STORE_POSTGRES_CONNECTION_H_
