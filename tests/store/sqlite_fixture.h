// What the SqliteStore-only suites (crash_test, migration_test) build on: a
// temporary directory per test and minimal valid records.
#ifndef SPOTOPT_TESTS_STORE_SQLITE_FIXTURE_H_
#define SPOTOPT_TESTS_STORE_SQLITE_FIXTURE_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "spotopt/domain/agent.h"
#include "spotopt/domain/tenant.h"

namespace spotopt::testing {

inline const Time kT0 = FromMicros(1'763'000'000'000'000);

// A fresh directory for one test's database, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "spotopt-store-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline Tenant MakeTenant(const std::string& id) {
  Tenant t;
  t.id = id;
  t.name = "tenant " + id;
  t.created_at = t.updated_at = kT0;
  return t;
}

inline Agent MakeAgent(const std::string& id, const std::string& tenant_id) {
  Agent a;
  a.id = id;
  a.tenant_id = tenant_id;
  a.logical_id = "logical-" + id;
  a.placement.instance_id = "i-0123456789abcdef0";
  a.placement.region = "us-east-1";
  a.created_at = a.updated_at = a.placement_since = kT0;
  return a;
}

// The agent's registration from its placement's instance, created at kT0.
inline Registration MakeRegistration(const std::string& id, const Agent& a,
                                     Time last_seen_at = kT0) {
  Registration r;
  r.id = id;
  r.tenant_id = a.tenant_id;
  r.agent_id = a.id;
  r.instance_id = a.placement.instance_id;
  r.created_at = kT0;
  r.last_seen_at = last_seen_at;
  return r;
}

}  // namespace spotopt::testing

#endif  // SPOTOPT_TESTS_STORE_SQLITE_FIXTURE_H_
