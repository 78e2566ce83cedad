// SqliteStore schema migrations: a database an older build wrote opens with this one,
// its data converted in one transaction. Older databases are made by turning a fresh
// one back, one version at a time (kToV4, kToV3, kToV2).
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "spotopt/store/sqlite_store.h"
#include "sqlite_fixture.h"

namespace spotopt {
namespace {

using testing::kT0;
using testing::MakeAgent;
using testing::MakeRegistration;
using testing::MakeTenant;
using testing::TempDir;

// Runs SQL on a plain connection, outside the store.
void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
}

int64_t QueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// A v5 database turned back into what schema v4 wrote: the decision log and the two
// indexes the fleet run reads through go; incidents lose the pool v4 did not record.
constexpr std::string_view kToV4 = R"sql(
BEGIN;
DROP TABLE decision_heads;
DROP TABLE decisions;
DROP INDEX commands_by_created;
DROP INDEX incidents_by_tenant;
DELETE FROM sqlite_sequence WHERE name = 'decisions';
UPDATE incidents SET doc = json_remove(doc, '$.pool');
PRAGMA user_version = 4;
COMMIT;
)sql";

// A v4 database turned back into what schema v3 wrote: registrations get their
// last_seen_at column back from registration_liveness, which goes with
// store_version, and the copy in the document that v3 wrote.
constexpr std::string_view kToV3 = R"sql(
BEGIN;
DROP TABLE store_version;
CREATE TABLE registrations_v3 (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  instance_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
INSERT INTO registrations_v3
  SELECT r.id, r.tenant_id, r.agent_id, r.instance_id, r.created_at, l.last_seen_at,
         json_set(r.doc, '$.last_seen_at', l.last_seen_at)
  FROM registrations r JOIN registration_liveness l ON l.id = r.id;
DROP TABLE registration_liveness;
DROP TABLE registrations;
ALTER TABLE registrations_v3 RENAME TO registrations;
CREATE UNIQUE INDEX registrations_agent_instance ON registrations(agent_id, instance_id);
CREATE INDEX registrations_by_agent ON registrations(agent_id, created_at, id);
PRAGMA user_version = 3;
COMMIT;
)sql";

// A v3 database turned back into what schema v2 wrote: every table v3 leaves alone is
// the same in both, so only price_observations (rebuilt with v2's columns, index and
// documents, the codec's JSON) and v3's new run_segments change.
constexpr std::string_view kToV2 = R"sql(
BEGIN;
DROP TABLE run_segments;
DROP TABLE price_observations;
CREATE TABLE price_observations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  region TEXT NOT NULL,
  instance_type TEXT NOT NULL,
  az TEXT NOT NULL,
  kind TEXT NOT NULL,
  observed_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX price_observations_by_pool
  ON price_observations(tenant_id, region, instance_type, az, observed_at, seq);
INSERT INTO price_observations VALUES (2, 't1', 'us-east-1', 'm5.large', 'us-east-1a', 'spot',
  1763000000000000, '{"seq":2,"tenant_id":"t1","agent_id":"a1","registration_id":"r1",
  "region":"us-east-1","az":"us-east-1a","instance_type":"m5.large","kind":"spot",
  "price_micros":38900,"observed_at":1763000000000000,"received_at":1763000001000000,
  "server_received":false,"source":"primary"}');
INSERT INTO price_observations VALUES (3, 't1', 'us-east-1', 'm5.large', '', 'ondemand',
  1763000002000000, '{"seq":3,"tenant_id":"t1","agent_id":"a1","registration_id":"r2",
  "region":"us-east-1","az":"","instance_type":"m5.large","kind":"ondemand",
  "price_micros":96000,"observed_at":1763000002000000,"received_at":1763000002000000,
  "server_received":true,"source":"replica"}');
INSERT INTO price_observations VALUES (7, 't2', 'us-west-2', 'c6i.xlarge', 'us-west-2b', 'spot',
  1762999000000000, '{"seq":7,"tenant_id":"t2","agent_id":"caf\u00e9 \"7\"",
  "registration_id":"reg-ü","region":"us-west-2","az":"us-west-2b",
  "instance_type":"c6i.xlarge","kind":"spot","price_micros":999999999,
  "observed_at":1762999000000000,"received_at":1763000003000000,"server_received":false,
  "source":"primary"}');
UPDATE sqlite_sequence SET seq = 9 WHERE name = 'price_observations';
PRAGMA user_version = 2;
COMMIT;
)sql";

PriceObservation Observation(int64_t seq, std::string tenant_id, std::string agent_id,
                             std::string registration_id, std::string region, std::string az,
                             std::string instance_type, PriceKind kind, int64_t micros,
                             int64_t observed_us, int64_t received_us, bool server_received,
                             PriceSource source) {
  PriceObservation o;
  o.seq = seq;
  o.tenant_id = std::move(tenant_id);
  o.agent_id = std::move(agent_id);
  o.registration_id = std::move(registration_id);
  o.region = std::move(region);
  o.az = std::move(az);
  o.instance_type = std::move(instance_type);
  o.kind = kind;
  o.price = Money::FromMicros(micros);
  o.observed_at = FromMicros(observed_us);
  o.received_at = FromMicros(received_us);
  o.server_received = server_received;
  o.source = source;
  return o;
}

auto Fields(const PriceObservation& o) {
  return std::tie(o.seq, o.tenant_id, o.agent_id, o.registration_id, o.region, o.az,
                  o.instance_type, o.kind, o.price, o.observed_at, o.received_at, o.server_received,
                  o.source);
}

void CheckSameList(const std::vector<PriceObservation>& got,
                   const std::vector<PriceObservation>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(Fields(got[i]) == Fields(want[i]));
  }
}

// A fresh v4 database holding tenants t1 and t2, agent a1 of t1, its registration r1
// (last seen at kT0 + 5 s) and an incident of r1's instance.
std::string MakeV4Database(const TempDir& dir) {
  const std::string path = dir.File("old.db");
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    REQUIRE((*tx)->InsertTenant(MakeTenant("t1")).ok());
    REQUIRE((*tx)->InsertTenant(MakeTenant("t2")).ok());
    const Agent agent = MakeAgent("a1", "t1");
    REQUIRE((*tx)->InsertAgent(agent).ok());
    const Registration r1 = MakeRegistration("r1", agent, kT0 + absl::Seconds(5));
    REQUIRE((*tx)->InsertRegistration(r1).ok());
    Incident i;
    i.id = "i1";
    i.tenant_id = "t1";
    i.agent_id = "a1";
    i.instance_id = r1.instance_id;
    i.pool = Pool{"us-east-1", "us-east-1a", "m5.large"};
    i.notice_time = i.first_seen = i.last_seen = kT0;
    REQUIRE((*tx)->InsertIncident(i).ok());
    REQUIRE((*tx)->Commit().ok());
  }
  Exec(path, std::string(kToV4));
  REQUIRE(QueryInt(path, "PRAGMA user_version") == 4);
  return path;
}

// A fresh v3 database: MakeV4Database's, turned back once more.
std::string MakeV3Database(const TempDir& dir) {
  const std::string path = MakeV4Database(dir);
  Exec(path, std::string(kToV3));
  REQUIRE(QueryInt(path, "PRAGMA user_version") == 3);
  return path;
}

// A fresh v2 database: MakeV3Database's, with the observations of kToV2.
std::string MakeV2Database(const TempDir& dir) {
  const std::string path = MakeV3Database(dir);
  Exec(path, std::string(kToV2));
  REQUIRE(QueryInt(path, "PRAGMA user_version") == 2);
  return path;
}

TEST_CASE("SqliteStore migrates a v2 database: every price observation survives") {
  TempDir dir;
  const std::string path = MakeV2Database(dir);
  const std::vector<PriceObservation> t1 = {
      Observation(2, "t1", "a1", "r1", "us-east-1", "us-east-1a", "m5.large", PriceKind::kSpot,
                  38'900, 1763000000000000, 1763000001000000, false, PriceSource::kPrimary),
      Observation(3, "t1", "a1", "r2", "us-east-1", "", "m5.large", PriceKind::kOnDemand, 96'000,
                  1763000002000000, 1763000002000000, true, PriceSource::kReplica),
  };
  const std::vector<PriceObservation> t2 = {
      Observation(7, "t2", "caf\u00e9 \"7\"", "reg-\u00fc", "us-west-2", "us-west-2b", "c6i.xlarge",
                  PriceKind::kSpot, 999'999'999, 1762999000000000, 1763000003000000, false,
                  PriceSource::kPrimary),
  };

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK(SqliteStore::SchemaVersion() == 5);
  CHECK(QueryInt(path, "PRAGMA user_version") == 5);
  CHECK(QueryInt(path,
                 "SELECT count(*) FROM pragma_table_info('price_observations') "
                 "WHERE name = 'doc'") == 0);
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    CheckSameList(*(*tx)->ListTenantPriceObservations("t1"), t1);
    CheckSameList(*(*tx)->ListTenantPriceObservations("t2"), t2);
    CheckSameList(*(*tx)->ListPriceObservations("t1", {"us-east-1", "us-east-1a", "m5.large"}, kT0,
                                                kT0 + absl::Seconds(1)),
                  {t1[0]});
    CheckSameList(*(*tx)->ListLatestPrices("t1", "us-east-1", "m5.large"), {t1[1], t1[0]});
    CHECK(*(*tx)->ListPriceSeries("t2") ==
          std::vector<Pool>{{"us-west-2", "us-west-2b", "c6i.xlarge"}});
  }
  {
    // Numbering goes on after the highest seq v2 handed out, not after the highest kept.
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    CHECK(*(*tx)->InsertPriceObservation(t1[0]) == 10);
    REQUIRE((*tx)->Commit().ok());
  }
  const absl::Status integrity = (*store)->CheckIntegrity();
  CHECK_MESSAGE(integrity.ok(), integrity.ToString());
}

TEST_CASE("SqliteStore migrates a v3 database: last_seen_at moves to registration_liveness") {
  TempDir dir;
  const std::string path = MakeV3Database(dir);
  // The v3 column, not the copy in the document, is what v3 read.
  const Time column = kT0 + absl::Seconds(9);
  Exec(path, "UPDATE registrations SET last_seen_at = " + std::to_string(ToMicros(column)));

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK(QueryInt(path, "PRAGMA user_version") == 5);
  CHECK(QueryInt(path,
                 "SELECT count(*) FROM pragma_table_info('registrations') "
                 "WHERE name = 'last_seen_at'") == 0);
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    absl::StatusOr<Registration> r = (*tx)->GetRegistration("r1");
    REQUIRE(r.ok());
    CHECK(r->last_seen_at == column);
    CHECK(r->agent_id == "a1");
  }
  REQUIRE((*store)->TouchRegistration("r1", column + absl::Seconds(1)).ok());
  REQUIRE((*store)->FlushHeld().ok());
  CHECK(QueryInt(path, "SELECT last_seen_at FROM registration_liveness WHERE id = 'r1'") ==
        ToMicros(column + absl::Seconds(1)));
  // The copy in the document was read past, and a rewritten document drops it.
  const auto has_copy = [&] {
    return QueryInt(path,
                    "SELECT count(*) FROM registrations "
                    "WHERE id = 'r1' AND json_type(doc, '$.last_seen_at') IS NOT NULL");
  };
  CHECK(has_copy() == 1);
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    absl::StatusOr<Registration> r = (*tx)->GetRegistration("r1");
    REQUIRE(r.ok());
    r->last_seen_at = column + absl::Seconds(2);
    REQUIRE((*tx)->UpdateRegistration(*r).ok());
    REQUIRE((*tx)->Commit().ok());
  }
  CHECK(has_copy() == 0);
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kRead);
    REQUIRE(tx.ok());
    CHECK((*tx)->GetRegistration("r1")->last_seen_at == column + absl::Seconds(2));
  }
  const absl::Status integrity = (*store)->CheckIntegrity();
  CHECK_MESSAGE(integrity.ok(), integrity.ToString());
}

TEST_CASE("SqliteStore migrates a v4 database: the decision log starts empty") {
  TempDir dir;
  const std::string path = MakeV4Database(dir);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK(QueryInt(path, "PRAGMA user_version") == 5);
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = (*store)->Begin(TxMode::kWrite);
    REQUIRE(tx.ok());
    // An incident v4 wrote has no pool: unknown, not an error.
    absl::StatusOr<Incident> i = (*tx)->GetIncident("i1");
    REQUIRE_MESSAGE(i.ok(), i.status().ToString());
    CHECK(i->pool == Pool{});
    CHECK((*tx)->ListTenantIncidentsSince("t1", kT0)->size() == 1);
    CHECK((*tx)->ListLatestDecisionKeys()->empty());
    decision::DecisionRecord d;
    d.id = "d1";
    d.tenant_id = "t1";
    d.agent_id = "a1";
    d.decided_at = kT0;
    d.decision.engine = "rules";
    d.decision.engine_version = "1.0.0";
    CHECK(*(*tx)->InsertDecision(d) == 1);
    REQUIRE((*tx)->Commit().ok());
  }
  const absl::Status integrity = (*store)->CheckIntegrity();
  CHECK_MESSAGE(integrity.ok(), integrity.ToString());
}

TEST_CASE("SqliteStore leaves a v2 database untouched when its migration fails") {
  TempDir dir;
  const std::string path = MakeV2Database(dir);
  // A document missing a field the v3 columns require.
  Exec(path,
       "INSERT INTO price_observations VALUES (8, 't1', 'us-east-1', 'm5.large', 'us-east-1a', "
       "'spot', 1, '{\"seq\":8}')");
  const int64_t cookie = QueryInt(path, "PRAGMA schema_version");

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  CHECK_FALSE(store.ok());
  CHECK(QueryInt(path, "PRAGMA user_version") == 2);
  CHECK(QueryInt(path, "PRAGMA schema_version") == cookie);
  CHECK(QueryInt(path, "SELECT count(*) FROM price_observations WHERE doc IS NOT NULL") == 4);
}

}  // namespace
}  // namespace spotopt
