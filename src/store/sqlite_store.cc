#include "spotopt/store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "store/codec.h"
#include "store/record_cache.h"

namespace spotopt {
namespace {

constexpr int kSchemaVersion = 4;

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
)sql"};

// Statements every connection prepares once, indexed by Stmt.
enum Stmt : int {
  kBegin,
  kBeginImmediate,
  kCommit,
  kRollback,
  kReadVersion,
  kBumpVersion,
  kGetTenant,
  kInsertTenant,
  kUpdateTenant,
  kListTenants,
  kGetToken,
  kInsertToken,
  kUpdateToken,
  kListTokens,
  kGetAgent,
  kFindAgent,
  kInsertAgent,
  kUpdateAgent,
  kListAgents,
  kListAgentsByReplicaMode,
  kFindAlias,
  kInsertAlias,
  kListAliases,
  kGetRegistration,
  kFindRegistration,
  kInsertRegistration,
  kUpdateRegistration,
  kListRegistrations,
  kPutLiveness,
  kTouchRegistration,
  kGetCommand,
  kNextCommandSeq,
  kInsertCommand,
  kUpdateCommand,
  kListOpenCommands,
  kListCommands,
  kListDueCommands,
  kGetReplica,
  kInsertReplica,
  kUpdateReplica,
  kListReplicas,
  kListLiveReplicas,
  kGetIncident,
  kInsertIncident,
  kUpdateIncident,
  kListIncidents,
  kListOpenIncidents,
  kInsertEvent,
  kListEvents,
  kInsertPrice,
  kListPrices,
  kNextLatestPricePair,
  kLatestPriceOfPair,
  kListTenantPrices,
  kFirstPriceSeries,
  kNextPriceSeries,
  kDeletePrice,
  kGetSwitch,
  kInsertSwitch,
  kUpdateSwitch,
  kListSwitches,
  kInsertCleanupLog,
  kListCleanupLogs,
  kGetRunSegment,
  kInsertRunSegment,
  kUpdateRunSegment,
  kFindOpenRunSegment,
  kListRunSegments,
  kListTenantRunSegments,
  kStmtCount,
};

// Insert and Update of a table bind the same numbered parameters, so one binder
// serves both. Command rows also read `seq` (column 1) after `doc`.
constexpr std::array<std::string_view, kStmtCount> kStatements = {
    "BEGIN",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SELECT n FROM store_version",
    "UPDATE store_version SET n = n + 1",
    // Tenants.
    "SELECT doc FROM tenants WHERE id = ?1",
    "INSERT INTO tenants (id, name, state, created_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
    "UPDATE tenants SET name = ?2, state = ?3, created_at = ?4, doc = ?5 WHERE id = ?1",
    "SELECT doc FROM tenants ORDER BY id",
    // API tokens.
    "SELECT doc FROM api_tokens WHERE prefix = ?1",
    "INSERT INTO api_tokens (prefix, tenant_id, created_at, expires_at, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    "UPDATE api_tokens SET tenant_id = ?2, created_at = ?3, expires_at = ?4, doc = ?5 "
    "WHERE prefix = ?1",
    "SELECT doc FROM api_tokens WHERE tenant_id = ?1 ORDER BY created_at, prefix",
    // Agents.
    "SELECT doc FROM agents WHERE id = ?1",
    "SELECT doc FROM agents WHERE tenant_id = ?1 AND logical_id = ?2",
    "INSERT INTO agents (id, tenant_id, logical_id, lifecycle, replica_mode, instance_id, "
    "created_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "UPDATE agents SET logical_id = ?3, lifecycle = ?4, replica_mode = ?5, instance_id = ?6, "
    "doc = ?8 WHERE id = ?1 AND tenant_id = ?2 AND created_at = ?7",
    "SELECT doc FROM agents WHERE tenant_id = ?1 ORDER BY id",
    "SELECT doc FROM agents WHERE lifecycle = '{active}' AND replica_mode = ?1 ORDER BY id",
    // Aliases.
    "SELECT doc FROM agent_aliases WHERE tenant_id = ?1 AND logical_id = ?2",
    "INSERT INTO agent_aliases (tenant_id, logical_id, agent_id, created_at, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    "SELECT doc FROM agent_aliases WHERE tenant_id = ?1 ORDER BY logical_id",
    // Registrations.
    // A registration's last_seen_at is read from registration_liveness; the copy in
    // doc is as of the record's last full write.
    "SELECT r.doc, l.last_seen_at FROM registrations r "
    "JOIN registration_liveness l ON l.id = r.id WHERE r.id = ?1",
    "SELECT r.doc, l.last_seen_at FROM registrations r "
    "JOIN registration_liveness l ON l.id = r.id WHERE r.agent_id = ?1 AND r.instance_id = ?2",
    "INSERT INTO registrations (id, tenant_id, agent_id, instance_id, created_at, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "UPDATE registrations SET doc = ?6 "
    "WHERE id = ?1 AND tenant_id = ?2 AND agent_id = ?3 AND instance_id = ?4 AND created_at = ?5",
    "SELECT r.doc, l.last_seen_at FROM registrations r "
    "JOIN registration_liveness l ON l.id = r.id WHERE r.agent_id = ?1 "
    "ORDER BY r.created_at, r.id",
    "INSERT INTO registration_liveness (id, last_seen_at) VALUES (?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    // A held beat, never backwards.
    "UPDATE registration_liveness SET last_seen_at = ?2 WHERE id = ?1 AND last_seen_at < ?2",
    // Commands.
    "SELECT doc, seq FROM commands WHERE id = ?1",
    // Never reuses a number, like AUTOINCREMENT itself.
    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'commands'), 0) + 1",
    "INSERT INTO commands (id, tenant_id, agent_id, type, state, priority, created_at, "
    "expires_at, lease_expires_at, doc, seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "UPDATE commands SET state = ?5, priority = ?6, expires_at = ?8, lease_expires_at = ?9, "
    "doc = ?10 WHERE id = ?1 AND tenant_id = ?2 AND agent_id = ?3 AND type = ?4 AND created_at = "
    "?7",
    "SELECT doc, seq FROM commands WHERE agent_id = ?1 AND state IN ('{pending}', '{leased}') "
    "ORDER BY priority DESC, created_at, seq",
    "SELECT doc, seq FROM commands WHERE agent_id = ?1 ORDER BY priority DESC, created_at, seq",
    "SELECT doc, seq FROM commands "
    "WHERE (state = '{pending}' AND expires_at <= ?1) "
    "OR (state = '{leased}' AND lease_expires_at <= ?1) "
    "ORDER BY priority DESC, created_at, seq",
    // Replicas.
    "SELECT doc FROM replicas WHERE id = ?1",
    "INSERT INTO replicas (id, tenant_id, agent_id, state, instance_id, created_at, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "UPDATE replicas SET state = ?4, instance_id = ?5, doc = ?7 "
    "WHERE id = ?1 AND tenant_id = ?2 AND agent_id = ?3 AND created_at = ?6",
    "SELECT doc FROM replicas WHERE agent_id = ?1 ORDER BY created_at, id",
    "SELECT doc FROM replicas WHERE state NOT IN ('{promoted}', '{failed}', '{terminated}') "
    "ORDER BY created_at, id",
    // Incidents.
    "SELECT doc FROM incidents WHERE id = ?1",
    "INSERT INTO incidents (id, tenant_id, agent_id, instance_id, signal, notice_time, "
    "first_seen, closed_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    "UPDATE incidents SET tenant_id = ?2, agent_id = ?3, instance_id = ?4, signal = ?5, "
    "notice_time = ?6, first_seen = ?7, closed_at = ?8, doc = ?9 WHERE id = ?1",
    "SELECT doc FROM incidents WHERE agent_id = ?1 ORDER BY first_seen, id",
    "SELECT doc FROM incidents WHERE closed_at IS NULL ORDER BY first_seen, id",
    // Events.
    "INSERT INTO agent_events (id, tenant_id, agent_id, kind, at, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "SELECT doc FROM agent_events WHERE agent_id = ?1 ORDER BY at, id",
    // Price observations. seq is the rowid: AUTOINCREMENT numbers them apart from
    // commands and never reuses a number, even after a deletion.
    "INSERT INTO price_observations (tenant_id, agent_id, registration_id, region, az, "
    "instance_type, kind, price_micros, observed_at, received_at, server_received, source) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    // One index range per kind, merged by the sort.
    "SELECT {price_columns} FROM price_observations WHERE tenant_id = ?1 AND region = ?2 "
    "AND instance_type = ?3 AND az = ?4 AND kind IN ('{spot}', '{ondemand}') "
    "AND observed_at >= ?5 AND observed_at < ?6 ORDER BY observed_at, seq",
    // ListLatestPrices skips through the pool index: the next (az, kind) after the
    // given one, then that pair's newest row. A row-value comparison would seek on az
    // alone and scan the rest of that AZ, so each column's step is its own seek.
    "SELECT az, kind FROM ("
    "SELECT * FROM (SELECT az, kind FROM price_observations WHERE tenant_id = ?1 "
    "AND region = ?2 AND instance_type = ?3 AND az = ?4 AND kind > ?5 ORDER BY kind LIMIT 1) "
    "UNION ALL "
    "SELECT * FROM (SELECT az, kind FROM price_observations WHERE tenant_id = ?1 "
    "AND region = ?2 AND instance_type = ?3 AND az > ?4 ORDER BY az, kind LIMIT 1)) "
    "ORDER BY az, kind LIMIT 1",
    "SELECT {price_columns} FROM price_observations WHERE tenant_id = ?1 AND region = ?2 "
    "AND instance_type = ?3 AND az = ?4 AND kind = ?5 ORDER BY observed_at DESC, seq DESC LIMIT 1",
    "SELECT {price_columns} FROM price_observations WHERE tenant_id = ?1 ORDER BY seq",
    // ListPriceSeries skips through the pool index the same way.
    "SELECT region, instance_type, az FROM price_observations WHERE tenant_id = ?1 "
    "ORDER BY region, instance_type, az LIMIT 1",
    "SELECT region, instance_type, az FROM ("
    "SELECT * FROM (SELECT region, instance_type, az FROM price_observations "
    "WHERE tenant_id = ?1 AND region = ?2 AND instance_type = ?3 AND az > ?4 "
    "ORDER BY az LIMIT 1) "
    "UNION ALL "
    "SELECT * FROM (SELECT region, instance_type, az FROM price_observations "
    "WHERE tenant_id = ?1 AND region = ?2 AND instance_type > ?3 "
    "ORDER BY instance_type, az LIMIT 1) "
    "UNION ALL "
    "SELECT * FROM (SELECT region, instance_type, az FROM price_observations "
    "WHERE tenant_id = ?1 AND region > ?2 ORDER BY region, instance_type, az LIMIT 1)) "
    "ORDER BY region, instance_type, az LIMIT 1",
    "DELETE FROM price_observations WHERE seq = ?1",
    // Switches.
    "SELECT doc FROM switches WHERE id = ?1",
    "INSERT INTO switches (id, tenant_id, agent_id, created_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
    "UPDATE switches SET tenant_id = ?2, agent_id = ?3, created_at = ?4, doc = ?5 WHERE id = ?1",
    "SELECT doc FROM switches WHERE agent_id = ?1 ORDER BY created_at, id",
    // Cleanup logs.
    "INSERT INTO cleanup_logs (id, tenant_id, agent_id, received_at, doc) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    "SELECT doc FROM cleanup_logs WHERE agent_id = ?1 ORDER BY received_at, id",
    // Run segments. An update only ever sets ended_at (and the doc).
    "SELECT doc FROM run_segments WHERE id = ?1",
    "INSERT INTO run_segments (id, tenant_id, agent_id, instance_id, role, started_at, ended_at, "
    "doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    "UPDATE run_segments SET ended_at = ?7, doc = ?8 WHERE id = ?1",
    "SELECT doc FROM run_segments WHERE agent_id = ?1 AND instance_id = ?2 AND ended_at IS NULL "
    "ORDER BY role <> '{primary_role}' LIMIT 1",
    "SELECT doc FROM run_segments WHERE agent_id = ?1 ORDER BY started_at, id",
    "SELECT doc FROM run_segments WHERE tenant_id = ?1 ORDER BY started_at, id",
};

// The columns of a price observation, in the order ReadPrice reads them.
constexpr std::string_view kPriceColumns =
    "seq, tenant_id, agent_id, registration_id, region, az, instance_type, kind, price_micros, "
    "observed_at, received_at, server_received, source";

// Substitutes the enum texts into schema and statement templates.
std::string FormatSql(std::string_view text) {
  return fmt::format(fmt::runtime(text), fmt::arg("active", ToString(Lifecycle::kActive)),
                     fmt::arg("pending", ToString(CommandState::kPending)),
                     fmt::arg("leased", ToString(CommandState::kLeased)),
                     fmt::arg("switch", ToString(CommandType::kSwitch)),
                     fmt::arg("promoted", ToString(ReplicaState::kPromoted)),
                     fmt::arg("failed", ToString(ReplicaState::kFailed)),
                     fmt::arg("terminated", ToString(ReplicaState::kTerminated)),
                     fmt::arg("spot", ToString(PriceKind::kSpot)),
                     fmt::arg("ondemand", ToString(PriceKind::kOnDemand)),
                     fmt::arg("primary_role", ToString(RunRole::kPrimary)),
                     fmt::arg("price_columns", kPriceColumns));
}

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
  absl::Status Exec(const std::string& sql, std::string_view what) {
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? absl::OkStatus() : SqlError(db, rc, what);
  }

  absl::StatusOr<int64_t> QueryInt(const char* sql, std::string_view what) {
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

}  // namespace

class SqliteStore::Impl {
 public:
  Impl(std::string path, SqliteOptions options)
      : path_(std::move(path)),
        options_(options),
        wait_(absl::ToChronoNanoseconds(options.busy_timeout)),
        cache_(options.cached_records),
        hold_(absl::ToChronoNanoseconds(options.beat_hold)) {
    for (int i = 0; i < kStmtCount; ++i) sql_[i] = FormatSql(kStatements[i]);
  }

  // Opens the first connection: WAL mode and the schema migration happen here, once.
  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connect(Purpose::kFirst);
    if (!conn.ok()) return conn.status();
    absl::StatusOr<std::unique_ptr<Connection>> checkpoints = Connect(Purpose::kCheckpoint);
    if (!checkpoints.ok()) return checkpoints.status();
    background_ = std::thread(&Impl::RunBackground, this, *std::move(checkpoints));
    std::lock_guard lock(mu_);
    ++open_;
    idle_.push_back(*std::move(conn));
    return absl::OkStatus();
  }

  ~Impl() {
    Wake(&stopping_);
    if (background_.joinable()) background_.join();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Borrows a connection, opening one when none is idle and the pool has room.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire() {
    {
      std::unique_lock lock(mu_);
      if (!conn_freed_.wait_for(
              lock, wait_, [this] { return !idle_.empty() || open_ < options_.max_connections; })) {
        return absl::UnavailableError("sqlite store: every connection is in use");
      }
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      ++open_;
    }
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connect(Purpose::kPool);
    if (!conn.ok()) {
      std::lock_guard lock(mu_);
      --open_;
      conn_freed_.notify_one();
    }
    return conn;
  }

  void Release(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    conn_freed_.notify_one();
  }

  // Writers of this process queue here, on a condition rather than by polling
  // SQLite's lock; BEGIN IMMEDIATE then only waits for other processes.
  absl::Status AcquireWriter() {
    std::unique_lock lock(writer_mu_);
    if (!writer_freed_.wait_for(lock, wait_, [this] { return writer_free_; })) {
      return absl::UnavailableError("sqlite store: timed out waiting for the write lock");
    }
    writer_free_ = false;
    return absl::OkStatus();
  }

  void ReleaseWriter() {
    {
      std::lock_guard lock(writer_mu_);
      writer_free_ = true;
    }
    writer_freed_.notify_one();
  }

  // Heartbeats held for a batched write (Store::TouchRegistration).
  using Beats = std::vector<std::pair<std::string, Time>>;

  // Holds the beat, and has it written at once (a zero hold) or by the background
  // thread when a batch is due (full, or its oldest beat was held for beat_hold).
  absl::Status TouchRegistration(std::string_view id, Time at) {
    if (!HoldBeat(id, at)) return absl::OkStatus();
    if (hold_ == std::chrono::nanoseconds::zero()) return FlushHeld();
    Wake(&beats_due_);
    return absl::OkStatus();
  }

  // Writes the held beats in one transaction. A batch that fails stays held.
  absl::Status FlushHeld() {
    std::lock_guard flushing(flush_mu_);
    return WriteHeld();
  }

  // Shows a held beat newer than what `r` was read with.
  void ApplyHeld(Registration& r) {
    std::lock_guard lock(held_mu_);
    if (held_.empty()) return;
    auto it = held_.find(r.id);
    if (it != held_.end() && it->second > r.last_seen_at) r.last_seen_at = it->second;
  }

  RecordCache& cache() { return cache_; }

 private:
  absl::Status WriteHeld();  // with flush_mu_ held; defined after SqliteTransaction

  bool HoldBeat(std::string_view id, Time at) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(held_mu_);
    if (held_.empty()) held_since_ = now;
    auto [it, inserted] = held_.try_emplace(std::string(id), at);
    if (!inserted && it->second < at) it->second = at;
    return held_.size() >= options_.beat_batch || now - held_since_ >= hold_;
  }

  Beats HeldBeats() {
    std::lock_guard lock(held_mu_);
    return Beats(held_.begin(), held_.end());
  }

  // Drops the written beats, except those renewed while the batch was written.
  void ForgetWritten(const Beats& written) {
    std::lock_guard lock(held_mu_);
    for (const auto& [id, at] : written) {
      auto it = held_.find(id);
      if (it != held_.end() && it->second == at) held_.erase(it);
    }
    held_since_ = std::chrono::steady_clock::now();
  }

  // The first connection enables WAL and migrates; the checkpoint connection runs
  // no statements of its own.
  enum class Purpose { kFirst, kPool, kCheckpoint };

  absl::StatusOr<std::unique_ptr<Connection>> Connect(Purpose purpose) {
    auto conn = std::make_unique<Connection>();
    const int rc =
        sqlite3_open_v2(path_.c_str(), &conn->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return SqlError(conn->db, rc, fmt::format("open {}", path_));
    sqlite3_extended_result_codes(conn->db, 1);
    sqlite3_busy_timeout(conn->db,
                         static_cast<int>(absl::ToInt64Milliseconds(options_.busy_timeout)));
    absl::Status s = conn->Exec(
        options_.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
        "configure connection");
    if (!s.ok()) return s;
    if (purpose == Purpose::kCheckpoint) return conn;
    // A large page cache keeps a fleet's rows in memory (a commit on another
    // connection empties it, so the pool pays off only while most work is reads);
    // memory-mapped reads lose their map on every foreign commit, so they are off.
    s = conn->Exec("PRAGMA foreign_keys = ON; PRAGMA mmap_size = 0; PRAGMA cache_size = -262144",
                   "configure connection");
    if (!s.ok()) return s;
    // Replaces SQLite's automatic checkpoint, which would run inside a commit.
    sqlite3_wal_hook(conn->db, &Impl::OnWalCommit, this);
    if (purpose == Purpose::kFirst) {
      if (s = EnableWal(*conn); !s.ok()) return s;
      if (s = Migrate(*conn); !s.ok()) return s;
    }
    for (int i = 0; i < kStmtCount; ++i) {
      const int prc = sqlite3_prepare_v3(conn->db, sql_[i].data(), static_cast<int>(sql_[i].size()),
                                         SQLITE_PREPARE_PERSISTENT, &conn->stmts[i], nullptr);
      if (prc != SQLITE_OK) return SqlError(conn->db, prc, "prepare statement");
    }
    return conn;
  }

  // The store's background thread does the writes no request should wait for:
  // - held heartbeats, a batch at a time;
  // - checkpoints, which copy the WAL back into the database file and end with
  //   fsyncs that can take a hundred milliseconds. A checkpoint runs on its own
  //   connection, and readers and the writer go on while a passive checkpoint copies
  //   what they no longer need.
  static int OnWalCommit(void* self, sqlite3* /*db*/, const char* /*schema*/, int wal_pages) {
    if (wal_pages >= kCheckpointPages) {
      auto* impl = static_cast<Impl*>(self);
      impl->Wake(&impl->checkpoint_due_);
    }
    return SQLITE_OK;
  }

  // Sets one of the background thread's flags and wakes it.
  void Wake(bool* flag) {
    {
      std::lock_guard lock(background_mu_);
      *flag = true;
    }
    background_wake_.notify_one();
  }

  void RunBackground(std::unique_ptr<Connection> checkpoints) {
    // Below the request threads: under full load a batch waits a little longer
    // rather than delaying requests (Linux: nice applies per thread).
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kBackgroundNice);
    std::unique_lock lock(background_mu_);
    while (true) {
      background_wake_.wait(lock, [this] { return checkpoint_due_ || beats_due_ || stopping_; });
      if (stopping_) return;
      const bool checkpoint = std::exchange(checkpoint_due_, false);
      const bool beats = std::exchange(beats_due_, false);
      lock.unlock();
      // A failed batch stays held for the next; a checkpoint that cannot finish (a
      // reader still needs old frames) runs again after later commits.
      if (beats) (void)FlushHeld();
      if (checkpoint) {
        sqlite3_wal_checkpoint_v2(checkpoints->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
      }
      lock.lock();
    }
  }

  static absl::Status EnableWal(Connection& conn) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(conn.db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqlError(conn.db, rc, "enable WAL");
    rc = sqlite3_step(stmt);
    absl::Status s;
    if (rc != SQLITE_ROW) {
      s = SqlError(conn.db, rc, "enable WAL");
    } else if (std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) !=
               "wal") {
      s = absl::FailedPreconditionError("sqlite store: the database cannot use WAL mode");
    }
    sqlite3_finalize(stmt);
    return s;
  }

  // Brings the schema to kSchemaVersion in one transaction. The version is checked
  // again under the write lock, so two processes opening a new file at once
  // migrate it once.
  static absl::Status Migrate(Connection& conn) {
    absl::StatusOr<int64_t> version = conn.QueryInt("PRAGMA user_version", "read schema version");
    if (!version.ok()) return version.status();
    if (*version == kSchemaVersion) return absl::OkStatus();
    if (absl::Status s = conn.Exec("BEGIN IMMEDIATE", "begin migration"); !s.ok()) return s;
    absl::Status s = MigrateLocked(conn);
    if (s.ok()) s = conn.Exec("COMMIT", "commit migration");
    if (!s.ok()) sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }

  static absl::Status MigrateLocked(Connection& conn) {
    absl::StatusOr<int64_t> version = conn.QueryInt("PRAGMA user_version", "read schema version");
    if (!version.ok()) return version.status();
    if (*version < 0 || *version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          fmt::format("sqlite store: database schema version {} is not one this build knows ({})",
                      *version, kSchemaVersion));
    }
    for (int64_t v = *version; v < kSchemaVersion; ++v) {
      absl::Status s = conn.Exec(FormatSql(kMigrations[v]), fmt::format("migrate to {}", v + 1));
      if (!s.ok()) return s;
    }
    return conn.Exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion),
                     "write schema version");
  }

  const std::string path_;
  const SqliteOptions options_;
  std::array<std::string, kStmtCount> sql_;

  const std::chrono::nanoseconds wait_;
  RecordCache cache_;

  // Standard mutexes rather than absl::Mutex: ThreadSanitizer sees through them
  // even when Abseil is a prebuilt, uninstrumented library.
  std::mutex mu_;  // guards idle_ and open_
  std::condition_variable conn_freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections in idle_ or lent out

  std::mutex writer_mu_;  // guards writer_free_
  std::condition_variable writer_freed_;
  bool writer_free_ = true;

  // 16 MiB of 4 KiB pages: a checkpoint's worth of work, well short of the reads
  // slowing down on a long WAL.
  static constexpr int kCheckpointPages = 4096;
  static constexpr int kBackgroundNice = 10;
  std::mutex background_mu_;  // guards the three flags
  std::condition_variable background_wake_;
  bool checkpoint_due_ = false;
  bool beats_due_ = false;
  bool stopping_ = false;
  std::thread background_;

  std::mutex flush_mu_;  // one batch of held beats at a time

  const std::chrono::nanoseconds hold_;
  std::mutex held_mu_;                           // guards held_ and held_since_
  absl::flat_hash_map<std::string, Time> held_;  // registration id -> newest beat
  std::chrono::steady_clock::time_point held_since_;
};

namespace {

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteStore::Impl* store, std::unique_ptr<Connection> conn, TxMode mode)
      : store_(store), conn_(std::move(conn)), mode_(mode) {}

  ~SqliteTransaction() override {
    if (conn_ != nullptr) Rollback();
  }

  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  // Starts the SQLite transaction and reads its version; on failure the connection
  // is back in the pool and the caller drops this object.
  absl::Status Start() {
    absl::Status s;
    {
      Query q(*conn_, mode_ == TxMode::kWrite ? kBeginImmediate : kBegin);
      const int rc = q.Step();
      if (rc != SQLITE_DONE) s = q.Error(rc, "begin transaction");
    }
    if (s.ok()) {
      // The first read fixes the snapshot, and with it the version the cache must have.
      Query q(*conn_, kReadVersion);
      const int rc = q.Step();
      if (rc == SQLITE_ROW) {
        version_ = q.Int(0);
        cached_ = store_->cache().Admit(version_);
      } else {
        s = q.Error(rc, "read store version");
      }
    }
    if (!s.ok()) Rollback();
    return s;
  }

  absl::Status Commit() override {
    if (conn_ == nullptr) return Finished();
    absl::Status s;
    if (sqlite3_get_autocommit(conn_->db)) {
      // SQLite already rolled back after an I/O or memory error.
      s = absl::AbortedError("sqlite store: the transaction was rolled back by an earlier error");
    } else {
      if (mode_ == TxMode::kWrite) s = Exec(kBumpVersion, "bump store version");
      if (s.ok()) s = Exec(kCommit, "commit");
    }
    if (!s.ok()) {
      Rollback();
      return s;
    }
    if (mode_ == TxMode::kWrite) store_->cache().Committed(version_, version_ + 1, changes_);
    Finish();
    return s;
  }

  absl::StatusOr<Tenant> GetTenant(std::string_view id) override {
    return Get<Tenant>(kGetTenant, "tenant", id);
  }
  absl::Status InsertTenant(const Tenant& t) override {
    return Insert(kInsertTenant, "insert tenant", t, kGetTenant, t.id);
  }
  absl::Status UpdateTenant(const Tenant& t) override {
    return Write(kUpdateTenant, "update tenant", t);
  }
  absl::StatusOr<std::vector<Tenant>> ListTenants() override {
    return List<Tenant>(kListTenants, "list tenants");
  }

  absl::StatusOr<ApiToken> GetToken(std::string_view prefix) override {
    return Get<ApiToken>(kGetToken, "token", prefix);
  }
  absl::Status InsertToken(const ApiToken& t) override {
    return Insert(kInsertToken, "insert token", t, kGetToken, t.prefix);
  }
  absl::Status UpdateToken(const ApiToken& t) override {
    return Write(kUpdateToken, "update token", t);
  }
  absl::StatusOr<std::vector<ApiToken>> ListTokens(std::string_view tenant_id) override {
    return List<ApiToken>(kListTokens, "list tokens", tenant_id);
  }

  absl::StatusOr<Agent> GetAgent(std::string_view id) override {
    if (Cacheable(changes_.agents, id)) {
      if (std::optional<Agent> hit = store_->cache().FindAgent(id, version_)) return *hit;
    }
    absl::StatusOr<Agent> a = Get<Agent>(kGetAgent, "agent", id);
    if (a.ok() && cached_ && mode_ == TxMode::kRead) store_->cache().FillAgent(*a, version_);
    return a;
  }
  absl::StatusOr<Agent> FindAgent(std::string_view tenant_id,
                                  std::string_view logical_id) override {
    return Get<Agent>(kFindAgent, "agent", tenant_id, logical_id);
  }
  absl::Status InsertAgent(const Agent& a) override {
    return Changed(changes_.agents, a.id, Insert(kInsertAgent, "insert agent", a, kGetAgent, a.id));
  }
  absl::Status UpdateAgent(const Agent& a) override {
    return Changed(changes_.agents, a.id,
                   UpdateIdentified(kUpdateAgent, "update agent", a, kGetAgent, a.id));
  }
  absl::StatusOr<std::vector<Agent>> ListAgents(std::string_view tenant_id) override {
    return List<Agent>(kListAgents, "list agents", tenant_id);
  }
  absl::StatusOr<std::vector<Agent>> ListAgentsByReplicaMode(ReplicaMode mode) override {
    return List<Agent>(kListAgentsByReplicaMode, "list agents", ToString(mode));
  }

  absl::StatusOr<AgentAlias> FindAlias(std::string_view tenant_id,
                                       std::string_view logical_id) override {
    return Get<AgentAlias>(kFindAlias, "alias", tenant_id, logical_id);
  }
  absl::Status InsertAlias(const AgentAlias& a) override {
    return Write(kInsertAlias, "insert alias", a);
  }
  absl::StatusOr<std::vector<AgentAlias>> ListAliases(std::string_view tenant_id) override {
    return List<AgentAlias>(kListAliases, "list aliases", tenant_id);
  }

  absl::StatusOr<Registration> GetRegistration(std::string_view id) override {
    if (Cacheable(changes_.registrations, id)) {
      if (std::optional<Registration> hit = store_->cache().FindRegistration(id, version_)) {
        return WithHeldBeat(*std::move(hit));
      }
    }
    absl::StatusOr<Registration> r = Get<Registration>(kGetRegistration, "registration", id);
    if (r.ok() && cached_ && mode_ == TxMode::kRead) {
      store_->cache().FillRegistration(*r, version_);
    }
    return WithHeldBeat(std::move(r));
  }
  absl::StatusOr<Registration> FindRegistration(std::string_view agent_id,
                                                std::string_view instance_id) override {
    return WithHeldBeat(
        Get<Registration>(kFindRegistration, "registration", agent_id, instance_id));
  }
  absl::Status InsertRegistration(const Registration& r) override {
    absl::Status s = Insert(kInsertRegistration, "insert registration", r, kGetRegistration, r.id);
    return Changed(changes_.registrations, r.id, s.ok() ? PutLiveness(r) : s);
  }
  absl::Status UpdateRegistration(const Registration& r) override {
    absl::Status s =
        UpdateIdentified(kUpdateRegistration, "update registration", r, kGetRegistration, r.id);
    return Changed(changes_.registrations, r.id, s.ok() ? PutLiveness(r) : s);
  }
  absl::StatusOr<std::vector<Registration>> ListRegistrations(std::string_view agent_id) override {
    absl::StatusOr<std::vector<Registration>> list =
        List<Registration>(kListRegistrations, "list registrations", agent_id);
    if (list.ok()) {
      for (Registration& r : *list) store_->ApplyHeld(r);
    }
    return list;
  }
  // Writes a held beat (SqliteStore::FlushHeld's batch).
  absl::Status TouchRegistration(std::string_view id, Time at) {
    absl::Status s = WriteLiveness(kTouchRegistration, id, at);
    if (s.ok()) changes_.seen.emplace_back(id, at);
    return s;
  }

  absl::StatusOr<Command> GetCommand(std::string_view id) override {
    return Get<Command>(kGetCommand, "command", id);
  }
  absl::StatusOr<int64_t> InsertCommand(const Command& c) override {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    int64_t seq = 0;
    {
      Query q(*conn_, kNextCommandSeq);
      const int rc = q.Step();
      if (rc != SQLITE_ROW) return q.Error(rc, "insert command");
      seq = q.Int(0);
    }
    Command stored = c;
    stored.seq = seq;
    if (absl::Status s = Insert(kInsertCommand, "insert command", stored, kGetCommand, c.id);
        !s.ok()) {
      return s;
    }
    return seq;
  }
  absl::Status UpdateCommand(const Command& c) override {
    return UpdateIdentified(kUpdateCommand, "update command", c, kGetCommand, c.id);
  }
  absl::StatusOr<std::vector<Command>> ListOpenCommands(std::string_view agent_id) override {
    return List<Command>(kListOpenCommands, "list commands", agent_id);
  }
  absl::StatusOr<std::vector<Command>> ListCommands(std::string_view agent_id) override {
    return List<Command>(kListCommands, "list commands", agent_id);
  }
  absl::StatusOr<std::vector<Command>> ListDueCommands(Time now) override {
    return List<Command>(kListDueCommands, "list due commands", now);
  }

  absl::StatusOr<Replica> GetReplica(std::string_view id) override {
    return Get<Replica>(kGetReplica, "replica", id);
  }
  absl::Status InsertReplica(const Replica& r) override {
    return Insert(kInsertReplica, "insert replica", r, kGetReplica, r.id);
  }
  absl::Status UpdateReplica(const Replica& r) override {
    return UpdateIdentified(kUpdateReplica, "update replica", r, kGetReplica, r.id);
  }
  absl::StatusOr<std::vector<Replica>> ListReplicas(std::string_view agent_id) override {
    return List<Replica>(kListReplicas, "list replicas", agent_id);
  }
  absl::StatusOr<std::vector<Replica>> ListLiveReplicas() override {
    return List<Replica>(kListLiveReplicas, "list live replicas");
  }

  absl::StatusOr<Incident> GetIncident(std::string_view id) override {
    return Get<Incident>(kGetIncident, "incident", id);
  }
  absl::Status InsertIncident(const Incident& i) override {
    return Insert(kInsertIncident, "insert incident", i, kGetIncident, i.id);
  }
  absl::Status UpdateIncident(const Incident& i) override {
    return Write(kUpdateIncident, "update incident", i);
  }
  absl::StatusOr<std::vector<Incident>> ListIncidents(std::string_view agent_id) override {
    return List<Incident>(kListIncidents, "list incidents", agent_id);
  }
  absl::StatusOr<std::vector<Incident>> ListOpenIncidents() override {
    return List<Incident>(kListOpenIncidents, "list open incidents");
  }

  absl::Status InsertEvent(const AgentEvent& e) override {
    return Write(kInsertEvent, "insert event", e);
  }
  absl::StatusOr<std::vector<AgentEvent>> ListEvents(std::string_view agent_id) override {
    return List<AgentEvent>(kListEvents, "list events", agent_id);
  }

  // Binds the caller's strings in place (SQLITE_STATIC) and reads the seq back from
  // the rowid: no copy, no document, no extra statement.
  absl::StatusOr<int64_t> InsertPriceObservation(const PriceObservation& o) override {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    Query q(*conn_, kInsertPrice);
    q.Bind(1, o.tenant_id);
    q.Bind(2, o.agent_id);
    q.Bind(3, o.registration_id);
    q.Bind(4, o.region);
    q.Bind(5, o.az);
    q.Bind(6, o.instance_type);
    q.Bind(7, ToString(o.kind));
    q.Bind(8, o.price.micros());
    q.Bind(9, o.observed_at);
    q.Bind(10, o.received_at);
    q.Bind(11, int64_t{o.server_received ? 1 : 0});
    q.Bind(12, ToString(o.source));
    const int rc = q.Step();
    if (rc != SQLITE_DONE) return q.Error(rc, "insert price observation");
    return sqlite3_last_insert_rowid(conn_->db);
  }
  absl::StatusOr<std::vector<PriceObservation>> ListPriceObservations(std::string_view tenant_id,
                                                                      const Pool& pool, Time from,
                                                                      Time to) override {
    return List<PriceObservation>(
        kListPrices, "list price observations", tenant_id, std::string_view(pool.region),
        std::string_view(pool.instance_type), std::string_view(pool.az), from, to);
  }
  absl::StatusOr<std::vector<PriceObservation>> ListLatestPrices(
      std::string_view tenant_id, std::string_view region,
      std::string_view instance_type) override {
    if (conn_ == nullptr) return Finished();
    constexpr std::string_view kWhat = "list latest prices";
    std::vector<PriceObservation> out;
    // Kinds are never empty, so ("", "") comes before every stored pair.
    std::string az;
    std::string kind;
    for (;;) {
      {
        Query q(*conn_, kNextLatestPricePair);
        BindAll(q, tenant_id, region, instance_type, std::string_view(az), std::string_view(kind));
        const int rc = q.Step();
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) return q.Error(rc, kWhat);
        az = q.Text(0);
        kind = q.Text(1);
      }
      Query q(*conn_, kLatestPriceOfPair);
      BindAll(q, tenant_id, region, instance_type, std::string_view(az), std::string_view(kind));
      const int rc = q.Step();
      if (rc != SQLITE_ROW) return q.Error(rc, kWhat);
      absl::StatusOr<PriceObservation> o = ReadRow<PriceObservation>(q);
      if (!o.ok()) return o.status();
      out.push_back(*std::move(o));
    }
    return out;
  }
  absl::StatusOr<std::vector<PriceObservation>> ListTenantPriceObservations(
      std::string_view tenant_id) override {
    return List<PriceObservation>(kListTenantPrices, "list price observations", tenant_id);
  }
  absl::StatusOr<std::vector<Pool>> ListPriceSeries(std::string_view tenant_id) override {
    if (conn_ == nullptr) return Finished();
    std::vector<Pool> out;
    for (;;) {
      Query q(*conn_, out.empty() ? kFirstPriceSeries : kNextPriceSeries);
      if (out.empty()) {
        q.Bind(1, tenant_id);
      } else {
        const Pool& last = out.back();
        BindAll(q, tenant_id, std::string_view(last.region), std::string_view(last.instance_type),
                std::string_view(last.az));
      }
      const int rc = q.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return q.Error(rc, "list price series");
      out.push_back(Pool{.region = std::string(q.Text(0)),
                         .az = std::string(q.Text(2)),
                         .instance_type = std::string(q.Text(1))});
    }
    return out;
  }
  absl::Status DeletePriceObservations(const std::vector<int64_t>& seqs) override {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    for (int64_t seq : seqs) {
      Query q(*conn_, kDeletePrice);
      q.Bind(1, seq);
      if (const int rc = q.Step(); rc != SQLITE_DONE) {
        return q.Error(rc, "delete price observations");
      }
    }
    return absl::OkStatus();
  }

  absl::Status InsertRunSegment(const RunSegment& s) override {
    return Insert(kInsertRunSegment, "insert run segment", s, kGetRunSegment, s.id);
  }
  // The stored record is read and compared, as the placement exists only in `doc`.
  absl::Status UpdateRunSegment(const RunSegment& s) override {
    if (absl::Status st = CheckWritable(); !st.ok()) return st;
    absl::StatusOr<RunSegment> stored = Get<RunSegment>(kGetRunSegment, "run segment", s.id);
    if (!stored.ok()) return stored.status();
    RunSegment only_end_changed = *stored;
    only_end_changed.ended_at = s.ended_at;
    if (!(only_end_changed == s)) {
      return absl::FailedPreconditionError(
          fmt::format("update run segment: only ended_at of run segment {} can change", s.id));
    }
    return Write(kUpdateRunSegment, "update run segment", s);
  }
  absl::StatusOr<RunSegment> FindOpenRunSegment(std::string_view agent_id,
                                                std::string_view instance_id) override {
    return Get<RunSegment>(kFindOpenRunSegment, "open run segment", agent_id, instance_id);
  }
  absl::StatusOr<std::vector<RunSegment>> ListRunSegments(std::string_view agent_id) override {
    return List<RunSegment>(kListRunSegments, "list run segments", agent_id);
  }
  absl::StatusOr<std::vector<RunSegment>> ListTenantRunSegments(
      std::string_view tenant_id) override {
    return List<RunSegment>(kListTenantRunSegments, "list run segments", tenant_id);
  }

  absl::StatusOr<SwitchRecord> GetSwitch(std::string_view id) override {
    return Get<SwitchRecord>(kGetSwitch, "switch", id);
  }
  absl::Status InsertSwitch(const SwitchRecord& r) override {
    return Insert(kInsertSwitch, "insert switch", r, kGetSwitch, r.id);
  }
  absl::Status UpdateSwitch(const SwitchRecord& r) override {
    return Write(kUpdateSwitch, "update switch", r);
  }
  absl::StatusOr<std::vector<SwitchRecord>> ListSwitches(std::string_view agent_id) override {
    return List<SwitchRecord>(kListSwitches, "list switches", agent_id);
  }

  absl::Status InsertCleanupLog(const CleanupLog& l) override {
    return Write(kInsertCleanupLog, "insert cleanup log", l);
  }
  absl::StatusOr<std::vector<CleanupLog>> ListCleanupLogs(std::string_view agent_id) override {
    return List<CleanupLog>(kListCleanupLogs, "list cleanup logs", agent_id);
  }

 private:
  static absl::Status Finished() {
    return absl::FailedPreconditionError("sqlite store: the transaction is already finished");
  }

  // Whether a read of `id` may come from the cache: not after this transaction
  // wrote it (the cache holds the committed record).
  bool Cacheable(const std::vector<std::string>& written, std::string_view id) const {
    return cached_ && std::find(written.begin(), written.end(), id) == written.end();
  }
  // Notes a write of a cached kind for Commit; passes `s` through.
  static absl::Status Changed(std::vector<std::string>& written, std::string_view id,
                              absl::Status s) {
    if (s.ok()) written.emplace_back(id);
    return s;
  }

  absl::Status Exec(Stmt stmt, std::string_view what) {
    Query q(*conn_, stmt);
    const int rc = q.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : q.Error(rc, what);
  }

  absl::Status PutLiveness(const Registration& r) {
    return WriteLiveness(kPutLiveness, r.id, r.last_seen_at);
  }
  absl::Status WriteLiveness(Stmt stmt, std::string_view id, Time at) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    Query q(*conn_, stmt);
    q.Bind(1, id);
    q.Bind(2, at);
    const int rc = q.Step();
    return rc == SQLITE_DONE ? absl::OkStatus() : q.Error(rc, "write registration liveness");
  }

  absl::StatusOr<Registration> WithHeldBeat(absl::StatusOr<Registration> r) {
    if (r.ok()) store_->ApplyHeld(*r);
    return r;
  }

  absl::Status CheckWritable() const {
    if (conn_ == nullptr) return Finished();
    if (mode_ != TxMode::kWrite) {
      return absl::FailedPreconditionError("sqlite store: write in a read transaction");
    }
    return absl::OkStatus();
  }

  // Decodes the row's doc (command rows carry their seq in column 1, registration
  // rows their last_seen_at), or a price observation's kPriceColumns.
  template <class T>
  static absl::StatusOr<T> ReadRow(Query& q) {
    if constexpr (std::is_same_v<T, PriceObservation>) {
      return ReadPrice(q);
    } else {
      absl::StatusOr<T> record = codec::Decode<T>(q.Text(0));
      if (record.ok()) {
        if constexpr (std::is_same_v<T, Command>) record->seq = q.Int(1);
        if constexpr (std::is_same_v<T, Registration>) record->last_seen_at = FromMicros(q.Int(1));
      }
      return record;
    }
  }

  static absl::StatusOr<PriceObservation> ReadPrice(Query& q) {
    PriceObservation o;
    o.seq = q.Int(0);
    o.tenant_id = q.Text(1);
    o.agent_id = q.Text(2);
    o.registration_id = q.Text(3);
    o.region = q.Text(4);
    o.az = q.Text(5);
    o.instance_type = q.Text(6);
    absl::Status s = codec::EnumFromText(q.Text(7), "price_observations.kind", &o.kind);
    if (!s.ok()) return s;
    o.price = Money::FromMicros(q.Int(8));
    o.observed_at = FromMicros(q.Int(9));
    o.received_at = FromMicros(q.Int(10));
    o.server_received = q.Int(11) != 0;
    s = codec::EnumFromText(q.Text(12), "price_observations.source", &o.source);
    if (!s.ok()) return s;
    return o;
  }

  template <class... Keys>
  static void BindAll(Query& q, const Keys&... keys) {
    int i = 0;
    (q.Bind(++i, keys), ...);
  }

  template <class T, class... Keys>
  absl::StatusOr<T> Get(Stmt stmt, std::string_view what, const Keys&... keys) {
    if (conn_ == nullptr) return Finished();
    Query q(*conn_, stmt);
    BindAll(q, keys...);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) return ReadRow<T>(q);
    if (rc == SQLITE_DONE) {
      std::string key;
      ((key += (key.empty() ? "" : "/"), key += keys), ...);
      return absl::NotFoundError(fmt::format("{} {} not found", what, key));
    }
    return q.Error(rc, fmt::format("get {}", what));
  }

  template <class T, class... Keys>
  absl::StatusOr<std::vector<T>> List(Stmt stmt, std::string_view what, const Keys&... keys) {
    if (conn_ == nullptr) return Finished();
    Query q(*conn_, stmt);
    BindAll(q, keys...);
    std::vector<T> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      absl::StatusOr<T> record = ReadRow<T>(q);
      if (!record.ok()) return record.status();
      out.push_back(*std::move(record));
    }
    if (rc != SQLITE_DONE) return q.Error(rc, what);
    return out;
  }

  template <class T>
  absl::Status Write(Stmt stmt, std::string_view what, const T& record) {
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    const std::string doc = codec::Encode(record);
    Query q(*conn_, stmt);
    BindRow(q, record, doc);
    const int rc = q.Step();
    if (rc != SQLITE_DONE) return q.Error(rc, what);
    if (sqlite3_changes(conn_->db) == 0) {
      return absl::NotFoundError(fmt::format("{}: no such record", what));
    }
    return absl::OkStatus();
  }

  // Updates that rewrite only the mutable columns (so the identity's index entries are
  // left alone) and match the identity in their WHERE clause: no row changed means
  // either no such record or an attempt to change its identity.
  template <class T>
  absl::Status UpdateIdentified(Stmt stmt, std::string_view what, const T& record, Stmt get,
                                std::string_view key) {
    absl::Status s = Write(stmt, what, record);
    if (!absl::IsNotFound(s)) return s;
    Query q(*conn_, get);
    q.Bind(1, key);
    if (q.Step() == SQLITE_ROW) {
      return absl::FailedPreconditionError(
          fmt::format("{}: the identity of {} cannot change", what, key));
    }
    return s;
  }

  // SQLite checks unique indexes in no documented order, so a repeated record may
  // first trip a constraint index; a key that exists is AlreadyExists all the same.
  template <class T>
  absl::Status Insert(Stmt stmt, std::string_view what, const T& record, Stmt get,
                      std::string_view key) {
    absl::Status s = Write(stmt, what, record);
    if (s.code() != absl::StatusCode::kFailedPrecondition || conn_ == nullptr) return s;
    Query q(*conn_, get);
    q.Bind(1, key);
    if (q.Step() == SQLITE_ROW) {
      return absl::AlreadyExistsError(fmt::format("{}: {} already exists", what, key));
    }
    return s;
  }

  // Parameter order matches the INSERT and UPDATE statements of each table.
  static void BindRow(Query& q, const Tenant& t, const std::string& doc) {
    q.Bind(1, t.id);
    q.Bind(2, t.name);
    q.Bind(3, ToString(t.state));
    q.Bind(4, t.created_at);
    q.Bind(5, doc);
  }
  static void BindRow(Query& q, const ApiToken& t, const std::string& doc) {
    q.Bind(1, t.prefix);
    q.Bind(2, t.tenant_id);
    q.Bind(3, t.created_at);
    q.Bind(4, t.expires_at);
    q.Bind(5, doc);
  }
  static void BindRow(Query& q, const Agent& a, const std::string& doc) {
    q.Bind(1, a.id);
    q.Bind(2, a.tenant_id);
    q.Bind(3, a.logical_id);
    q.Bind(4, ToString(a.lifecycle));
    q.Bind(5, ToString(a.config.replica_mode));
    q.Bind(6, a.placement.instance_id);
    q.Bind(7, a.created_at);
    q.Bind(8, doc);
  }
  static void BindRow(Query& q, const AgentAlias& a, const std::string& doc) {
    q.Bind(1, a.tenant_id);
    q.Bind(2, a.logical_id);
    q.Bind(3, a.agent_id);
    q.Bind(4, a.created_at);
    q.Bind(5, doc);
  }
  static void BindRow(Query& q, const Registration& r, const std::string& doc) {
    q.Bind(1, r.id);
    q.Bind(2, r.tenant_id);
    q.Bind(3, r.agent_id);
    q.Bind(4, r.instance_id);
    q.Bind(5, r.created_at);
    q.Bind(6, doc);
  }
  // ?11 (seq) exists only in the INSERT; an UPDATE never moves a command's seq.
  static void BindRow(Query& q, const Command& c, const std::string& doc) {
    q.Bind(1, c.id);
    q.Bind(2, c.tenant_id);
    q.Bind(3, c.agent_id);
    q.Bind(4, ToString(c.type));
    q.Bind(5, ToString(c.state));
    q.Bind(6, static_cast<int64_t>(c.priority));
    q.Bind(7, c.created_at);
    q.Bind(8, c.expires_at);
    q.Bind(9, c.lease_expires_at);
    q.Bind(10, doc);
    q.Bind(11, c.seq);
  }
  static void BindRow(Query& q, const Replica& r, const std::string& doc) {
    q.Bind(1, r.id);
    q.Bind(2, r.tenant_id);
    q.Bind(3, r.agent_id);
    q.Bind(4, ToString(r.state));
    q.Bind(5, r.instance_id);
    q.Bind(6, r.created_at);
    q.Bind(7, doc);
  }
  static void BindRow(Query& q, const Incident& i, const std::string& doc) {
    q.Bind(1, i.id);
    q.Bind(2, i.tenant_id);
    q.Bind(3, i.agent_id);
    q.Bind(4, i.instance_id);
    q.Bind(5, ToString(i.signal));
    q.Bind(6, i.notice_time);
    q.Bind(7, i.first_seen);
    q.Bind(8, i.closed_at);
    q.Bind(9, doc);
  }
  static void BindRow(Query& q, const AgentEvent& e, const std::string& doc) {
    q.Bind(1, e.id);
    q.Bind(2, e.tenant_id);
    q.Bind(3, e.agent_id);
    q.Bind(4, ToString(e.kind));
    q.Bind(5, e.at);
    q.Bind(6, doc);
  }

  static void BindRow(Query& q, const RunSegment& s, const std::string& doc) {
    q.Bind(1, s.id);
    q.Bind(2, s.tenant_id);
    q.Bind(3, s.agent_id);
    q.Bind(4, s.instance_id);
    q.Bind(5, ToString(s.role));
    q.Bind(6, s.started_at);
    q.Bind(7, s.ended_at);
    q.Bind(8, doc);
  }
  static void BindRow(Query& q, const SwitchRecord& r, const std::string& doc) {
    q.Bind(1, r.id);
    q.Bind(2, r.tenant_id);
    q.Bind(3, r.agent_id);
    q.Bind(4, r.created_at);
    q.Bind(5, doc);
  }
  static void BindRow(Query& q, const CleanupLog& l, const std::string& doc) {
    q.Bind(1, l.id);
    q.Bind(2, l.tenant_id);
    q.Bind(3, l.agent_id);
    q.Bind(4, l.received_at);
    q.Bind(5, doc);
  }

  void Rollback() {
    {
      Query q(*conn_, kRollback);
      q.Step();
    }
    Finish();
  }

  // Returns the connection to the pool and lets the next writer in.
  void Finish() {
    store_->Release(std::move(conn_));
    if (mode_ == TxMode::kWrite) store_->ReleaseWriter();
  }

  SqliteStore::Impl* store_;
  std::unique_ptr<Connection> conn_;  // null once finished
  const TxMode mode_;
  int64_t version_ = 0;   // store_version as of this transaction's snapshot
  bool cached_ = false;   // the record cache is at version_
  CacheChanges changes_;  // cached kinds this write transaction changed
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               SqliteOptions options) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError(
        "sqlite store: needs a database file; private and in-memory databases cannot be "
        "shared by its connections");
  }
  if (options.max_connections < 1 || options.beat_batch < 1 ||
      options.busy_timeout < absl::ZeroDuration() || options.beat_hold < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "sqlite store: max_connections and beat_batch must be >= 1, busy_timeout and beat_hold "
        ">= 0");
  }
  try {
    auto impl = std::make_unique<Impl>(path, options);
    if (absl::Status s = impl->Init(); !s.ok()) return s;
    return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(fmt::format("sqlite store: open failed: {}", e.what()));
  }
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Closing writes what is held; a failure here has no caller left to tell, which
// is why hosts flush first (Controller::Tick).
SqliteStore::~SqliteStore() { (void)FlushHeld(); }

int SqliteStore::SchemaVersion() { return kSchemaVersion; }

namespace {

absl::StatusOr<std::unique_ptr<SqliteTransaction>> StartTransaction(SqliteStore::Impl& impl,
                                                                    TxMode mode) {
  if (mode == TxMode::kWrite) {
    if (absl::Status s = impl.AcquireWriter(); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn = impl.Acquire();
  if (!conn.ok()) {
    if (mode == TxMode::kWrite) impl.ReleaseWriter();
    return conn.status();
  }
  auto tx = std::make_unique<SqliteTransaction>(&impl, *std::move(conn), mode);
  if (absl::Status s = tx->Start(); !s.ok()) return s;
  return tx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Transaction>> SqliteStore::Begin(TxMode mode) {
  absl::StatusOr<std::unique_ptr<SqliteTransaction>> tx = StartTransaction(*impl_, mode);
  if (!tx.ok()) return tx.status();
  return std::unique_ptr<Transaction>(*std::move(tx));
}

absl::Status SqliteStore::Impl::WriteHeld() {
  const Beats batch = HeldBeats();
  if (batch.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<SqliteTransaction>> tx = StartTransaction(*this, TxMode::kWrite);
  if (!tx.ok()) return tx.status();
  for (const auto& [id, at] : batch) {
    if (absl::Status s = (*tx)->TouchRegistration(id, at); !s.ok()) return s;
  }
  if (absl::Status s = (*tx)->Commit(); !s.ok()) return s;
  ForgetWritten(batch);
  return absl::OkStatus();
}

absl::Status SqliteStore::TouchRegistration(std::string_view id, Time at) {
  return impl_->TouchRegistration(id, at);
}

absl::Status SqliteStore::FlushHeld() { return impl_->FlushHeld(); }

absl::Status SqliteStore::CheckIntegrity() {
  absl::StatusOr<std::unique_ptr<Connection>> conn = impl_->Acquire();
  if (!conn.ok()) return conn.status();
  std::vector<std::string> problems;
  // integrity_check covers structure and indexes; foreign_key_check the references.
  for (const char* sql : {"PRAGMA integrity_check", "PRAGMA foreign_key_check"}) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2((*conn)->db, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
      std::vector<std::string> cols;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        cols.emplace_back(text == nullptr ? "" : text);
      }
      std::string row = absl::StrJoin(cols, " ");
      if (row != "ok") problems.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) problems.push_back(SqlError((*conn)->db, rc, sql).ToString());
    sqlite3_finalize(stmt);
  }
  impl_->Release(*std::move(conn));
  if (problems.empty()) return absl::OkStatus();
  return absl::DataLossError(
      fmt::format("sqlite store: integrity check failed: {}", absl::StrJoin(problems, "; ")));
}

}  // namespace spotopt
