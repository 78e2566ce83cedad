// What tests that need PostgreSQL build on: a fresh schema per test in the fixture
// server (tests/pg/cluster.sh), named by SPOTOPT_TEST_PG, dropped afterwards. A test
// run without that server fails rather than skips: ctest starts one for it.
#ifndef SPOTOPT_TESTS_PG_PG_FIXTURE_H_
#define SPOTOPT_TESTS_PG_PG_FIXTURE_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

namespace spotopt::testing {

// The fixture server's connection string; fails the test when there is none.
inline std::string PgServer() {
  const char* conninfo = std::getenv("SPOTOPT_TEST_PG");
  REQUIRE_MESSAGE(conninfo != nullptr,
                  "SPOTOPT_TEST_PG is not set: run through ctest, whose fixture `postgres` "
                  "starts a server (tests/pg/cluster.sh)");
  return conninfo;
}

// Runs `sql` on the fixture server as its superuser.
inline void PgAdmin(const std::string& sql) {
  PGconn* conn = PQconnectdb(PgServer().c_str());
  REQUIRE_MESSAGE(PQstatus(conn) == CONNECTION_OK, PQerrorMessage(conn));
  PGresult* r = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string error = PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  REQUIRE_MESSAGE(ok, sql, ": ", error);
}

// A schema of its own, which a store opened on conninfo() creates its tables in.
class PgSchema {
 public:
  PgSchema() {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PgAdmin("CREATE SCHEMA " + name_);
  }
  ~PgSchema() { PgAdmin("DROP SCHEMA " + name_ + " CASCADE"); }
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;

  const std::string& name() const { return name_; }
  // The server's connection string, with this schema as the search path.
  std::string conninfo() const { return PgServer() + " options=-csearch_path=" + name_; }

 private:
  std::string name_;
};

}  // namespace spotopt::testing

#endif  // SPOTOPT_TESTS_PG_PG_FIXTURE_H_
