#include "store/sqlite/statements.h"

#include <array>
#include <string>
#include <string_view>

#include "store/sql.h"

namespace spotopt::sqlite {
namespace {

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
    "SELECT doc, seq FROM commands WHERE created_at >= ?1 ORDER BY seq",
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
    "SELECT doc FROM incidents WHERE tenant_id = ?1 AND first_seen >= ?2 ORDER BY first_seen, id",
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
    // The decision log.
    "SELECT doc, seq FROM decisions WHERE id = ?1",
    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'decisions'), 0) + 1",
    "INSERT INTO decisions (id, tenant_id, agent_id, decided_at, doc, seq) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO decision_heads (agent_id, seq, key) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, key = excluded.key",
    "SELECT doc, seq FROM decisions WHERE agent_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    "SELECT doc, seq FROM decisions WHERE tenant_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    "SELECT agent_id, seq, key FROM decision_heads ORDER BY agent_id",
    "DELETE FROM decisions WHERE decided_at < ?1 AND seq NOT IN (SELECT seq FROM decision_heads)",
};

}  // namespace

std::string StatementSql(Stmt stmt) { return sql::FormatSql(kStatements[stmt]); }

}  // namespace spotopt::sqlite
