#include "store/sqlite/schema.h"

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "absl/status/statusor.h"
#include "store/sql.h"

namespace spotopt::sqlite {
namespace {

// Schema migrations: kMigrations[i] takes a database from version i to i + 1. Enum
// values are written as their ToString text (substituted by FormatSql), the same
// text the codec puts in `doc`. Each table but price_observations keeps the whole
// record in `doc`; the other columns exist for keys, constraints and the List
// queries' indexes. Price observations, the bulk of the data, have plain columns
// only, so storing one is a bare INSERT.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {R"sql(
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL);

CREATE TABLE api_tokens (
  prefix TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  doc TEXT NOT NULL);
CREATE INDEX api_tokens_by_tenant ON api_tokens(tenant_id, created_at, prefix);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  logical_id TEXT NOT NULL,
  lifecycle TEXT NOT NULL,
  replica_mode TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE UNIQUE INDEX agents_logical_id ON agents(tenant_id, logical_id);
CREATE INDEX agents_by_tenant ON agents(tenant_id, id);
CREATE INDEX agents_active_by_replica_mode ON agents(replica_mode, id)
  WHERE lifecycle = '{active}';

CREATE TABLE agent_aliases (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  logical_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (tenant_id, logical_id));
CREATE INDEX agent_aliases_by_agent ON agent_aliases(agent_id);

CREATE TABLE registrations (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  instance_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE UNIQUE INDEX registrations_agent_instance ON registrations(agent_id, instance_id);
CREATE INDEX registrations_by_agent ON registrations(agent_id, created_at, id);

-- seq is the rowid, so delivery order ties break on insertion order.
CREATE TABLE commands (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  lease_expires_at INTEGER,
  doc TEXT NOT NULL);
-- The two constraints index different column pairs so that a violation message
-- names which one failed.
CREATE UNIQUE INDEX commands_one_leased ON commands(agent_id, state)
  WHERE state = '{leased}';
CREATE UNIQUE INDEX commands_one_open_placement ON commands(agent_id, type)
  WHERE type = '{switch}' AND state IN ('{pending}', '{leased}');
CREATE INDEX commands_by_agent ON commands(agent_id, priority DESC, created_at, seq);
CREATE INDEX commands_open_by_agent ON commands(agent_id, priority DESC, created_at, seq)
  WHERE state IN ('{pending}', '{leased}');
CREATE INDEX commands_pending_expiry ON commands(expires_at) WHERE state = '{pending}';
CREATE INDEX commands_lease_expiry ON commands(lease_expires_at) WHERE state = '{leased}';

CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  state TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE UNIQUE INDEX replicas_one_live ON replicas(agent_id)
  WHERE state NOT IN ('{promoted}', '{failed}', '{terminated}');
CREATE INDEX replicas_by_agent ON replicas(agent_id, created_at, id);
CREATE INDEX replicas_live ON replicas(created_at, id)
  WHERE state NOT IN ('{promoted}', '{failed}', '{terminated}');

CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  instance_id TEXT NOT NULL,
  signal TEXT NOT NULL,
  notice_time INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  closed_at INTEGER,
  doc TEXT NOT NULL);
CREATE INDEX incidents_by_agent ON incidents(agent_id, first_seen, id);
CREATE INDEX incidents_open ON incidents(first_seen, id) WHERE closed_at IS NULL;

CREATE TABLE agent_events (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  kind TEXT NOT NULL,
  at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX agent_events_by_agent ON agent_events(agent_id, at, id);
)sql",
                                                                      R"sql(
-- Version 2: what agents report. seq is the rowid, numbered like commands.seq.
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

CREATE TABLE switches (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX switches_by_agent ON switches(agent_id, created_at, id);

CREATE TABLE cleanup_logs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  received_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX cleanup_logs_by_agent ON cleanup_logs(agent_id, received_at, id);
)sql",
                                                                      R"sql(
-- Version 3: price observations in plain columns, converted from their v2 documents.
-- kind joins the pool index so the newest price of each (AZ, kind) is one seek.
CREATE TABLE price_observations_v3 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  agent_id TEXT NOT NULL,
  registration_id TEXT NOT NULL,
  region TEXT NOT NULL,
  az TEXT NOT NULL,
  instance_type TEXT NOT NULL,
  kind TEXT NOT NULL,
  price_micros INTEGER NOT NULL,
  observed_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  server_received INTEGER NOT NULL,
  source TEXT NOT NULL);
-- The sequence carries over (the rename below moves its row), so no seq is reused.
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'price_observations_v3', seq FROM sqlite_sequence WHERE name = 'price_observations';
INSERT INTO price_observations_v3 (seq, tenant_id, agent_id, registration_id, region, az,
    instance_type, kind, price_micros, observed_at, received_at, server_received, source)
  SELECT seq, tenant_id, json_extract(doc, '$.agent_id'), json_extract(doc, '$.registration_id'),
    region, az, instance_type, kind, json_extract(doc, '$.price_micros'), observed_at,
    json_extract(doc, '$.received_at'), json_extract(doc, '$.server_received'),
    json_extract(doc, '$.source')
  FROM price_observations ORDER BY seq;
DROP TABLE price_observations;
ALTER TABLE price_observations_v3 RENAME TO price_observations;
CREATE INDEX price_observations_by_pool
  ON price_observations(tenant_id, region, instance_type, az, kind, observed_at, seq);

CREATE TABLE run_segments (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  instance_id TEXT NOT NULL,
  role TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  doc TEXT NOT NULL);
CREATE UNIQUE INDEX run_segments_one_open ON run_segments(agent_id, instance_id, role)
  WHERE ended_at IS NULL;
CREATE INDEX run_segments_by_agent ON run_segments(agent_id, started_at, id);
CREATE INDEX run_segments_by_tenant ON run_segments(tenant_id, started_at, id);
)sql",
                                                                      R"sql(
-- Version 4: liveness in its own narrow table. Heartbeats rewrite it far more often
-- than anything else in a registration, so a batch of them touches a few small
-- pages instead of every registration's row and document.
CREATE TABLE registration_liveness (
  id TEXT PRIMARY KEY REFERENCES registrations(id),
  last_seen_at INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO registration_liveness (id, last_seen_at) SELECT id, last_seen_at FROM registrations;
ALTER TABLE registrations DROP COLUMN last_seen_at;
-- Bumped by every write transaction: how each process's record cache knows that
-- another process committed (src/store/record_cache.h).
CREATE TABLE store_version (n INTEGER NOT NULL);
INSERT INTO store_version (n) VALUES (0);
)sql",
                                                                      R"sql(
-- Version 5: the decision log. seq is the rowid, numbered like commands.seq. Each
-- agent's latest entry and its key live in a narrow table, so the fleet run learns
-- whether a decision changed for 100,000 agents in one small scan.
CREATE TABLE decisions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL REFERENCES agents(id),
  decided_at INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX decisions_by_agent ON decisions(agent_id, seq);
CREATE INDEX decisions_by_tenant ON decisions(tenant_id, seq);
CREATE INDEX decisions_by_time ON decisions(decided_at);
CREATE TABLE decision_heads (
  agent_id TEXT PRIMARY KEY REFERENCES agents(id),
  seq INTEGER NOT NULL,
  key TEXT NOT NULL) WITHOUT ROWID;
-- The fleet run reads a week of commands and the day's incidents in one range each.
CREATE INDEX commands_by_created ON commands(created_at);
CREATE INDEX incidents_by_tenant ON incidents(tenant_id, first_seen, id);
)sql"};

absl::Status MigrateLocked(Connection& conn) {
  absl::StatusOr<int64_t> version = conn.QueryInt("PRAGMA user_version", "read schema version");
  if (!version.ok()) return version.status();
  if (*version < 0 || *version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        fmt::format("sqlite store: database schema version {} is not one this build knows ({})",
                    *version, kSchemaVersion));
  }
  for (int64_t v = *version; v < kSchemaVersion; ++v) {
    absl::Status s = conn.Exec(sql::FormatSql(kMigrations[v]), fmt::format("migrate to {}", v + 1));
    if (!s.ok()) return s;
  }
  return conn.Exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion), "write schema version");
}

}  // namespace

absl::Status Migrate(Connection& conn) {
  absl::StatusOr<int64_t> version = conn.QueryInt("PRAGMA user_version", "read schema version");
  if (!version.ok()) return version.status();
  if (*version == kSchemaVersion) return absl::OkStatus();
  if (absl::Status s = conn.Exec("BEGIN IMMEDIATE", "begin migration"); !s.ok()) return s;
  absl::Status s = MigrateLocked(conn);
  if (s.ok()) s = conn.Exec("COMMIT", "commit migration");
  if (!s.ok()) sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

}  // namespace spotopt::sqlite
