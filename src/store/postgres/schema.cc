#include "store/postgres/schema.h"

#include <array>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "store/postgres/connection.h"
#include "store/sql.h"

namespace spotopt::pg {
namespace {

// Schema migrations: kMigrations[i] takes a database from version i to i + 1. The
// tables are SqliteStore's at its version 5, in PostgreSQL's types: every record in
// `doc` (the codec's canonical JSON) with real columns for keys, constraints and the
// List queries' indexes; price observations in plain columns only; liveness in its
// own narrow table. Keys compare as bytes (COLLATE "C"), so lists come out in the
// order the other stores give whatever the database's locale. Enum values are
// substituted by FormatSql.
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {R"sql(
CREATE TABLE tenants (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  state text NOT NULL,
  created_at bigint NOT NULL,
  doc text NOT NULL);

CREATE TABLE api_tokens (
  prefix text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id),
  created_at bigint NOT NULL,
  expires_at bigint,
  doc text NOT NULL);
CREATE INDEX api_tokens_by_tenant ON api_tokens(tenant_id, created_at, prefix);

CREATE TABLE agents (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id),
  logical_id text COLLATE "C" NOT NULL,
  lifecycle text NOT NULL,
  replica_mode text NOT NULL,
  instance_id text NOT NULL,
  created_at bigint NOT NULL,
  doc text NOT NULL);
CREATE UNIQUE INDEX agents_logical_id ON agents(tenant_id, logical_id);
CREATE INDEX agents_by_tenant ON agents(tenant_id, id);
CREATE INDEX agents_active_by_replica_mode ON agents(replica_mode, id)
  WHERE lifecycle = '{active}';

CREATE TABLE agent_aliases (
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id),
  logical_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  created_at bigint NOT NULL,
  doc text NOT NULL,
  PRIMARY KEY (tenant_id, logical_id));
CREATE INDEX agent_aliases_by_agent ON agent_aliases(agent_id);

CREATE TABLE registrations (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  instance_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  doc text NOT NULL);
CREATE UNIQUE INDEX registrations_agent_instance ON registrations(agent_id, instance_id);
CREATE INDEX registrations_by_agent ON registrations(agent_id, created_at, id);

-- Heartbeats rewrite liveness far more often than anything else: a narrow row, and
-- room on its page for the next version, so an update stays on the page and touches
-- no index (a HOT update).
CREATE TABLE registration_liveness (
  id text COLLATE "C" PRIMARY KEY REFERENCES registrations(id),
  last_seen_at bigint NOT NULL) WITH (fillfactor = 50);

-- seq numbers commands in insertion order, for delivery order ties.
CREATE SEQUENCE commands_seq;
CREATE TABLE commands (
  id text COLLATE "C" PRIMARY KEY,
  seq bigint NOT NULL UNIQUE,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  type text NOT NULL,
  state text NOT NULL,
  priority bigint NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  lease_expires_at bigint,
  doc text NOT NULL);
CREATE UNIQUE INDEX commands_one_leased ON commands(agent_id, state)
  WHERE state = '{leased}';
CREATE UNIQUE INDEX commands_one_open_placement ON commands(agent_id, type)
  WHERE type = '{switch}' AND state IN ('{pending}', '{leased}');
CREATE INDEX commands_by_agent ON commands(agent_id, priority DESC, created_at, seq);
CREATE INDEX commands_open_by_agent ON commands(agent_id, priority DESC, created_at, seq)
  WHERE state IN ('{pending}', '{leased}');
CREATE INDEX commands_pending_expiry ON commands(expires_at) WHERE state = '{pending}';
CREATE INDEX commands_lease_expiry ON commands(lease_expires_at) WHERE state = '{leased}';
CREATE INDEX commands_by_created ON commands(created_at);

CREATE TABLE replicas (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  state text NOT NULL,
  instance_id text NOT NULL,
  created_at bigint NOT NULL,
  doc text NOT NULL);
CREATE UNIQUE INDEX replicas_one_live ON replicas(agent_id)
  WHERE state NOT IN ('{promoted}', '{failed}', '{terminated}');
CREATE INDEX replicas_by_agent ON replicas(agent_id, created_at, id);
CREATE INDEX replicas_live ON replicas(created_at, id)
  WHERE state NOT IN ('{promoted}', '{failed}', '{terminated}');

CREATE TABLE incidents (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  instance_id text NOT NULL,
  signal text NOT NULL,
  notice_time bigint NOT NULL,
  first_seen bigint NOT NULL,
  closed_at bigint,
  doc text NOT NULL);
CREATE INDEX incidents_by_agent ON incidents(agent_id, first_seen, id);
CREATE INDEX incidents_open ON incidents(first_seen, id) WHERE closed_at IS NULL;
CREATE INDEX incidents_by_tenant ON incidents(tenant_id, first_seen, id);

CREATE TABLE agent_events (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  kind text NOT NULL,
  at bigint NOT NULL,
  doc text NOT NULL);
CREATE INDEX agent_events_by_agent ON agent_events(agent_id, at, id);

CREATE TABLE price_observations (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL REFERENCES tenants(id),
  agent_id text COLLATE "C" NOT NULL,
  registration_id text COLLATE "C" NOT NULL,
  region text COLLATE "C" NOT NULL,
  az text COLLATE "C" NOT NULL,
  instance_type text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  price_micros bigint NOT NULL,
  observed_at bigint NOT NULL,
  received_at bigint NOT NULL,
  server_received boolean NOT NULL,
  source text NOT NULL);
CREATE INDEX price_observations_by_pool
  ON price_observations(tenant_id, region, instance_type, az, kind, observed_at, seq);

CREATE TABLE switches (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  created_at bigint NOT NULL,
  doc text NOT NULL);
CREATE INDEX switches_by_agent ON switches(agent_id, created_at, id);

CREATE TABLE cleanup_logs (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  received_at bigint NOT NULL,
  doc text NOT NULL);
CREATE INDEX cleanup_logs_by_agent ON cleanup_logs(agent_id, received_at, id);

CREATE TABLE run_segments (
  id text COLLATE "C" PRIMARY KEY,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  instance_id text COLLATE "C" NOT NULL,
  role text NOT NULL,
  started_at bigint NOT NULL,
  ended_at bigint,
  doc text NOT NULL);
CREATE UNIQUE INDEX run_segments_one_open ON run_segments(agent_id, instance_id, role)
  WHERE ended_at IS NULL;
CREATE INDEX run_segments_by_agent ON run_segments(agent_id, started_at, id);
CREATE INDEX run_segments_by_tenant ON run_segments(tenant_id, started_at, id);

-- The decision log; each agent's latest entry and its key in a narrow table, so the
-- fleet run learns whether a decision changed in one small scan.
CREATE SEQUENCE decisions_seq;
CREATE TABLE decisions (
  id text COLLATE "C" PRIMARY KEY,
  seq bigint NOT NULL UNIQUE,
  tenant_id text COLLATE "C" NOT NULL,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents(id),
  decided_at bigint NOT NULL,
  doc text NOT NULL);
CREATE INDEX decisions_by_agent ON decisions(agent_id, seq);
CREATE INDEX decisions_by_tenant ON decisions(tenant_id, seq);
CREATE INDEX decisions_by_time ON decisions(decided_at);
CREATE TABLE decision_heads (
  agent_id text COLLATE "C" PRIMARY KEY REFERENCES agents(id),
  seq bigint NOT NULL,
  key text NOT NULL);
)sql"};

// The advisory lock every process takes to migrate: "spotopt" as a number.
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(32493246318866548)";

// Runs SQL that returns nothing worth reading.
absl::Status Exec(PGconn* conn, const std::string& sql, std::string_view what) {
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  absl::Status s = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                       ? absl::OkStatus()
                       : ErrorOf(r, fmt::format("migrate: {}", what));
  PQclear(r);
  return s;
}

absl::Status MigrateLocked(PGconn* conn) {
  // The version lives in a table of its own, created here under the lock.
  absl::Status s = Exec(conn,
                        "CREATE TABLE IF NOT EXISTS spotopt_schema (version integer NOT NULL); "
                        "INSERT INTO spotopt_schema SELECT 0 "
                        "WHERE NOT EXISTS (SELECT FROM spotopt_schema)",
                        "create the version table");
  if (!s.ok()) return s;
  PGresult* r = PQexec(conn, "SELECT version FROM spotopt_schema");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    s = ErrorOf(r, "migrate: read the schema version");
    PQclear(r);
    return s.ok() ? absl::DataLossError("postgres store: spotopt_schema must hold one row") : s;
  }
  const int version = std::atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  if (version < 0 || version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        fmt::format("postgres store: database schema version {} is not one this build knows ({})",
                    version, kSchemaVersion));
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    s = Exec(conn, sql::FormatSql(kMigrations[v]), fmt::format("to version {}", v + 1));
    if (!s.ok()) return s;
  }
  return Exec(conn, fmt::format("UPDATE spotopt_schema SET version = {}", kSchemaVersion),
              "write the schema version");
}

}  // namespace

absl::Status Migrate(PGconn* conn) {
  // READ COMMITTED: each statement after the lock sees what a migration that held it
  // before committed.
  absl::Status s = Exec(conn, "BEGIN ISOLATION LEVEL READ COMMITTED", "begin");
  if (s.ok()) s = Exec(conn, std::string(kMigrationLock), "take the migration lock");
  if (s.ok()) s = MigrateLocked(conn);
  if (s.ok()) s = Exec(conn, "COMMIT", "commit");
  if (!s.ok()) PQclear(PQexec(conn, "ROLLBACK"));
  return s;
}

}  // namespace spotopt::pg
