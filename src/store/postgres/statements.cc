#include "store/postgres/statements.h"

#include <array>
#include <string>
#include <string_view>

#include "store/sql.h"

namespace spotopt::pg {
namespace {

// Insert and Update of a table take the same numbered parameters, so one binder
// serves both (a command's insert adds its seq as $11). Rows of commands and
// decisions read `seq` (column 1) after `doc`, registrations their last_seen_at.
constexpr std::array<std::string_view, kStmtCount> kStatements = {
    // Write transactions are SERIALIZABLE: serializable with respect to each other
    // across processes, which the Store contract promises; readers take one snapshot
    // and can never fail for a conflict.
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    "BEGIN ISOLATION LEVEL SERIALIZABLE",
    "COMMIT",
    "ROLLBACK",
    // A write that may break a constraint runs inside a savepoint, so that a refusal
    // leaves the transaction usable, as it does in the other stores.
    "SAVEPOINT w",
    "RELEASE SAVEPOINT w",
    "ROLLBACK TO SAVEPOINT w",
    // A write transaction's id, so that a commit whose connection was lost can be
    // looked up.
    "SELECT pg_current_xact_id()::text",
    "SELECT pg_xact_status($1::text::xid8)",
    // Tenants.
    "SELECT doc FROM tenants WHERE id = $1",
    "INSERT INTO tenants (id, name, state, created_at, doc) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (id) DO NOTHING",
    "UPDATE tenants SET name = $2, state = $3, created_at = $4, doc = $5 WHERE id = $1",
    "SELECT doc FROM tenants ORDER BY id",
    // API tokens.
    "SELECT doc FROM api_tokens WHERE prefix = $1",
    "INSERT INTO api_tokens (prefix, tenant_id, created_at, expires_at, doc) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (prefix) DO NOTHING",
    "UPDATE api_tokens SET tenant_id = $2, created_at = $3, expires_at = $4, doc = $5 "
    "WHERE prefix = $1",
    "SELECT doc FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, prefix",
    // Agents.
    "SELECT doc FROM agents WHERE id = $1",
    "SELECT doc FROM agents WHERE tenant_id = $1 AND logical_id = $2",
    "INSERT INTO agents (id, tenant_id, logical_id, lifecycle, replica_mode, instance_id, "
    "created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    "UPDATE agents SET logical_id = $3, lifecycle = $4, replica_mode = $5, instance_id = $6, "
    "doc = $8 WHERE id = $1 AND tenant_id = $2 AND created_at = $7",
    "SELECT doc FROM agents WHERE tenant_id = $1 ORDER BY id",
    "SELECT doc FROM agents WHERE lifecycle = '{active}' AND replica_mode = $1 ORDER BY id",
    // Aliases.
    "SELECT doc FROM agent_aliases WHERE tenant_id = $1 AND logical_id = $2",
    "INSERT INTO agent_aliases (tenant_id, logical_id, agent_id, created_at, doc) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, logical_id) DO NOTHING",
    "SELECT doc FROM agent_aliases WHERE tenant_id = $1 ORDER BY logical_id",
    // Registrations. Their last_seen_at is read from registration_liveness; the copy
    // in doc is as of the record's last full write.
    "SELECT r.doc, l.last_seen_at FROM registrations r "
    "JOIN registration_liveness l ON l.id = r.id WHERE r.id = $1",
    "SELECT r.doc, l.last_seen_at FROM registrations r "
    "JOIN registration_liveness l ON l.id = r.id WHERE r.agent_id = $1 AND r.instance_id = $2",
    "INSERT INTO registrations (id, tenant_id, agent_id, instance_id, created_at, doc) "
    "VALUES ($1, $2, $3, $4, $5, $6)",
    "UPDATE registrations SET doc = $6 "
    "WHERE id = $1 AND tenant_id = $2 AND agent_id = $3 AND instance_id = $4 AND created_at = $5",
    "SELECT r.doc, l.last_seen_at FROM registrations r "
    "JOIN registration_liveness l ON l.id = r.id WHERE r.agent_id = $1 "
    "ORDER BY r.created_at, r.id",
    "INSERT INTO registration_liveness (id, last_seen_at) VALUES ($1, $2) "
    "ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    // A batch of held beats in one statement, never backwards. Sorted ids lock rows
    // in one order, so two processes' batches do not deadlock.
    "UPDATE registration_liveness l SET last_seen_at = b.at "
    "FROM unnest($1::text[], $2::bigint[]) AS b(id, at) "
    "WHERE l.id = b.id AND l.last_seen_at < b.at",
    // Commands.
    "SELECT doc, seq FROM commands WHERE id = $1",
    "SELECT nextval('commands_seq')",
    "INSERT INTO commands (id, tenant_id, agent_id, type, state, priority, created_at, "
    "expires_at, lease_expires_at, doc, seq) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    "UPDATE commands SET state = $5, priority = $6, expires_at = $8, lease_expires_at = $9, "
    "doc = $10 WHERE id = $1 AND tenant_id = $2 AND agent_id = $3 AND type = $4 "
    "AND created_at = $7",
    "SELECT doc, seq FROM commands WHERE agent_id = $1 AND state IN ('{pending}', '{leased}') "
    "ORDER BY priority DESC, created_at, seq",
    "SELECT doc, seq FROM commands WHERE agent_id = $1 ORDER BY priority DESC, created_at, seq",
    "SELECT doc, seq FROM commands "
    "WHERE (state = '{pending}' AND expires_at <= $1) "
    "OR (state = '{leased}' AND lease_expires_at <= $1) "
    "ORDER BY priority DESC, created_at, seq",
    "SELECT doc, seq FROM commands WHERE created_at >= $1 ORDER BY seq",
    // Replicas.
    "SELECT doc FROM replicas WHERE id = $1",
    "INSERT INTO replicas (id, tenant_id, agent_id, state, instance_id, created_at, doc) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    "UPDATE replicas SET state = $4, instance_id = $5, doc = $7 "
    "WHERE id = $1 AND tenant_id = $2 AND agent_id = $3 AND created_at = $6",
    "SELECT doc FROM replicas WHERE agent_id = $1 ORDER BY created_at, id",
    "SELECT doc FROM replicas WHERE state NOT IN ('{promoted}', '{failed}', '{terminated}') "
    "ORDER BY created_at, id",
    // Incidents.
    "SELECT doc FROM incidents WHERE id = $1",
    "INSERT INTO incidents (id, tenant_id, agent_id, instance_id, signal, notice_time, "
    "first_seen, closed_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
    "ON CONFLICT (id) DO NOTHING",
    "UPDATE incidents SET tenant_id = $2, agent_id = $3, instance_id = $4, signal = $5, "
    "notice_time = $6, first_seen = $7, closed_at = $8, doc = $9 WHERE id = $1",
    "SELECT doc FROM incidents WHERE agent_id = $1 ORDER BY first_seen, id",
    "SELECT doc FROM incidents WHERE closed_at IS NULL ORDER BY first_seen, id",
    "SELECT doc FROM incidents WHERE tenant_id = $1 AND first_seen >= $2 ORDER BY first_seen, id",
    // Events.
    "INSERT INTO agent_events (id, tenant_id, agent_id, kind, at, doc) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    "SELECT doc FROM agent_events WHERE agent_id = $1 ORDER BY at, id",
    // Price observations: seq is an identity column, numbered apart from commands.
    "INSERT INTO price_observations (tenant_id, agent_id, registration_id, region, az, "
    "instance_type, kind, price_micros, observed_at, received_at, server_received, source) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
    "SELECT {price_columns} FROM price_observations WHERE tenant_id = $1 AND region = $2 "
    "AND instance_type = $3 AND az = $4 AND kind IN ('{spot}', '{ondemand}') "
    "AND observed_at >= $5 AND observed_at < $6 ORDER BY observed_at, seq",
    // The newest row of each (AZ, kind): a skip scan through the pool index, one seek
    // per pair, rather than reading a pool's whole history.
    "WITH RECURSIVE pairs(az, kind) AS ("
    "(SELECT az, kind FROM price_observations WHERE tenant_id = $1 AND region = $2 "
    "AND instance_type = $3 ORDER BY az, kind LIMIT 1) "
    "UNION ALL "
    "SELECT n.az, n.kind FROM pairs p, LATERAL (SELECT az, kind FROM price_observations "
    "WHERE tenant_id = $1 AND region = $2 AND instance_type = $3 "
    "AND (az, kind) > (p.az, p.kind) ORDER BY az, kind LIMIT 1) n) "
    "SELECT o.* FROM pairs p, LATERAL (SELECT {price_columns} FROM price_observations "
    "WHERE tenant_id = $1 AND region = $2 AND instance_type = $3 AND az = p.az "
    "AND kind = p.kind ORDER BY observed_at DESC, seq DESC LIMIT 1) o ORDER BY o.az, o.kind",
    "SELECT {price_columns} FROM price_observations WHERE tenant_id = $1 ORDER BY seq",
    // Every (region, type, AZ) of the tenant, by the same kind of skip scan.
    "WITH RECURSIVE series(region, instance_type, az) AS ("
    "(SELECT region, instance_type, az FROM price_observations WHERE tenant_id = $1 "
    "ORDER BY region, instance_type, az LIMIT 1) "
    "UNION ALL "
    "SELECT n.region, n.instance_type, n.az FROM series s, LATERAL ("
    "SELECT region, instance_type, az FROM price_observations WHERE tenant_id = $1 "
    "AND (region, instance_type, az) > (s.region, s.instance_type, s.az) "
    "ORDER BY region, instance_type, az LIMIT 1) n) "
    "SELECT region, instance_type, az FROM series ORDER BY region, instance_type, az",
    "DELETE FROM price_observations WHERE seq = ANY($1::bigint[])",
    // Switches.
    "SELECT doc FROM switches WHERE id = $1",
    "INSERT INTO switches (id, tenant_id, agent_id, created_at, doc) VALUES ($1, $2, $3, $4, $5) "
    "ON CONFLICT (id) DO NOTHING",
    "UPDATE switches SET tenant_id = $2, agent_id = $3, created_at = $4, doc = $5 WHERE id = $1",
    "SELECT doc FROM switches WHERE agent_id = $1 ORDER BY created_at, id",
    // Cleanup logs.
    "INSERT INTO cleanup_logs (id, tenant_id, agent_id, received_at, doc) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    "SELECT doc FROM cleanup_logs WHERE agent_id = $1 ORDER BY received_at, id",
    // Run segments. An update only ever sets ended_at (and the doc); the caller has
    // compared the rest with the stored record.
    "SELECT doc FROM run_segments WHERE id = $1",
    "INSERT INTO run_segments (id, tenant_id, agent_id, instance_id, role, started_at, ended_at, "
    "doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    "UPDATE run_segments SET ended_at = $7, doc = $8 WHERE id = $1 AND tenant_id = $2 "
    "AND agent_id = $3 AND instance_id = $4 AND role = $5 AND started_at = $6",
    "SELECT doc FROM run_segments WHERE agent_id = $1 AND instance_id = $2 AND ended_at IS NULL "
    "ORDER BY role <> '{primary_role}' LIMIT 1",
    "SELECT doc FROM run_segments WHERE agent_id = $1 ORDER BY started_at, id",
    "SELECT doc FROM run_segments WHERE tenant_id = $1 ORDER BY started_at, id",
    // The decision log. A record and its agent's head are written by one statement,
    // the head only when the record is new.
    "SELECT doc, seq FROM decisions WHERE id = $1",
    "SELECT nextval('decisions_seq')",
    "WITH d AS (INSERT INTO decisions (id, tenant_id, agent_id, decided_at, doc, seq) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING agent_id, seq) "
    "INSERT INTO decision_heads (agent_id, seq, key) SELECT agent_id, seq, $7 FROM d "
    "ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, key = excluded.key",
    "SELECT doc, seq FROM decisions WHERE agent_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    "SELECT doc, seq FROM decisions WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    "SELECT agent_id, seq, key FROM decision_heads ORDER BY agent_id",
    "DELETE FROM decisions WHERE decided_at < $1 AND seq NOT IN (SELECT seq FROM decision_heads)",
};

}  // namespace

std::string StatementSql(Stmt stmt) { return sql::FormatSql(kStatements[stmt]); }

}  // namespace spotopt::pg
